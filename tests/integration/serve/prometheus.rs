//! A real Prometheus (Debian's, started by the test, 1 s intervals) running the shipped scrape
//! config and rules against `prodcheck serve` on 127.0.0.1 for a good (production) and a bad
//! (staging) service; the shipped examples through promtool.

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use prodcheck::demo::pki;

use super::*;

/// An instant query against Prometheus' HTTP API: its whole JSON answer.
pub(super) fn prom_answer(port: u16, expr: &str) -> serde_json::Value {
    let q: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return serde_json::Value::Null;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let (_, body) = exchange(&mut s, &format!("/api/v1/query?query={q}"), &[]);
    serde_json::from_str(&body).unwrap_or_default()
}

/// An instant query: the `result` array.
pub(super) fn prom_query(port: u16, expr: &str) -> Vec<serde_json::Value> {
    prom_answer(port, expr)["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Every PromQL expression of the shipped Grafana dashboard.
fn dashboard_queries() -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus/grafana-dashboard.json");
    let text = std::fs::read_to_string(path).expect("dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().cloned().unwrap_or_default();
    panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect()
}

/// A real Prometheus running the shipped `examples/prometheus/prometheus.yml` and its
/// `rules.yml`, changed only where a test must: the exporter's address, the checklist (`svc`),
/// and 1 s intervals.
fn prometheus(exporter_port: u16) -> Option<ServerProcess> {
    prometheus_with(exporter_port, &[])
}

/// As [`prometheus`], with more `(from, to)` replacements in the example config (each `from`
/// must be in it).
pub(super) fn prometheus_with(exporter_port: u16, more: &[(&str, &str)]) -> Option<ServerProcess> {
    let binary = require_binary("prometheus", "prometheus")?;
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus");
    let dir = tempfile::tempdir().expect("prometheus dir");
    let port = closed_port();
    let mut text = std::fs::read_to_string(examples.join("prometheus.yml")).expect("example");
    for (from, to) in [
        ("127.0.0.1:9187", format!("127.0.0.1:{exporter_port}")),
        ("checklist: [maintenance]", "checklist: [svc]".to_string()),
        ("scrape_interval: 1m", "scrape_interval: 1s".to_string()),
        (
            "evaluation_interval: 1m",
            "evaluation_interval: 1s".to_string(),
        ),
        ("scrape_timeout: 30s", "scrape_timeout: 1s".to_string()),
    ]
    .into_iter()
    .chain(more.iter().map(|(f, t)| (*f, t.to_string())))
    {
        assert!(text.contains(from), "the example no longer has `{from}`");
        text = text.replace(from, &to);
    }
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, text).expect("config");
    std::fs::copy(examples.join("rules.yml"), dir.path().join("rules.yml")).expect("rules");
    let server = launch_prometheus(&binary, dir, port, &config);
    Some(server)
}

/// The one series `expr` returns, once it has one, as (labels, value).
pub(super) fn wait_series(prom: u16, expr: &str) -> (serde_json::Value, f64) {
    let mut last = Vec::new();
    let found = wait_until(Duration::from_secs(60), || {
        last = prom_query(prom, expr);
        last.len() == 1
    });
    assert!(
        found,
        "`{expr}` never had exactly one series; last answer: {last:?}"
    );
    let value = last[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    (last[0]["metric"].clone(), value)
}

#[test]
fn prometheus_scrapes_the_good_and_the_bad_service() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let bad = service(&ca, 500, 10);
    let p = project(&[("production", &good), ("staging", &bad)], &ca);
    let serve = exporter(&p, &["--timeout-offset", "100ms"]);
    let Some(prom) = prometheus(serve.port) else {
        return;
    };
    let port = prom.port;
    // The series arrive through Prometheus' API, labelled as the scrape config says.
    let (labels, _) = wait_series(
        port,
        r#"prodcheck_item_status{env="production",item="health",status="pass"} == 1"#,
    );
    assert_eq!(labels["instance"], "svc/production", "{labels}");
    assert_eq!(labels["checklist"], "svc");
    assert_eq!(labels["severity"], "critical");
    wait_series(
        port,
        r#"prodcheck_item_status{env="staging",item="health",status="fail"} == 1"#,
    );
    wait_series(
        port,
        r#"prodcheck_item_status{env="production",item="cert",status="pass"} == 1"#,
    );
    wait_series(
        port,
        r#"prodcheck_item_status{env="staging",item="cert",status="fail"} == 1"#,
    );
    let (_, good_days) = wait_series(
        port,
        r#"(prodcheck_certificate_expiry_timestamp_seconds{env="production",item="cert"} - time()) / 86400"#,
    );
    let (_, bad_days) = wait_series(
        port,
        r#"(prodcheck_certificate_expiry_timestamp_seconds{env="staging",item="cert"} - time()) / 86400"#,
    );
    assert!(
        (89.0..=90.0).contains(&good_days),
        "good certificate: {good_days} days"
    );
    assert!(
        (9.0..=10.0).contains(&bad_days),
        "bad certificate: {bad_days} days"
    );
    let (_, p95) = wait_series(
        port,
        r#"prodcheck_latency_seconds{env="production",item="speed",quantile="0.95"}"#,
    );
    assert!(p95 > 0.0 && p95 < 5.0, "p95 {p95}");
    wait_series(
        port,
        r#"prodcheck_http_response_seconds{env="production",item="health"}"#,
    );
    let (_, good_code) = wait_series(port, r#"prodcheck_run_exit_code{env="production"} == 0"#);
    let (_, bad_code) = wait_series(port, r#"prodcheck_run_exit_code{env="staging"} == 1"#);
    assert_eq!((good_code, bad_code), (0.0, 1.0));
    wait_series(port, r#"up{job="prodcheck"} == 1"#);
    // The example's blackbox-style job (targets are environment names) and its exporter job.
    wait_series(
        port,
        r#"up{job="prodcheck-environments",instance="svc/staging"} == 1"#,
    );
    wait_series(
        port,
        r#"prodcheck_exporter_runs_total{job="prodcheck-exporter",checklist="svc",env="staging"} > 0"#,
    );
    // The shipped rules, evaluated by Prometheus on what the exporter answered: the bad
    // service's certificate alert fires at once, its failing health check is pending (15m).
    wait_series(
        port,
        r#"ALERTS{alertname="ProdcheckCertificateExpiring",env="staging",item="cert",alertstate="firing"}"#,
    );
    wait_series(
        port,
        r#"ALERTS{alertname="ProdcheckGatingItemFailing",env="staging",item="health",alertstate="pending"}"#,
    );
    // The dashboard's queries are valid PromQL and find series (dashboard variables: all).
    for expr in dashboard_queries() {
        let expr = expr.replace("$checklist", ".*").replace("$env", ".*");
        let answer = prom_answer(port, &expr);
        assert_eq!(
            answer["status"], "success",
            "dashboard query `{expr}`: {answer}"
        );
        if !expr.contains("security_headers") {
            // rate() needs two scrapes of the exporter job.
            let found = wait_until(Duration::from_secs(30), || {
                !prom_query(port, &expr).is_empty()
            });
            assert!(found, "dashboard query `{expr}` finds nothing");
        }
    }
    let calm = prom_query(
        port,
        r#"ALERTS{env="production",alertname=~"ProdcheckGatingItemFailing|ProdcheckCertificateExpiring"}"#,
    );
    assert!(calm.is_empty(), "the good service alerted: {calm:?}");
    // Scrapes ran neither the disruptive probe nor the manual item: no series for them, and
    // the services never saw a request on /burst.
    for item in ["burst", "runbook"] {
        let series = prom_query(port, &format!(r#"prodcheck_item_status{{item="{item}"}}"#));
        assert!(series.is_empty(), "{item} appeared: {series:?}");
    }
    assert_eq!(
        good.hits.load(Ordering::SeqCst) + bad.hits.load(Ordering::SeqCst),
        0
    );
}

#[test]
fn shipped_prometheus_examples_pass_promtool() {
    let Some(promtool) = require_binary("promtool", "prometheus") else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus");
    for args in [
        vec!["check", "rules", "rules.yml"],
        vec!["test", "rules", "rules_test.yml"],
        vec!["check", "config", "prometheus.yml"],
        vec!["check", "config", "prometheus-shards.yml"],
        vec!["check", "web-config", "web-config.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("promtool");
        assert!(
            out.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every prodcheck metric the rules and the dashboard use is documented in the README.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let dashboard = std::fs::read_to_string(dir.join("grafana-dashboard.json")).expect("dashboard");
    serde_json::from_str::<serde_json::Value>(&dashboard).expect("the dashboard is JSON");
    let rules = std::fs::read_to_string(dir.join("rules.yml")).expect("rules");
    for text in [&dashboard, &rules] {
        for name in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if name.starts_with("prodcheck_") {
                assert!(
                    readme.contains(name),
                    "`{name}` is used in examples/prometheus but not documented in README.md"
                );
            }
        }
    }
}
