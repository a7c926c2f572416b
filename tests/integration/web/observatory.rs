//! One case per Observatory header family through a real HTTPS server: the rules ported from
//! the Observatory's own suite (checks/src/web/observatory/cases) hold end to end.

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::routing::any;
use serde_json::Value;

use crate::support::*;
use crate::web::headers::{Tls, run_item, tls};

/// A route answering with these header lines (repeats stay separate lines) and body.
fn route(
    app: Router,
    path: &str,
    lines: &'static [(&'static str, &'static str)],
    body: &'static str,
) -> Router {
    app.route(
        path,
        any(move || async move {
            let mut headers = HeaderMap::new();
            for (name, value) in lines {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    headers.append(n, v);
                }
            }
            (headers, body)
        }),
    )
}

const HTML: (&str, &str) = ("content-type", "text/html; charset=utf-8");

fn app() -> Router {
    let app = Router::new();
    let app = route(
        app,
        "/hsts-short",
        &[("strict-transport-security", "max-age=86400")],
        "ok",
    );
    let app = route(
        app,
        "/csp-meta",
        &[HTML, ("content-security-policy", "default-src http:")],
        r#"<html><head><meta http-equiv="Content-Security-Policy" content="default-src https:"></head></html>"#,
    );
    let app = route(
        app,
        "/csp-dup",
        &[(
            "content-security-policy",
            "default-src 'none'; default-src 'none'",
        )],
        "ok",
    );
    let app = route(
        app,
        "/frames",
        &[
            ("x-frame-options", "SAMEORIGIN, SAMEORIGIN"),
            ("x-content-type-options", "nosniff"),
        ],
        "ok",
    );
    let app = route(
        app,
        "/referrer",
        &[HTML, ("referrer-policy", "unsafe-url")],
        r#"<html><head><meta name="referrer" content="no-referrer, same-origin">
        <meta http-equiv="Cross-Origin-Resource-Policy" content="same-origin"></head></html>"#,
    );
    let app = route(
        app,
        "/cross-origin",
        &[
            (
                "cross-origin-opener-policy",
                "same-origin; report-to=\"coop\"",
            ),
            ("cross-origin-embedder-policy", "Require-Corp"),
            ("cross-origin-resource-policy", "same-origin"),
            ("cross-origin-resource-policy", "cross-origin"),
        ],
        "ok",
    );
    let app = route(
        app,
        "/coop-twice",
        &[
            ("cross-origin-opener-policy", "same-origin"),
            ("cross-origin-opener-policy", "unsafe-none"),
        ],
        "ok",
    );
    let app = route(
        app,
        "/cookies",
        &[
            ("set-cookie", "SESSIONID=s3cr3t; Path=/; Secure; HttpOnly"),
            ("set-cookie", "heroku-session-affinity=abc; Path=/"),
        ],
        "ok",
    );
    route(
        app,
        "/public",
        &[("access-control-allow-origin", "*")],
        "{}",
    )
}

struct Site {
    p: Project,
    t: Tls,
    server: AppServer,
}

fn site() -> Site {
    let p = Project::new();
    let t = tls(&p);
    let server = AppServer::start_tls(app(), t.config.clone());
    Site { p, t, server }
}

impl Site {
    /// Runs `probe` on `path` (with the test CA) and returns the item.
    fn run(&self, probe: &str, path: &str, extra: &str) -> Value {
        let (_, it) = run_item(
            &self.p,
            &format!(
                "{probe}: {{ url: \"{}\", ca_file: \"{}\"{extra} }}",
                self.server.https_url(path),
                self.t.ca.display()
            ),
        );
        it
    }

    /// (result, modifier) of the `header` finding of security_headers on `path`.
    fn graded(&self, path: &str, header: &str) -> (String, i64) {
        let it = self.run("security_headers", path, ", min_grade: F");
        let f = it["evidence"]["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["header"] == header))
            .unwrap_or_else(|| panic!("no {header} finding: {it}"));
        (
            f["result"].as_str().unwrap_or_default().to_string(),
            f["modifier"].as_i64().unwrap_or_default(),
        )
    }
}

fn pair(result: &str, modifier: i64) -> (String, i64) {
    (result.to_string(), modifier)
}

#[test]
fn hsts_short_max_age_and_unverified_certificate() {
    let s = site();
    assert_eq!(
        s.graded("/hsts-short", "Strict-Transport-Security"),
        pair("hsts-implemented-max-age-less-than-six-months", -10)
    );
    // Without the test CA the certificate does not verify: no grade, and the message says why.
    let (_, it) = run_item(
        &s.p,
        &format!(
            "security_headers: {{ url: \"{}\" }}",
            s.server.https_url("/hsts-short")
        ),
    );
    assert_eq!(it["status"], "error", "{it}");
    assert!(item_message(&it).contains("hsts-invalid-cert"), "{it}");
}

#[test]
fn csp_header_and_meta_intersect_and_duplicates_are_invalid() {
    let s = site();
    assert_eq!(
        s.graded("/csp-meta", "Content-Security-Policy"),
        pair("csp-implemented-with-no-unsafe-default-src-none", 10)
    );
    assert_eq!(
        s.graded("/csp-dup", "Content-Security-Policy"),
        pair("csp-header-invalid", -25)
    );
}

#[test]
fn frame_options_sent_twice_is_invalid() {
    let s = site();
    assert_eq!(
        s.graded("/frames", "X-Frame-Options"),
        pair("x-frame-options-header-invalid", -20)
    );
    assert_eq!(
        s.graded("/frames", "X-Content-Type-Options"),
        pair("x-content-type-options-nosniff", 0)
    );
}

#[test]
fn referrer_meta_wins_and_corp_meta_is_ignored() {
    let s = site();
    assert_eq!(
        s.graded("/referrer", "Referrer-Policy"),
        pair("referrer-policy-private", 5)
    );
    assert_eq!(
        s.graded("/referrer", "Cross-Origin-Resource-Policy"),
        pair("corp-not-implemented", 0)
    );
}

#[test]
fn cross_origin_policies_are_structured_fields_sent_once() {
    let s = site();
    assert_eq!(
        s.graded("/cross-origin", "Cross-Origin-Opener-Policy"),
        pair("coop-implemented-with-same-origin", 10)
    );
    assert_eq!(
        s.graded("/cross-origin", "Cross-Origin-Embedder-Policy"),
        pair("coep-header-invalid", -5)
    );
    assert_eq!(
        s.graded("/cross-origin", "Cross-Origin-Resource-Policy"),
        pair("corp-header-invalid", -5)
    );
    assert_eq!(
        s.graded("/coop-twice", "Cross-Origin-Opener-Policy"),
        pair("coop-header-invalid", -5)
    );
}

#[test]
fn cookies_ignore_load_balancer_affinity() {
    let s = site();
    assert_eq!(
        s.graded("/cookies", "Set-Cookie"),
        pair("cookies-secure-with-httponly-sessions", 0)
    );
    let it = s.run("cookies", "/cookies", "");
    assert_eq!(it["status"], "pass", "{it}");
    assert_eq!(
        it["evidence"]["result"],
        "cookies-secure-with-httponly-sessions"
    );
    let ignored = it["evidence"]["cookies"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "heroku-session-affinity"))
        .map(|c| c["result"].clone());
    assert_eq!(ignored, Some(Value::from("ignored")), "{it}");
    assert!(
        !it.to_string().contains("s3cr3t"),
        "cookie values are redacted: {it}"
    );
}

#[test]
fn cors_wildcard_is_public_access_not_safety() {
    let s = site();
    let it = s.run("cors", "/public", "");
    assert_eq!(it["status"], "pass", "{it}");
    assert!(
        item_message(&it).contains("lets every origin read the response without credentials"),
        "{it}"
    );
    assert!(!item_message(&it).contains("none of"), "{it}");
    assert_eq!(
        it["evidence"]["result"],
        "cross-origin-resource-sharing-implemented-with-public-access"
    );
    let it = s.run(
        "cors",
        "/public",
        ", allowed_origins: [\"https://app.example\"]",
    );
    assert_eq!(it["status"], "warn", "{it}");
    assert!(
        item_message(&it).contains("you listed allowed origins, yet everyone is allowed"),
        "{it}"
    );
}
