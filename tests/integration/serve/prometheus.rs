//! A real Prometheus (Debian's, started by the test, 1 s scrape interval) scraping
//! `prodcheck serve` on 127.0.0.1 for a good and a bad service; the examples through promtool.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use prodcheck::demo::pki;

use super::*;

/// An instant query against Prometheus' HTTP API: the `result` array.
fn prom_query(port: u16, expr: &str) -> Vec<serde_json::Value> {
    let q: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Vec::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let (_, body) = exchange(&mut s, &format!("/api/v1/query?query={q}"), &[]);
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["data"]["result"].as_array().cloned())
        .unwrap_or_default()
}

/// A real Prometheus scraping the exporter every second for each environment, with the
/// shipped example's relabelling (instance = checklist/env).
fn prometheus(exporter_port: u16, envs: &[&str]) -> Option<ServerProcess> {
    let binary = require_binary("prometheus", "prometheus")?;
    let dir = tempfile::tempdir().expect("prometheus dir");
    let port = closed_port();
    let config = dir.path().join("prometheus.yml");
    let mut text =
        String::from("global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n");
    for env in envs {
        text.push_str(&format!(
            "  - job_name: prodcheck-{env}\n    metrics_path: /probe\n    params: {{ checklist: [svc], env: [{env}] }}\n    static_configs: [{{ targets: ['127.0.0.1:{exporter_port}'] }}]\n    relabel_configs:\n      - {{ source_labels: [__param_checklist, __param_env], separator: /, target_label: instance }}\n"
        ));
    }
    std::fs::write(&config, text).expect("config");
    let log = dir.path().join("prometheus.log");
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start prometheus");
    let mut server = ServerProcess {
        child,
        port,
        dir,
        stop_signal: "-TERM",
    };
    server.wait_listening(Duration::from_secs(30), &log);
    Some(server)
}

/// The one series `expr` returns, once it has one, as (labels, value).
fn wait_series(prom: u16, expr: &str) -> (serde_json::Value, f64) {
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
    let p = project(&[("good", &good), ("bad", &bad)], &ca);
    let serve = exporter(&p, &["--timeout-offset", "100ms"]);
    let Some(prom) = prometheus(serve.port, &["good", "bad"]) else {
        return;
    };
    let port = prom.port;
    // The series arrive through Prometheus' API, labelled as the scrape config says.
    let (labels, _) = wait_series(
        port,
        r#"prodcheck_item_status{env="good",item="health",status="pass"} == 1"#,
    );
    assert_eq!(labels["instance"], "svc/good", "{labels}");
    assert_eq!(labels["checklist"], "svc");
    assert_eq!(labels["severity"], "critical");
    wait_series(
        port,
        r#"prodcheck_item_status{env="bad",item="health",status="fail"} == 1"#,
    );
    wait_series(
        port,
        r#"prodcheck_item_status{env="good",item="cert",status="pass"} == 1"#,
    );
    wait_series(
        port,
        r#"prodcheck_item_status{env="bad",item="cert",status="fail"} == 1"#,
    );
    let (_, good_days) = wait_series(
        port,
        r#"(prodcheck_certificate_expiry_timestamp_seconds{env="good",item="cert"} - time()) / 86400"#,
    );
    let (_, bad_days) = wait_series(
        port,
        r#"(prodcheck_certificate_expiry_timestamp_seconds{env="bad",item="cert"} - time()) / 86400"#,
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
        r#"prodcheck_latency_seconds{env="good",item="speed",quantile="0.95"}"#,
    );
    assert!(p95 > 0.0 && p95 < 5.0, "p95 {p95}");
    wait_series(
        port,
        r#"prodcheck_http_response_seconds{env="good",item="health"}"#,
    );
    let (_, good_code) = wait_series(port, r#"prodcheck_run_exit_code{env="good"} == 0"#);
    let (_, bad_code) = wait_series(port, r#"prodcheck_run_exit_code{env="bad"} == 1"#);
    assert_eq!((good_code, bad_code), (0.0, 1.0));
    wait_series(port, r#"up{job="prodcheck-good"} == 1"#);
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
