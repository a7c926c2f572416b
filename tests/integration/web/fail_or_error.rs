//! Fail or error, per HTTP-based kind, when no real answer comes: a refused port, silence, a
//! target that only ever answers 429, a certificate clients reject (the rule is no_answer.rs).

use serde_json::Value;

use crate::support::*;

/// Every HTTP-based kind against `url` (an `http://` URL), one item each.
fn all_kinds(url: &str, timeout: &str) -> String {
    let items = [
        ("http", format!("http: {{ url: \"{url}\" }}")),
        ("headers", format!("security_headers: {{ url: \"{url}\" }}")),
        ("cookies", format!("cookies: {{ url: \"{url}\" }}")),
        (
            "cors",
            format!("cors: {{ url: \"{url}\", allowed_origins: [\"https://app.example\"] }}"),
        ),
        ("redirect", format!("redirect_https: {{ url: \"{url}\" }}")),
        ("exposure", format!("exposure: {{ base_url: \"{url}\" }}")),
        ("auth", format!("auth: {{ urls: [\"{url}admin\"] }}")),
        (
            "latency",
            format!("latency: {{ url: \"{url}\", samples: 5 }}"),
        ),
    ];
    let items: Vec<(&str, &str)> = items.iter().map(|(id, c)| (*id, c.as_str())).collect();
    checklist_of(timeout, &items)
}

fn no_answer(it: &Value) -> Option<&str> {
    it["evidence"]["no_answer"]
        .as_str()
        .or_else(|| it["evidence"]["urls"][0]["no_answer"].as_str())
        .or_else(|| it["evidence"]["paths"][0]["no_answer"].as_str())
}

fn expect(report: &Value, id: &str, status: &str, why: Option<&str>, words: &str) {
    let it = item(report, id);
    assert_eq!(it["status"], status, "{id}: {it}");
    if let Some(why) = why {
        assert_eq!(no_answer(it), Some(why), "{id}: {it}");
    }
    let m = it["message"].as_str().unwrap_or_default();
    assert!(m.contains(words), "{id}: `{words}` not in {m}");
}

#[test]
fn a_refused_port_fails_every_kind_but_redirect_https_passes() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let mut text = all_kinds(&url, "5s");
    text.push_str(&format!(
        "      - id: rl\n        title: rl\n        timeout: 5s\n        check: {{ rate_limit: {{ url: \"{url}\" }} }}\n"
    ));
    let ran = run_checklist(&text);
    let r = json(&ran);
    assert_code!(ran, 1);
    for id in [
        "http", "headers", "cookies", "cors", "exposure", "auth", "latency",
    ] {
        expect(&r, id, "fail", Some("refused"), "refused");
    }
    expect(&r, "rl", "fail", Some("refused"), "could not be reached");
    // Observatory rule: nothing on plain HTTP means no page to redirect.
    expect(
        &r,
        "redirect",
        "pass",
        None,
        "nothing answers on plain HTTP",
    );
}

#[test]
fn silence_fails_http_and_is_an_error_for_content_kinds() {
    let server = RawServer::silent();
    let url = server.url("/");
    let mut text = all_kinds(&url, "2s");
    text.push_str(&format!(
        "      - id: rl\n        title: rl\n        timeout: 4s\n        check: {{ rate_limit: {{ url: \"{url}\", max_requests: 8 }} }}\n"
    ));
    let ran = run_checklist(&text);
    let r = json(&ran);
    assert_code!(ran, 1);
    expect(&r, "http", "fail", Some("timeout"), "timed out");
    for id in ["headers", "cookies", "cors", "redirect", "exposure", "auth"] {
        expect(&r, id, "error", Some("timeout"), "timed out");
    }
    // Latency's own budget check or the fetch path's, whichever notices first: both error.
    expect(&r, "latency", "error", None, "");
    let m = message(&r, "latency");
    assert!(
        m.contains("timeout ran out") || m.contains("timed out"),
        "{m}"
    );
    expect(&r, "rl", "error", None, "timeout ran out");
}

#[test]
fn a_target_that_only_throttles_is_an_error_for_every_kind_never_a_fail() {
    let server = RawServer::respond(
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let url = server.url("/");
    let ran = run_checklist(&all_kinds(&url, "3s"));
    let r = json(&ran);
    assert_code!(ran, 3);
    for id in [
        "http", "headers", "cookies", "cors", "redirect", "exposure", "auth", "latency",
    ] {
        expect(
            &r,
            id,
            "error",
            Some("throttled"),
            "throttled by the target",
        );
    }
    let http = item(&r, "http");
    let m = http["message"].as_str().unwrap_or_default();
    assert!(m.contains("429, Retry-After 1 s"), "{m}");
    // The run waited the advertised second between attempts: a handful of requests, not
    // hundreds (cors alone would send 52).
    let accepted = server.accepted.load(std::sync::atomic::Ordering::Relaxed);
    assert!(accepted <= 40, "{accepted} requests to a throttling host");
}

#[test]
fn a_throttled_rate_limit_target_is_the_property_not_an_error() {
    let server = RawServer::respond(
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let ran = run_checklist(&checklist_of(
        "5s",
        &[(
            "rl",
            &format!("rate_limit: {{ url: \"{}\" }}", server.url("/")),
        )],
    ));
    let r = json(&ran);
    expect(&r, "rl", "pass", None, "throttled at request 1");
}

#[test]
fn a_bare_503_is_an_outage_not_a_throttle() {
    let server = RawServer::respond(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let ran = run_checklist(&checklist_of(
        "5s",
        &[("http", &format!("http: {{ url: \"{}\" }}", server.url("/")))],
    ));
    let r = json(&ran);
    expect(&r, "http", "fail", None, "expected status 2xx, got 503");
}

#[test]
fn a_rejected_certificate_fails_http_and_is_an_error_for_content_kinds() {
    checks::install_crypto_provider();
    let leaf = prodcheck::demo::pki::self_signed_leaf(&["localhost"], 90).expect("leaf");
    let tls = prodcheck::demo::pki::server_config(vec![leaf.cert_der.clone()], leaf.key())
        .expect("tls config");
    let server = AppServer::start_tls(axum::Router::new(), tls);
    let url = server.https_url("/");
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            ("http", &format!("http: {{ url: \"{url}\" }}")),
            (
                "headers",
                &format!("security_headers: {{ url: \"{url}\" }}"),
            ),
            ("cookies", &format!("cookies: {{ url: \"{url}\" }}")),
        ],
    ));
    let r = json(&ran);
    expect(&r, "http", "fail", Some("tls_rejected"), "certificate");
    expect(&r, "headers", "error", Some("tls_rejected"), "certificate");
    expect(&r, "cookies", "error", Some("tls_rejected"), "certificate");
}

#[test]
fn an_http_item_that_expects_429_judges_it_instead_of_waiting() {
    let server = RawServer::respond(
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let ran = run_checklist(&checklist_of(
        "5s",
        &[(
            "http",
            &format!(
                "http: {{ url: \"{}\", expect: {{ status: 429 }} }}",
                server.url("/")
            ),
        )],
    ));
    let r = json(&ran);
    expect(&r, "http", "pass", None, "answered 429");
    assert_code!(ran, 0);
}
