//! `assert:` expressions and `warn:` levels on `http` and `latency` against an in-test axum
//! server: every operator passing, every operator failing with the actual value in the message.

use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::support::*;

const HEALTH: &str = r#"{"status":"ok","version":"2.4.1","size":"12KiB","checks":{"db":{"latency_ms":42}},
"services":[{"name":"api","status":"up"},{"name":"db","status":"up"}],"tags":["blue","canary"]}"#;
const MIXED: &str = r#"{"services":[{"name":"api","status":"up"},{"name":"db","status":"down"}]}"#;

fn app() -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async {
                (
                    [("content-type", "application/json"), ("x-version", "2.4.1")],
                    HEALTH,
                )
            }),
        )
        .route("/mixed", get(|| async { MIXED }))
        .route("/html", get(|| async { "<html>oops</html>" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "ok"
            }),
        )
}

fn http(url: &str, asserts: &[&str]) -> String {
    let list: Vec<String> = asserts.iter().map(|a| format!("'{a}'")).collect();
    format!("http: {{ url: \"{url}\", assert: [{}] }}", list.join(", "))
}

#[test]
fn every_operator_holds_on_a_healthy_answer_and_evidence_shows_actual_values() {
    let server = AppServer::start(app());
    let url = server.url("/health");
    let asserts = [
        "/checks/db/latency_ms < 50",
        "/checks/db/latency_ms <= 42",
        "/checks/db/latency_ms > 10",
        "/checks/db/latency_ms >= 42",
        "/status == ok",
        "/status != down",
        r"/version matches ^2\.",
        "/tags contains canary",
        "/checks/db exists",
        "/error absent",
        "/services every /status == up",
        "/services any /name == db",
        "$.checks.db.latency_ms == 42",
        "/size <= 12KiB",
        "status == 200",
        "header X-Version == 2.4.1",
        "header Server absent",
        "body contains latency_ms",
        "time < 5s",
    ];
    let ran = run_checklist(&checklist_of("5s", &[("ok", &http(&url, &asserts))]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let it = item(&report, "ok");
    assert_eq!(it["status"], "pass", "{it}");
    let evidence = it["evidence"]["assertions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(evidence.len(), asserts.len(), "{it}");
    assert_eq!(evidence[0]["actual"], 42);
    assert_eq!(evidence[6]["actual"], "2.4.1");
    assert_eq!(evidence[10]["actual"], serde_json::json!(["up", "up"]));
    assert!(evidence.iter().all(|a| a["status"] == "pass"), "{it}");
}

#[test]
fn each_failing_operator_says_what_it_found() {
    let server = AppServer::start(app());
    let (health, mixed, html) = (
        server.url("/health"),
        server.url("/mixed"),
        server.url("/html"),
    );
    let cases: [(&str, &str, &str, &str); 13] = [
        ("lt", &health, "/checks/db/latency_ms < 40", "found 42"),
        ("le", &health, "/checks/db/latency_ms <= 41", "found 42"),
        ("gt", &health, "/checks/db/latency_ms > 100", "found 42"),
        ("ge", &health, "/checks/db/latency_ms >= 43", "found 42"),
        ("eq", &health, "/status == degraded", r#"found "ok""#),
        ("ne", &health, "/status != ok", r#"found "ok""#),
        (
            "matches",
            &health,
            r"/version matches ^3\.",
            r#"found "2.4.1", which does not match"#,
        ),
        (
            "contains",
            &health,
            "/tags contains green",
            r#"found ["blue","canary"]"#,
        ),
        (
            "exists",
            &health,
            "/checks/cache exists",
            "`/checks/cache` is not there",
        ),
        (
            "absent",
            &health,
            "header X-Version absent",
            r#"found "2.4.1""#,
        ),
        (
            "every",
            &mixed,
            "/services every /status == up",
            r#"element 1: `/status == up`: found "down""#,
        ),
        (
            "any",
            &mixed,
            "/services any /status == maintenance",
            r#"found "up", "down""#,
        ),
        ("notjson", &html, "/status == ok", "the body is not JSON"),
    ];
    let items: Vec<(&str, String)> = cases
        .iter()
        .map(|(id, url, a, _)| (*id, http(url, &[a])))
        .collect();
    let refs: Vec<(&str, &str)> = items.iter().map(|(i, c)| (*i, c.as_str())).collect();
    let ran = run_checklist(&checklist_of("5s", &refs));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    for (id, _, _, shows) in cases {
        let it = item(&report, id);
        assert_eq!(it["status"], "fail", "{id}: {it}");
        let m = message(&report, id);
        assert!(m.contains(shows), "{id}: message lacks `{shows}`: {m}");
    }
    let any = item(&report, "any");
    assert_eq!(
        any["evidence"]["assertions"][0]["actual"],
        serde_json::json!(["up", "down"])
    );
}

#[test]
fn warn_levels_report_how_close_the_value_came() {
    let server = AppServer::start(app());
    let slow = server.url("/slow");
    let health = server.url("/health");
    let ran = run_checklist(&checklist_of(
        "10s",
        &[
            (
                "max-latency",
                &format!(
                    "http: {{ url: \"{slow}\", expect: {{ max_latency: {{ fail: 2s, warn: 100ms }} }} }}"
                ),
            ),
            ("time", &http(&slow, &["time < 2s warn 100ms"])),
            (
                "db",
                &http(&health, &["/checks/db/latency_ms < 50 warn 40"]),
            ),
            (
                "p95",
                &format!(
                    "latency: {{ url: \"{slow}\", samples: 3, warmup: 0, p95: {{ fail: 5s, warn: 100ms }} }}"
                ),
            ),
            (
                "calm",
                &format!(
                    "http: {{ url: \"{health}\", expect: {{ max_latency: {{ fail: 5s, warn: 4s }} }} }}"
                ),
            ),
        ],
    ));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    for id in ["max-latency", "time", "db", "p95"] {
        assert_eq!(
            item(&report, id)["status"],
            "warn",
            "{id}: {}",
            item(&report, id)
        );
    }
    assert_eq!(item(&report, "calm")["status"], "pass");
    let m = message(&report, "max-latency");
    assert!(m.contains("degraded: took 3"), "{m}");
    assert!(m.contains("% of the 2 s limit (warn level 100 ms)"), "{m}");
    let m = message(&report, "db");
    assert!(m.contains("42, 84% of the 50 limit (warn level 40)"), "{m}");
    let m = message(&report, "p95");
    assert!(
        m.contains("degraded: p95 3") && m.contains("of the 5 s limit"),
        "{m}"
    );
}

#[test]
fn a_failing_level_beats_a_warn_level() {
    let server = AppServer::start(app());
    let slow = server.url("/slow");
    let ran = run_checklist(&checklist_of(
        "10s",
        &[(
            "slow",
            &format!(
                "http: {{ url: \"{slow}\", expect: {{ max_latency: {{ fail: 200ms, warn: 100ms }} }} }}"
            ),
        )],
    ));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(item(&report, "slow")["status"], "fail");
    assert!(message(&report, "slow").contains("over max_latency 200 ms"));
}
