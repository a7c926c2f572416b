//! The `latency` probe against a server with a known delay distribution and error fraction.
//! Percentiles are asserted within a tolerance; nothing asserts how fast anything runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::Value;

use crate::support::*;

/// Any 20 consecutive requests to `/delays` get 17 × 10 ms, 2 × 200 ms and 1 × 400 ms;
/// any 10 consecutive requests to `/errors` get exactly one 500. `/slow` takes a second.
struct Shaped {
    server: AppServer,
    hits: Arc<AtomicUsize>,
}

impl Shaped {
    fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let (h1, h2, h3) = (hits.clone(), hits.clone(), hits.clone());
        let app = Router::new()
            .route(
                "/delays",
                get(move || {
                    let n = h1.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let ms = match n % 20 {
                            17 | 18 => 200,
                            19 => 400,
                            _ => 10,
                        };
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        "ok\n"
                    }
                }),
            )
            .route(
                "/errors",
                get(move || {
                    let n = h2.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n % 10 == 9 {
                            (StatusCode::INTERNAL_SERVER_ERROR, "boom\n")
                        } else {
                            (StatusCode::OK, "ok\n")
                        }
                    }
                }),
            )
            .route(
                "/slow",
                get(move || {
                    h3.fetch_add(1, Ordering::SeqCst);
                    async {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        "ok\n"
                    }
                }),
            );
        Shaped {
            server: AppServer::start(app),
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Runs one `latency` item; returns the exit code and the item of the JSON report.
fn run_item(timeout: &str, params: &str) -> (i32, Value) {
    let ran = run_checklist(
        &Checklist::new("t")
            .item(
                Item::check_block("lat", "latency", params)
                    .title("Latency")
                    .timeout(timeout),
            )
            .build(),
    );
    let report = json(&ran);
    (ran.code, item(&report, "lat").clone())
}

fn ms(it: &Value, key: &str) -> f64 {
    it["evidence"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("evidence `{key}` missing: {it}"))
}

/// Lower bounds are exact (a sleep never ends early); the upper bounds only keep the
/// delay classes apart, with room for a loaded machine.
fn assert_shape(it: &Value) {
    let (p50, p95, p99, max) = (
        ms(it, "p50_ms"),
        ms(it, "p95_ms"),
        ms(it, "p99_ms"),
        ms(it, "max_ms"),
    );
    assert!((10.0..190.0).contains(&p50), "p50 {p50}: {it}");
    assert!((200.0..390.0).contains(&p95), "p95 {p95}: {it}");
    assert!((400.0..1500.0).contains(&p99), "p99 {p99}: {it}");
    assert!(max >= p99, "{it}");
}

#[test]
fn traffic_latency_percentiles_match_the_delay_distribution() {
    let s = Shaped::start();
    let (code, it) = run_item(
        "30s",
        &format!(
            "            url: {}\n            p95: 500ms\n            p99: 2s\n            max_error_rate: 5\n",
            s.server.url("/delays")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    assert_shape(&it);
    assert_eq!(it["evidence"]["sample_count"], 20);
    assert_eq!(it["evidence"]["error_rate"], 0.0);
    assert_eq!(s.hits(), 21, "20 samples and 1 warm-up request");
    assert!(item_message(&it).contains("20 samples, p50 "), "{it}");
}

#[test]
fn traffic_latency_names_each_threshold_crossed() {
    let s = Shaped::start();
    let (code, it) = run_item(
        "30s",
        &format!(
            "            url: {}\n            p95: 100ms\n            max: 300ms\n",
            s.server.url("/delays")
        ),
    );
    assert_code!((code, &it), 1);
    assert_eq!(it["status"], "fail");
    let m = item_message(&it);
    assert!(m.contains("p95 ") && m.contains(" over 100 ms"), "{m}");
    assert!(m.contains("; max ") && m.contains(" over 300 ms"), "{m}");
    let crossed = m.split(" (").next().unwrap_or_default();
    assert!(!crossed.contains("p50") && !crossed.contains("p99"), "{m}");
    assert_shape(&it);
}

#[test]
fn traffic_latency_error_rate_counts_5xx() {
    let s = Shaped::start();
    let (code, it) = run_item(
        "30s",
        &format!(
            "            url: {}\n            max_error_rate: 5\n",
            s.server.url("/errors")
        ),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("error rate 10.0% over 5%"),
        "{it}"
    );
    assert_eq!(it["evidence"]["errors"], 2);
    assert_eq!(it["evidence"]["error_rate"], 10.0);
    assert_eq!(it["evidence"]["statuses"]["500"], 2);

    let (code, it) = run_item(
        "30s",
        &format!(
            "            url: {}\n            max_error_rate: 15\n",
            s.server.url("/errors")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass");

    // A warn level under the failing one: 10% warns, saying how close it came to 15%.
    let (code, it) = run_item(
        "30s",
        &format!(
            "            url: {}\n            max_error_rate: {{ fail: 15, warn: 5 }}\n",
            s.server.url("/errors")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "warn", "{it}");
    assert!(
        item_message(&it)
            .contains("degraded: error rate 10%, 67% of the 15% limit (warn level 5%)"),
        "{it}"
    );

    let (code, it) = run_item(
        "30s",
        &format!("            url: {}\n", s.server.url("/errors")),
    );
    assert_code!((code, &it), 0);
    assert_eq!(
        it["status"], "warn",
        "errors without a threshold warn: {it}"
    );
    assert!(
        item_message(&it).contains("2 of 20 samples were errors"),
        "{it}"
    );
}

#[test]
fn traffic_latency_concurrent_sampling_sends_exactly_the_samples() {
    let s = Shaped::start();
    let (code, it) = run_item(
        "30s",
        &format!(
            "            url: {}\n            samples: 40\n            concurrency: 4\n            warmup: 0\n            p99: 5s\n",
            s.server.url("/delays")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["evidence"]["sample_count"], 40);
    assert_eq!(s.hits(), 40);
    // 40 samples: 34 × 10 ms, 4 × 200 ms, 2 × 400 ms → p95 is the 38th, p99 the 40th.
    assert!(ms(&it, "p95_ms") >= 200.0, "{it}");
    assert!(ms(&it, "p99_ms") >= 400.0, "{it}");
}

#[test]
fn traffic_latency_unreachable_target_fails_by_the_no_answer_rule() {
    // A refused port is the target's answer (no_answer.rs: Refused × Content = fail), with or
    // without `max_error_rate`; it is never a warning.
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/");
    for extra in ["max_error_rate: 5", "p95: 1s"] {
        let it = assert_item(
            run_item(
                "10s",
                &format!("            url: {url}\n            samples: 5\n            {extra}\n"),
            ),
            1,
            "fail",
            "no sample answered",
        );
        assert!(
            item_message(&it).contains("error rate 100.0%")
                || item_message(&it).contains("refused"),
            "{it}"
        );
        assert_eq!(it["evidence"]["no_answer"], "refused", "{it}");
    }
}

#[test]
fn traffic_latency_the_item_timeout_bounds_sampling() {
    let s = Shaped::start();
    let (code, it) = run_item(
        "1500ms",
        &format!(
            "            url: {}\n            samples: 1000\n            p95: 5s\n",
            s.server.url("/slow")
        ),
    );
    assert_code!((code, &it), 3);
    assert!(
        item_message(&it).contains("item timeout ran out after"),
        "{it}"
    );
    assert!(item_message(&it).contains("of 1000 samples"), "{it}");
    assert!(s.hits() < 10, "{}", s.hits());
}

#[test]
fn traffic_latency_parameters_are_validated_at_the_field() {
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        "name: t\nsections:\n  - name: S\n    items:\n      - id: lat\n        title: Latency\n        check:\n          latency:\n            url: http://127.0.0.1:1/\n            samples: 1001\n            concurrency: 0\n            max_error_rate: 150\n            p50: 1s\n            p95: 500ms\n",
    );
    p.case()
        .args(["validate", file.to_str().unwrap_or_default()])
        .code(2)
        .stderr_has("c.yaml:10:")
        .stderr_has("between 1 and 1000")
        .stderr_has("c.yaml:11:")
        .stderr_has("c.yaml:12:")
        .stderr_has("percentage between 0 and 100")
        .stderr_has("c.yaml:14:")
        .stderr_has("a higher percentile cannot be faster")
        .run();
}

#[test]
fn traffic_latency_ad_hoc_uses_yaml_names() {
    let s = Shaped::start();
    let ran = run(prodcheck().args([
        "probe",
        "latency",
        &format!("url={}", s.server.url("/errors")),
        "samples=10",
        "warmup=0",
        "max_error_rate=20",
    ]));
    assert_code!(ran, 0);
    assert!(ran.stdout.contains("10 samples"), "{}", ran.stdout);
    assert_eq!(s.hits(), 10);
}
