//! Proxies as a CI runner behind a corporate proxy has them, against a real tinyproxy on
//! 127.0.0.1: the environment's `HTTP_PROXY` is honoured, `NO_PROXY` bypasses it, `--proxy`
//! overrides both, and the evidence names the proxy with its credentials redacted. What went
//! through the proxy is read from tinyproxy's own log.

use axum::Router;
use axum::routing::get;

use crate::support::*;

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("port")
}

#[test]
fn environment_proxies_are_honoured_and_no_proxy_bypasses_them() {
    let Some(proxy) = start_tinyproxy() else {
        return;
    };
    let app = AppServer::start(Router::new().route("/health", get(|| async { "ok" })));
    let url = app.url("/health");
    let app_port = port_of(&url);
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let p = Project::new();
    p.file(
        "c.yaml",
        &checklist_of("5s", &[("health", &format!(r#"http: {{ url: "{url}" }}"#))]),
    );
    let go = |env: &[(&str, &str)], flags: &[&str]| {
        let mut cmd = p.cmd();
        for (k, v) in env {
            cmd.env(k, v);
        }
        let ran = run(cmd.args(["run", "c.yaml", "--report", "json"]).args(flags));
        assert_code!(ran, 0, "{env:?} {flags:?}");
        item(&json(&ran), "health").clone()
    };

    // HTTP_PROXY: the request goes through the proxy, and the evidence says so.
    let it = go(&[("HTTP_PROXY", &proxy_url)], &[]);
    assert_eq!(proxied_to(&proxy, app_port), 1, "{it}");
    assert_eq!(it["evidence"]["proxy"], format!("{proxy_url}/"), "{it}");

    // NO_PROXY for the target: straight there.
    let it = go(
        &[("HTTP_PROXY", &proxy_url), ("NO_PROXY", "127.0.0.1")],
        &[],
    );
    assert_eq!(proxied_to(&proxy, app_port), 1, "bypassed: {it}");
    assert!(it["evidence"].get("proxy").is_none(), "{it}");

    // `--proxy none` turns the environment's proxy off.
    let it = go(&[("HTTP_PROXY", &proxy_url)], &["--proxy", "none"]);
    assert_eq!(proxied_to(&proxy, app_port), 1, "direct: {it}");

    // `--proxy URL` with credentials: used without any environment, password never shown.
    let with_credentials = format!("http://ops:pr0xy-secret@127.0.0.1:{}", proxy.port);
    let mut cmd = p.cmd();
    let ran = run(cmd.args([
        "run",
        "c.yaml",
        "--proxy",
        &with_credentials,
        "--report",
        "json",
    ]));
    assert_code!(ran, 0);
    assert_eq!(proxied_to(&proxy, app_port), 2);
    assert!(!ran.stdout.contains("pr0xy-secret") && !ran.stderr.contains("pr0xy-secret"));
    // The evidence names the proxy without its credentials.
    assert_eq!(
        item(&json(&ran), "health")["evidence"]["proxy"],
        format!("http://127.0.0.1:{}/", proxy.port)
    );
}

#[test]
fn a_proxy_that_refuses_is_an_error_not_a_failure() {
    let app = AppServer::start(Router::new().route("/health", get(|| async { "ok" })));
    let p = Project::new();
    p.file(
        "c.yaml",
        &checklist_of(
            "3s",
            &[
                (
                    "health",
                    &format!(r#"http: {{ url: "{}" }}"#, app.url("/health")),
                ),
                (
                    "burst",
                    &format!(
                        r#"rate_limit: {{ url: "{}", max_requests: 5 }}"#,
                        app.url("/health")
                    ),
                ),
            ],
        ),
    );
    let dead_proxy = format!("http://127.0.0.1:{}", closed_port());
    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--proxy", &dead_proxy, "--report", "json"]));
    // The burst has its own client: the same rule holds there.
    let burst = item(&json(&ran), "burst").clone();
    assert_eq!(burst["status"], "error", "{burst}");
    let it = item(&json(&ran), "health").clone();
    assert_eq!(it["status"], "error", "{it}");
    assert_code!(ran, 3, "{it}");
    assert!(
        it["message"].as_str().unwrap_or_default().contains("proxy"),
        "{it}"
    );
}
