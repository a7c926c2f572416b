//! `security_headers` against an in-process server and a real nginx (good, missing and weak
//! headers), plus the helpers the other `web::*` modules share (one-item runs, a test CA).

use std::path::PathBuf;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use serde_json::Value;

use crate::support::*;

/// Runs a checklist with one item `probe` whose `check:` is the flow-style `check` text.
pub fn run_item(p: &Project, check: &str) -> (i32, Value) {
    let file = p.file(
        "c.yaml",
        &Checklist::new("t")
            .item(Item::check("probe", check).title("Probe").timeout("10s"))
            .build(),
    );
    let ran = p.run_json(&file);
    assert!(ran.stderr.is_empty() || ran.code != 2, "{}", ran.stderr);
    let report = json(&ran);
    (ran.code, item(&report, "probe").clone())
}

/// A test CA and a `localhost` leaf written into the project (PEM files for nginx).
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub config: rustls::ServerConfig,
}

pub fn tls(p: &Project) -> Tls {
    checks::install_crypto_provider();
    let pki = prodcheck::demo::pki::Pki::new("web test CA").expect("CA");
    let leaf = pki.leaf_for_days(&["localhost"], 90).expect("leaf");
    let key_pem = rcgen::KeyPair::try_from(leaf.key_der.secret_pkcs8_der())
        .expect("key")
        .serialize_pem();
    let config = prodcheck::demo::pki::server_config(vec![leaf.cert_der.clone()], leaf.key())
        .expect("tls config");
    Tls {
        ca: p.file("ca.pem", &pki.ca_pem),
        cert: p.file("cert.pem", &leaf.cert_pem),
        key: p.file("key.pem", &key_pem),
        config,
    }
}

/// The finding for `header` in a security_headers item.
fn finding<'a>(it: &'a Value, header: &str) -> &'a Value {
    it["evidence"]["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["header"] == header))
        .unwrap_or_else(|| panic!("no finding for {header}: {it}"))
}

fn app() -> Router {
    Router::new()
        .route(
            "/strong",
            get(|| async {
                (
                    [
                        (
                            "strict-transport-security",
                            "max-age=63072000; includeSubDomains",
                        ),
                        (
                            "content-security-policy",
                            "default-src 'none'; frame-ancestors 'none'",
                        ),
                        ("x-content-type-options", "nosniff"),
                        ("referrer-policy", "no-referrer"),
                        ("cross-origin-opener-policy", "same-origin"),
                        ("permissions-policy", "camera=()"),
                    ],
                    "ok",
                )
            }),
        )
        .route("/bare", get(|| async { "ok" }))
        .route(
            "/meta",
            get(|| async {
                (
                    [("content-type", "text/html; charset=utf-8")],
                    r#"<html><head><meta http-equiv="Content-Security-Policy" content="default-src 'self'; frame-ancestors 'none'"></head></html>"#,
                )
            }),
        )
        .route("/moved", get(|| async { Redirect::permanent("/strong") }))
}

#[test]
fn strong_headers_over_https_grade_a_plus() {
    let p = Project::new();
    let t = tls(&p);
    let server = AppServer::start_tls(app(), t.config.clone());
    let (code, it) = run_item(
        &p,
        &format!(
            "security_headers: {{ url: \"{}\", min_grade: A, ca_file: \"{}\" }}",
            server.https_url("/strong"),
            t.ca.display()
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass");
    assert_eq!(it["evidence"]["grade"], "A+");
    // 100 + 10 (CSP default-src 'none') + 5 (frame-ancestors) + 5 (referrer) + 10 (COOP).
    assert_eq!(it["evidence"]["score"], 130);
    assert_eq!(finding(&it, "Strict-Transport-Security")["status"], "pass");
    assert!(item_message(&it).contains("grade A+ (score 130)"), "{it}");
}

#[test]
fn bare_page_fails_and_names_the_worst_header() {
    let server = AppServer::start(app());
    let p = Project::new();
    let (code, it) = run_item(
        &p,
        &format!("security_headers: {{ url: \"{}\" }}", server.url("/bare")),
    );
    assert_code!((code, &it), 1);
    assert_eq!(it["status"], "fail");
    assert_eq!(it["evidence"]["score"], 30);
    assert_eq!(it["evidence"]["grade"], "D");
    let msg = item_message(&it);
    assert!(
        msg.contains("grade D (score 30) is below min_grade B"),
        "{msg}"
    );
    assert!(
        msg.contains("worst: Content-Security-Policy missing"),
        "{msg}"
    );
    let xfo = finding(&it, "X-Frame-Options");
    assert_eq!(xfo["status"], "fail");
    assert_eq!(xfo["modifier"], -20);
    assert!(
        xfo["message"]
            .as_str()
            .unwrap_or_default()
            .contains("X-Frame-Options: DENY")
    );
    assert_eq!(finding(&it, "Permissions-Policy")["status"], "warn");
}

#[test]
fn required_headers_fail_whatever_the_grade() {
    let server = AppServer::start(app());
    let p = Project::new();
    let (code, it) = run_item(
        &p,
        &format!(
            "security_headers: {{ url: \"{}\", min_grade: F, require: [x-content-type-options, x-frame-options] }}",
            server.url("/bare")
        ),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it)
            .contains("required header(s) missing: x-content-type-options, x-frame-options"),
        "{it}"
    );
}

#[test]
fn redirects_are_reported_not_silently_followed() {
    let p = Project::new();
    let t = tls(&p);
    let server = AppServer::start_tls(app(), t.config.clone());
    let base = format!(
        "url: \"{}\", min_grade: F, ca_file: \"{}\"",
        server.https_url("/moved"),
        t.ca.display()
    );
    let it = assert_item(
        run_item(&p, &format!("security_headers: {{ {base} }}")),
        0,
        "warn",
        "308 redirect to `/strong`",
    );
    assert!(item_message(&it).contains("follow_redirects: true"), "{it}");
    let (code, it) = run_item(
        &p,
        &format!("security_headers: {{ {base}, follow_redirects: true }}"),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass");
    assert_eq!(it["evidence"]["grade"], "A+");
}

#[test]
fn bad_parameters_are_load_errors() {
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        "name: t\nsections:\n  - name: S\n    items:\n      - id: probe\n        title: Probe\n        check: { security_headers: { url: \"http://127.0.0.1/\", min_grade: E } }\n",
    );
    p.case()
        .args(["validate", file.to_str().unwrap_or_default()])
        .code(2)
        .stderr_has("invalid grade `E`")
        .run();
}

#[test]
fn nginx_good_missing_and_weak_headers() {
    let p = Project::new();
    let t = tls(&p);
    let ssl = format!(
        "ssl_certificate {}; ssl_certificate_key {};",
        t.cert.display(),
        t.key.display()
    );
    let conf = format!(
        r#"
server {{ listen 127.0.0.1:{{PORT0}} ssl; {ssl} server_tokens off;
  add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
  add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" always;
  add_header X-Content-Type-Options nosniff always;
  add_header Referrer-Policy no-referrer always;
  add_header Permissions-Policy "camera=()" always;
  location / {{ return 200 "good"; }} }}
server {{ listen 127.0.0.1:{{PORT1}};
  location / {{ return 200 "missing"; }} }}
server {{ listen 127.0.0.1:{{PORT2}} ssl; {ssl}
  add_header Strict-Transport-Security "max-age=300" always;
  add_header Content-Security-Policy "default-src 'self'; script-src 'self' 'unsafe-inline'" always;
  add_header X-Frame-Options ALLOWALL always;
  add_header X-Content-Type-Options nosniff always;
  location / {{ return 200 "weak"; }} }}
"#
    );
    let Some(nginx) = Nginx::start(3, &conf) else {
        return;
    };
    let ca = t.ca.display();
    let https = |i: usize| format!("https://localhost:{}/", nginx.ports[i]);

    let (code, it) = run_item(
        &p,
        &format!(
            "security_headers: {{ url: \"{}\", ca_file: \"{ca}\" }}",
            https(0)
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["evidence"]["grade"], "A+", "{it}");
    assert_eq!(it["evidence"]["score"], 120);
    assert_eq!(finding(&it, "Server")["status"], "pass");

    let (code, it) = run_item(
        &p,
        &format!("security_headers: {{ url: \"{}\" }}", nginx.url(1, "/")),
    );
    assert_code!((code, &it), 1);
    assert_eq!(it["evidence"]["grade"], "D");
    let hsts = finding(&it, "Strict-Transport-Security");
    assert!(
        hsts["message"]
            .as_str()
            .unwrap_or_default()
            .contains("plain HTTP"),
        "{hsts}"
    );
    let server = finding(&it, "Server");
    assert_eq!(server["status"], "warn");
    assert!(
        server["message"]
            .as_str()
            .unwrap_or_default()
            .contains("server_tokens off"),
        "{server}"
    );

    let (code, it) = run_item(
        &p,
        &format!(
            "security_headers: {{ url: \"{}\", ca_file: \"{ca}\" }}",
            https(2)
        ),
    );
    assert_code!((code, &it), 1);
    assert_eq!(it["status"], "fail");
    assert_eq!(it["evidence"]["score"], 50);
    assert_eq!(it["evidence"]["grade"], "C");
    assert!(item_message(&it).contains("below min_grade B"), "{it}");
    let hsts = finding(&it, "Strict-Transport-Security");
    assert_eq!(hsts["modifier"], -10);
    assert!(
        hsts["message"]
            .as_str()
            .unwrap_or_default()
            .contains("max-age=300 is under 15552000"),
        "{hsts}"
    );
    let csp = finding(&it, "Content-Security-Policy");
    assert_eq!(csp["status"], "fail");
    assert!(
        csp["message"]
            .as_str()
            .unwrap_or_default()
            .contains("'unsafe-inline'"),
        "{csp}"
    );
    let xfo = finding(&it, "X-Frame-Options");
    assert_eq!(
        (xfo["status"].as_str(), xfo["modifier"].as_i64()),
        (Some("fail"), Some(-20))
    );
    assert!(
        xfo["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`ALLOWALL` is not valid"),
        "{xfo}"
    );
}

#[test]
fn csp_in_a_meta_tag_counts_except_for_framing() {
    let server = AppServer::start(app());
    let (code, it) = run_item(
        &Project::new(),
        &format!(
            "security_headers: {{ url: \"{}\", min_grade: F }}",
            server.url("/meta")
        ),
    );
    assert_code!((code, &it), 0);
    let csp = finding(&it, "Content-Security-Policy");
    assert_eq!(
        (csp["status"].as_str(), csp["modifier"].as_i64()),
        (Some("pass"), Some(5)),
        "{csp}"
    );
    assert_eq!(finding(&it, "X-Frame-Options")["modifier"], -20);
    assert_eq!(it["evidence"]["csp"]["insecure_base_uri"], true);
    assert_eq!(it["evidence"]["csp"]["anti_clickjacking"], false);
}
