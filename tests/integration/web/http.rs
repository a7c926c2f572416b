//! The `http` probe against real servers on 127.0.0.1.

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

use crate::support::*;

fn app() -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"status":"ok","db":{"up":true,"lag":3}}"#,
                )
            }),
        )
        .route(
            "/down",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"degraded"}"#) }),
        )
        .route(
            "/moved",
            get(|| async { axum::response::Redirect::temporary("/health") }),
        )
}

fn one_item(check: &str) -> String {
    Checklist::new("t")
        .item(
            Item::check_lines("probe", check)
                .title("Probe")
                .timeout("2s"),
        )
        .build()
}

#[test]
fn passing_status_json_and_header_expectations() {
    let server = AppServer::start(app());
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &one_item(&format!(
            "          http:\n            url: {}\n            expect:\n              status: 2xx\n              json: {{ /status: ok, /db/up: true, /db/lag: 3 }}\n              headers: {{ content-type: json }}\n              body_contains: degraded-not",
            server.url("/health")
        ))
        .replace("degraded-not", "\"status\""),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 0);
    let report = json(&ran);
    let it = item(&report, "probe");
    assert_eq!(it["status"], "pass");
    assert_eq!(it["evidence"]["status"], 200);
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains("answered 200"),
        "{it}"
    );
}

#[test]
fn wrong_status_fails_and_says_what_came_back() {
    let server = AppServer::start(app());
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &one_item(&format!(
            "          http: {{ url: \"{}\", expect: {{ status: 200 }} }}",
            server.url("/down")
        )),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 1);
    let report = json(&ran);
    let it = item(&report, "probe");
    assert_eq!(it["status"], "fail");
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expected status 200, got 503"),
        "{it}"
    );
    assert_eq!(it["evidence"]["body_start"], r#"{"status":"degraded"}"#);
}

#[test]
fn failing_json_pointer_names_pointer_and_values() {
    let server = AppServer::start(app());
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &one_item(&format!("          http: {{ url: \"{}\", expect: {{ json: {{ /status: healthy, /missing: 1 }} }} }}", server.url("/health"))),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 1);
    let msg = item(&json(&ran), "probe")["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        msg.contains(r#"`/status` is "ok", expected "healthy""#),
        "{msg}"
    );
    assert!(msg.contains("JSON pointer `/missing` not found"), "{msg}");
}

#[test]
fn redirects_are_followed_by_default_and_reported_when_not() {
    let server = AppServer::start(app());
    let p = Project::new();
    let follow = p.file(
        "a.yaml",
        &one_item(&format!(
            "          http: {{ url: \"{}\" }}",
            server.url("/moved")
        )),
    );
    let ran = p
        .case()
        .args([
            "run",
            follow.to_str().unwrap_or_default(),
            "--report",
            "json",
        ])
        .run();
    assert!(
        item(&json(&ran), "probe")["evidence"]["final_url"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/health")
    );
    let stay = p.file(
        "b.yaml",
        &one_item(&format!(
            "          http: {{ url: \"{}\", follow_redirects: false }}",
            server.url("/moved")
        )),
    );
    let ran = p
        .case()
        .args(["run", stay.to_str().unwrap_or_default(), "--report", "json"])
        .code(1)
        .run();
    assert!(
        item(&json(&ran), "probe")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("got 307")
    );
}

#[test]
fn a_server_that_never_answers_fails_within_the_timeout_and_the_run_goes_on() {
    let silent = RawServer::silent();
    let ok = AppServer::start(app());
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &format!(
            "name: t\nsections:\n  - name: S\n    items:\n      - id: silent\n        title: Silent\n        timeout: 1s\n        check: {{ http: {{ url: \"{}\" }} }}\n      - id: fine\n        title: Fine\n        check: {{ http: {{ url: \"{}\" }} }}\n",
            silent.url("/"),
            ok.url("/health")
        ),
    );
    let started = Instant::now();
    let ran = p.run_json(&file);
    let took = started.elapsed();
    assert_code!(ran, 1);
    let report = json(&ran);
    let silent_item = item(&report, "silent");
    assert!(
        matches!(silent_item["status"].as_str(), Some("fail" | "error")),
        "{silent_item}"
    );
    assert!(
        silent_item["message"]
            .as_str()
            .unwrap_or_default()
            .contains("timed out"),
        "{silent_item}"
    );
    assert!(
        silent_item["duration_ms"].as_u64().unwrap_or(u64::MAX) < 2000,
        "{silent_item}"
    );
    assert_status(&report, "fine", "pass");
    // Generous bound on the whole process (start-up included); the item bound is above.
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn connection_refused_fails_naming_the_cause() {
    let port = closed_port();
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &one_item(&format!(
            "          http: {{ url: \"http://127.0.0.1:{port}/\" }}"
        )),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 1);
    let msg = item(&json(&ran), "probe")["message"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        msg.contains("connection refused") || msg.contains("connection failed"),
        "{msg}"
    );
}

#[test]
fn body_reads_stop_at_max_body() {
    static BIG: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n";
    let server = RawServer::start(|mut s| {
        use std::io::{Read, Write};
        let mut buf = [0u8; 2048];
        let _ = s.read(&mut buf);
        let _ = s.write_all(BIG);
        let _ = s.write_all(&vec![b'x'; 100_000]);
    });
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &one_item(&format!(
            "          http: {{ url: \"{}\", max_body: 1KiB }}",
            server.url("/")
        )),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 0);
    let it = item(&json(&ran), "probe").clone();
    assert_eq!(it["evidence"]["body_bytes"], 1024);
    assert_eq!(it["evidence"]["body_truncated"], true);
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains("max_body")
    );
}

#[test]
fn ad_hoc_probe_uses_yaml_parameter_names() {
    let server = AppServer::start(app());
    let ran = run(prodcheck().args([
        "probe",
        "http",
        &format!("url={}", server.url("/health")),
        "expect.json./status=ok",
        "--report",
        "json",
    ]));
    assert_code!(ran, 0);
    let ran = run(prodcheck().args([
        "probe",
        "http",
        &format!("url={}", server.url("/down")),
        "expect.status=200",
    ]));
    assert_code!(ran, 1);
    assert!(
        ran.stdout.contains("expected status 200, got 503"),
        "{}",
        ran.stdout
    );
    let ran = run(prodcheck().args(["probe", "http", "uri=http://x"]));
    assert_code!(ran, 2);
    assert!(ran.stderr.contains("unknown field `uri`"), "{}", ran.stderr);
    assert!(ran.stderr.contains("did you mean `url`?"), "{}", ran.stderr);
}

#[test]
fn https_with_a_private_ca_needs_ca_file() {
    checks::install_crypto_provider();
    let pki = prodcheck::demo::pki::Pki::new("test CA").expect("CA");
    let leaf = pki.leaf_for_days(&["localhost"], 90).expect("leaf");
    let tls = prodcheck::demo::pki::server_config(vec![leaf.cert_der.clone()], leaf.key())
        .expect("tls config");
    let server = AppServer::start_tls(app(), tls);
    let p = Project::new();
    let ca = p.file("ca.pem", &pki.ca_pem);
    let url = server.https_url("/health");
    let ran = run(prodcheck().args([
        "probe",
        "http",
        &format!("url={url}"),
        &format!("ca_file={}", ca.display()),
    ]));
    assert_code!(ran, 0);
    let ran = run(prodcheck().args(["probe", "http", &format!("url={url}"), "--report", "json"]));
    assert_code!(ran, 1, "an unknown CA fails verification");
    let msg = item(&json(&ran), "http")["message"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        msg.contains("certificate") || msg.contains("issuer"),
        "{msg}"
    );
}

#[test]
fn nginx_serves_a_real_health_endpoint() {
    let Some(nginx) = Nginx::start(
        1,
        "server { listen 127.0.0.1:{PORT0}; location = /health { return 200 '{\"status\":\"ok\"}'; } }",
    ) else {
        return;
    };
    let ran = run(prodcheck().args([
        "probe",
        "http",
        &format!("url={}", nginx.url(0, "/health")),
        "expect.json./status=ok",
    ]));
    assert_code!(ran, 0);
}

/// `prodcheck probe` expands `${env:NAME}` as a checklist does, and redacts the value.
#[test]
fn ad_hoc_probe_expands_env_values_and_redacts_them() {
    let server = AppServer::start(axum::Router::new().route(
        "/whoami",
        axum::routing::get(|headers: axum::http::HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_string();
            if auth == "Bearer probe-canary-token" {
                (axum::http::StatusCode::OK, auth)
            } else {
                (axum::http::StatusCode::UNAUTHORIZED, auth)
            }
        }),
    ));
    let ran = run(prodcheck().env("PROBE_TOKEN", "probe-canary-token").args([
        "probe",
        "http",
        &format!("url={}", server.url("/whoami")),
        "headers.Authorization=Bearer ${env:PROBE_TOKEN}",
        "expect.body_contains=Bearer",
        "--report",
        "json",
    ]));
    assert_code!(ran, 0, "the literal text was sent");
    assert!(!ran.stdout.contains("probe-canary-token"), "{}", ran.stdout);
}
