//! `cookies`, `redirect_https`, `exposure` and `auth` against in-process servers and a real
//! nginx (insecure and good cookies, exposed files, an SPA fallback, HTTP with and without redirect).

use axum::Router;
use axum::http::StatusCode;
use axum::response::{AppendHeaders, Redirect};
use axum::routing::get;

use crate::support::*;
use crate::web::headers::{run_item, tls};

fn cookie_app() -> Router {
    Router::new()
        .route(
            "/good",
            get(|| async {
                (
                    [("strict-transport-security", "max-age=63072000")],
                    AppendHeaders([
                        (
                            "set-cookie",
                            "sessionid=s3cr3t; Path=/; Secure; HttpOnly; SameSite=Lax",
                        ),
                        ("set-cookie", "theme=dark; Secure; SameSite=Lax"),
                    ]),
                    "ok",
                )
            }),
        )
        .route(
            "/hsts-mitigated",
            get(|| async {
                (
                    [("strict-transport-security", "max-age=63072000")],
                    AppendHeaders([("set-cookie", "theme=dark; SameSite=Lax")]),
                    "ok",
                )
            }),
        )
        .route(
            "/csrf",
            get(|| async { AppendHeaders([("set-cookie", "csrftoken=t0k3n; Secure")]) }),
        )
}

#[test]
fn cookies_judged_by_observatory_rules_with_values_redacted() {
    let p = Project::new();
    let t = tls(&p);
    let s = AppServer::start_tls(cookie_app(), t.config.clone());
    let ca = t.ca.display();
    let (code, it) = run_item(
        &p,
        &format!(
            "cookies: {{ url: \"{}\", ca_file: \"{ca}\" }}",
            s.https_url("/good")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass");
    assert_eq!(it["evidence"]["modifier"], 5);
    assert!(
        item_message(&it).contains("2 cookie(s) (sessionid, theme)"),
        "{it}"
    );
    assert_eq!(it["evidence"]["cookies"][0]["value"], "***");
    assert!(
        !it.to_string().contains("s3cr3t"),
        "cookie value leaked: {it}"
    );

    assert_item(
        run_item(
            &p,
            &format!(
                "cookies: {{ url: \"{}\", ca_file: \"{ca}\" }}",
                s.https_url("/hsts-mitigated")
            ),
        ),
        0,
        "warn",
        "cookie `theme`: cookie can travel over plain HTTP (HSTS mitigates)",
    );

    let (code, it) = run_item(
        &p,
        &format!(
            "cookies: {{ url: \"{}\", ca_file: \"{ca}\" }}",
            s.https_url("/csrf")
        ),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("cookie `csrftoken`: anti-CSRF cookie without SameSite"),
        "{it}"
    );
}

#[test]
fn nginx_insecure_and_good_cookies() {
    let p = Project::new();
    let t = tls(&p);
    let conf = format!(
        r#"
server {{ listen 127.0.0.1:{{PORT0}};
  location / {{ add_header Set-Cookie "sessionid=abc123; Path=/"; return 200 "insecure"; }} }}
server {{ listen 127.0.0.1:{{PORT1}} ssl; ssl_certificate {}; ssl_certificate_key {};
  location / {{ add_header Set-Cookie "sessionid=abc123; Path=/; Secure; HttpOnly; SameSite=Strict"; return 200 "good"; }} }}
"#,
        t.cert.display(),
        t.key.display()
    );
    let Some(nginx) = Nginx::start(2, &conf) else {
        return;
    };
    let (code, it) = run_item(
        &p,
        &format!("cookies: {{ url: \"{}\" }}", nginx.url(0, "/")),
    );
    assert_code!((code, &it), 1);
    assert_eq!(
        it["evidence"]["result"],
        "cookies-session-without-secure-flag"
    );
    assert!(
        item_message(&it).contains("cookie `sessionid`: session cookie can travel over plain HTTP"),
        "{it}"
    );
    assert!(!it.to_string().contains("abc123"), "{it}");
    let (code, it) = run_item(
        &p,
        &format!(
            "cookies: {{ url: \"https://localhost:{}/\", ca_file: \"{}\" }}",
            nginx.ports[1],
            t.ca.display()
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass");
}

#[test]
fn nginx_http_with_and_without_redirect() {
    let p = Project::new();
    let t = tls(&p);
    let conf = format!(
        r#"
server {{ listen 127.0.0.1:{{PORT0}}; location / {{ return 301 https://localhost:{{PORT2}}$request_uri; }} }}
server {{ listen 127.0.0.1:{{PORT1}}; location / {{ return 200 "plain http"; }} }}
server {{ listen 127.0.0.1:{{PORT2}} ssl; ssl_certificate {}; ssl_certificate_key {};
  location / {{ return 200 "secure"; }} }}
"#,
        t.cert.display(),
        t.key.display()
    );
    let Some(nginx) = Nginx::start(3, &conf) else {
        return;
    };
    let ca = t.ca.display();
    let (code, it) = run_item(
        &p,
        &format!(
            "redirect_https: {{ url: \"http://localhost:{}/login\", ca_file: \"{ca}\" }}",
            nginx.ports[0]
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass");
    assert_eq!(it["evidence"]["result"], "redirection-to-https");
    assert_eq!(it["evidence"]["final_status"], 200);

    let (code, it) = run_item(
        &p,
        &format!("redirect_https: {{ url: \"{}\" }}", nginx.url(1, "/")),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("stays on plain HTTP: no redirect"),
        "{it}"
    );

    // Without the CA the HTTPS hop cannot be verified: an invalid certificate is a fail.
    let (code, it) = run_item(
        &p,
        &format!(
            "redirect_https: {{ url: \"http://localhost:{}/\" }}",
            nginx.ports[0]
        ),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("invalid certificate during the redirects"),
        "{it}"
    );
}

#[test]
fn redirect_off_host_or_through_http_warns() {
    let p = Project::new();
    let t = tls(&p);
    let secure = AppServer::start_tls(
        Router::new().route("/", get(|| async { "secure" })),
        t.config.clone(),
    );
    let to = secure.https_url("/");
    let to2 = to.clone();
    let s = AppServer::start(
        Router::new()
            .route("/detour", get(|| async { Redirect::permanent("/next") }))
            .route(
                "/next",
                get(move || {
                    let to = to.clone();
                    async move { Redirect::permanent(&to) }
                }),
            )
            .route(
                "/off",
                get(move || {
                    let to = to2.clone();
                    async move { Redirect::permanent(&to) }
                }),
            ),
    );
    let ca = t.ca.display();
    assert_item(
        run_item(
            &p,
            &format!(
                "redirect_https: {{ url: \"{}\", ca_file: \"{ca}\" }}",
                s.url("/detour")
            ),
        ),
        0,
        "warn",
        "reaches HTTPS only after a detour",
    );
    let (code, it) = run_item(
        &p,
        &format!(
            "redirect_https: {{ url: \"{}\", ca_file: \"{ca}\" }}",
            s.url("/off")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["evidence"]["result"], "redirection-off-host-from-http");
    assert!(
        item_message(&it).contains("leaves `127.0.0.1` for `localhost`"),
        "{it}"
    );
}

#[test]
fn redirect_detours_and_unreachable_http() {
    let s = AppServer::start(
        Router::new()
            .route("/", get(|| async { Redirect::permanent("/next") }))
            .route(
                "/next",
                get(|| async { Redirect::permanent("https://localhost:1/") }),
            ),
    );
    let p = Project::new();
    let (code, it) = run_item(
        &p,
        &format!("redirect_https: {{ url: \"{}\" }}", s.url("/")),
    );
    // The HTTPS target refuses: the redirect leads nowhere (Refused × Content = fail).
    assert_code!((code, &it), 1);
    assert_eq!(it["status"], "fail");
    assert_eq!(it["evidence"]["no_answer"], "refused", "{it}");

    let port = closed_port();
    let (code, it) = run_item(
        &p,
        &format!("redirect_https: {{ url: \"http://127.0.0.1:{port}/\" }}"),
    );
    assert_code!((code, &it), 0);
    assert!(
        item_message(&it).contains("nothing answers on plain HTTP"),
        "{it}"
    );

    let file = p.file(
        "bad.yaml",
        "name: t\nsections:\n  - name: S\n    items:\n      - id: probe\n        title: Probe\n        check: { redirect_https: { url: \"https://example.com\" } }\n",
    );
    p.case()
        .args(["validate", file.to_str().unwrap_or_default()])
        .code(2)
        .stderr_has("is not a plain-HTTP URL")
        .run();
}

#[test]
fn nginx_exposed_files_and_spa_fallback() {
    let conf = r#"
server { listen 127.0.0.1:{PORT0}; root {DIR}/leaky; }
server { listen 127.0.0.1:{PORT1}; root {DIR}/spa; location / { try_files $uri /index.html; } }
"#;
    let Some(nginx) = Nginx::start(2, conf) else {
        return;
    };
    nginx.write("leaky/index.html", "<html>home</html>");
    nginx.write("leaky/.env", "APP_KEY=base64:abc\nDB_PASSWORD=hunter2\n");
    nginx.write(
        "leaky/.git/config",
        "[core]\n\trepositoryformatversion = 0\n",
    );
    nginx.write("spa/index.html", "<!doctype html><div id=app></div>");
    let p = Project::new();
    let (code, it) = run_item(
        &p,
        &format!("exposure: {{ base_url: \"{}\" }}", nginx.url(0, "")),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("2 exposed: /.env, /.git/config"),
        "{it}"
    );
    assert_eq!(
        it["evidence"]["exposed"],
        serde_json::json!(["/.env", "/.git/config"])
    );

    let (code, it) = run_item(
        &p,
        &format!("exposure: {{ base_url: \"{}/\" }}", nginx.url(1, "")),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass");
    assert_eq!(it["evidence"]["spa_fallback"], true);
    assert!(
        item_message(&it).contains("none of 10 sensitive paths is served"),
        "{it}"
    );
}

#[test]
fn exposure_needs_the_real_content_and_flags_unknown_paths() {
    let s = AppServer::start(
        Router::new()
            .route("/.env", get(|| async { "<html>welcome</html>" }))
            .route("/dump.txt", get(|| async { "some data" })),
    );
    let p = Project::new();
    let (code, it) = run_item(
        &p,
        &format!(
            "exposure: {{ base_url: \"{}\", paths: [/.env] }}",
            s.url("")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    assert_eq!(
        it["evidence"]["paths"][0]["verdict"],
        "served, but not the real content"
    );
    assert_item(
        run_item(
            &p,
            &format!(
                "exposure: {{ base_url: \"{}\", paths: [/.env, /dump.txt] }}",
                s.url("")
            ),
        ),
        0,
        "warn",
        "/dump.txt",
    );
}

fn auth_app() -> Router {
    Router::new()
        .route(
            "/admin",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    [("www-authenticate", "Bearer")],
                    "",
                )
            }),
        )
        .route("/private", get(|| async { StatusCode::FORBIDDEN }))
        .route("/bare401", get(|| async { StatusCode::UNAUTHORIZED }))
        .route("/open", get(|| async { "secret data" }))
}

#[test]
fn auth_requires_refusal_and_names_open_urls() {
    let s = AppServer::start(auth_app());
    let p = Project::new();
    let (code, it) = run_item(
        &p,
        &format!(
            "auth: {{ urls: [\"{}\", \"{}\"] }}",
            s.url("/admin"),
            s.url("/private")
        ),
    );
    assert_code!((code, &it), 0);
    assert!(
        item_message(&it).contains("all 2 endpoint(s) refuse"),
        "{it}"
    );

    assert_item(
        run_item(
            &p,
            &format!(
                "auth: {{ urls: [\"{}\", \"{}\"] }}",
                s.url("/admin"),
                s.url("/open")
            ),
        ),
        1,
        "fail",
        &format!("{} answered 200 without credentials", s.url("/open")),
    );

    let (code, it) = run_item(
        &p,
        &format!("auth: {{ urls: [\"{}\"] }}", s.url("/bare401")),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "warn");
    assert!(item_message(&it).contains("no WWW-Authenticate"), "{it}");

    let file = p.file(
        "bad.yaml",
        "name: t\nsections:\n  - name: S\n    items:\n      - id: probe\n        title: Probe\n        check: { auth: { urls: [] } }\n",
    );
    p.case()
        .args(["validate", file.to_str().unwrap_or_default()])
        .code(2)
        .stderr_has("`urls` is empty")
        .run();
}

/// A login page that sets no cookie proves nothing about session cookies: with
/// `require_cookie` it fails instead of passing "sets no cookies".
#[test]
fn a_page_without_cookies_fails_when_a_cookie_is_required() {
    let server = AppServer::start(Router::new().route("/login", get(|| async { "no cookie" })));
    let url = server.url("/login");
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            ("lenient", &format!(r#"cookies: {{ url: "{url}" }}"#)),
            (
                "required",
                &format!(r#"cookies: {{ url: "{url}", require_cookie: true }}"#),
            ),
        ],
    ));
    let report = json(&ran);
    assert_status(&report, "lenient", "pass");
    assert_status(&report, "required", "fail");
    assert!(
        item(&report, "required")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("sets no cookie")
    );
}

/// A staging site behind basic auth: with `headers` the web probes see the real page (and the
/// credential, from `${env:…}`, never shows); without, they judge the 401 page.
#[test]
fn web_probes_send_the_items_headers() {
    const AUTH: &str = "Basic c3RhZ2luZzpzM2NyZXQ=";
    let app = Router::new().route(
        "/",
        get(|headers: axum::http::HeaderMap| async move {
            let ok = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(AUTH);
            if ok {
                (
                    StatusCode::OK,
                    [
                        (
                            "set-cookie",
                            "__Host-session=x; Path=/; Secure; HttpOnly; SameSite=Lax",
                        ),
                        ("x-content-type-options", "nosniff"),
                    ],
                    "staging",
                )
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    [
                        ("www-authenticate", "Basic realm=staging"),
                        ("x-robots-tag", "none"),
                    ],
                    "log in",
                )
            }
        }),
    );
    let server = AppServer::start(app);
    let url = server.url("/");
    let headers = r#"headers: { Authorization: "${env:STAGING_AUTH}" }"#;
    let text = checklist_of(
        "5s",
        &[
            (
                "cookies-auth",
                &format!(r#"cookies: {{ url: "{url}", require_cookie: true, {headers} }}"#),
            ),
            (
                "cookies-anon",
                &format!(r#"cookies: {{ url: "{url}", require_cookie: true }}"#),
            ),
            (
                "exposure-auth",
                &format!(r#"exposure: {{ base_url: "{url}", paths: [/.env], {headers} }}"#),
            ),
        ],
    );
    let ran = run_checklist_with_env(&text, &[("STAGING_AUTH", AUTH)]);
    let report = json(&ran);
    // With the header the probe sees the authenticated page and its session cookie (judged on
    // its flags: plain HTTP here), without it only the 401 page that sets none.
    assert!(
        item(&report, "cookies-auth")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("__Host-session"),
        "{report}"
    );
    assert_eq!(item(&report, "cookies-anon")["status"], "fail", "{report}");
    assert_ne!(
        item(&report, "exposure-auth")["status"],
        "error",
        "{report}"
    );
    assert!(
        !ran.stdout.contains("c3RhZ2luZzpzM2NyZXQ"),
        "credential leaked"
    );
}

/// With `headers`, `auth` also proves each endpoint accepts the credentials, so a 401 is an
/// auth gate and not an endpoint that refuses everyone.
#[test]
fn auth_with_credentials_tells_a_gate_from_a_broken_endpoint() {
    let app = Router::new()
        .route(
            "/admin",
            get(|headers: axum::http::HeaderMap| async move {
                match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                    Some("Bearer auth-canary-token") => {
                        (StatusCode::OK, [("www-authenticate", "Bearer")], "admin")
                    }
                    _ => (
                        StatusCode::UNAUTHORIZED,
                        [("www-authenticate", "Bearer")],
                        "log in",
                    ),
                }
            }),
        )
        .route("/broken", get(|| async { (StatusCode::FORBIDDEN, "no") }));
    let server = AppServer::start(app);
    let (admin, broken) = (server.url("/admin"), server.url("/broken"));
    let text = checklist_of(
        "5s",
        &[
            (
                "gate",
                &format!(
                    r#"auth: {{ urls: ["{admin}"], headers: {{ Authorization: "Bearer ${{env:API_TOKEN}}" }} }}"#
                ),
            ),
            (
                "broken",
                &format!(
                    r#"auth: {{ urls: ["{broken}"], headers: {{ Authorization: "Bearer ${{env:API_TOKEN}}" }} }}"#
                ),
            ),
            ("plain", &format!(r#"auth: {{ urls: ["{broken}"] }}"#)),
        ],
    );
    let ran = run_checklist_with_env(&text, &[("API_TOKEN", "auth-canary-token")]);
    let report = json(&ran);
    assert_eq!(item(&report, "gate")["status"], "pass", "{report}");
    assert_eq!(item(&report, "broken")["status"], "fail", "{report}");
    assert!(
        item(&report, "broken")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("refuses the authenticated request too (403)"),
        "{report}"
    );
    // Without credentials a 403 is all `auth` can see: it passes, as before.
    assert_eq!(item(&report, "plain")["status"], "pass", "{report}");
    assert!(
        !ran.stdout.contains("auth-canary-token"),
        "credential leaked"
    );
}
