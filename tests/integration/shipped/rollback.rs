//! The shipped rollback triggers against a real Prometheus scraping a local service whose
//! counters the test controls: a healthy release with no 5xx series and a release with no
//! traffic at all must pass (no rollback); a release answering 5xx must fail.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::support::*;

/// What the fake API's `/metrics` exposes on each scrape.
#[derive(Clone, Copy)]
enum Traffic {
    /// 2xx requests only: no 5xx series exists at all.
    HealthyNoErrors,
    /// Counters exist but never move.
    None,
    /// Half of all requests answer 500.
    HalfErrors,
}

/// A service exposing `http_requests_total`, advancing its counters on every scrape.
fn metrics_app(traffic: Traffic) -> AppServer {
    let scrapes = Arc::new(AtomicU64::new(0));
    AppServer::start(Router::new().route(
        "/metrics",
        get(move || {
            let n = scrapes.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                let (ok, errors) = match traffic {
                    Traffic::HealthyNoErrors => (n * 100, None),
                    Traffic::None => (500, Some(0)),
                    Traffic::HalfErrors => (n * 50, Some(n * 50)),
                };
                // Every instance runs the version being deployed (the deploy trigger joins on it).
                let mut text = String::from("app_build_info{version=\"1.4.2\"} 1\n");
                text.push_str("# TYPE http_requests_total counter\n");
                text.push_str(&format!("http_requests_total{{status=\"200\"}} {ok}\n"));
                if let Some(e) = errors {
                    text.push_str(&format!("http_requests_total{{status=\"500\"}} {e}\n"));
                }
                text
            }
        }),
    ))
}

/// A real Prometheus scraping `target` as job `api` every second.
fn prometheus_scraping(target: u16) -> Option<ServerProcess> {
    prometheus_scraping_jobs(&[("api", &[target])])
}

/// Runs one shipped rollback trigger against `prom` and returns its JSON item.
fn trigger(checklist: &str, id: &str, prom: &ServerProcess) -> serde_json::Value {
    let url = format!("http://127.0.0.1:{}", prom.port);
    let p = Project::new();
    let ran = run(p.cmd().args([
        "run",
        checklist,
        "--only",
        id,
        "--non-interactive",
        "--var",
        &format!("prometheus_url={url}"),
        "--var",
        "api_job=api",
        "--var",
        "version=1.4.2",
        "--report",
        "json",
    ]));
    item(&json(&ran), id).clone()
}

/// Whether `rate(http_requests_total[5m])` already has a sample (two scrapes stored).
fn rate_answered(url: &str) -> bool {
    prometheus_says(url, "rate(http_requests_total%5B5m%5D)", r#""result":[{"#)
}

/// A node exporter stand-in: memory `used` of 100 bytes in use, CPU idle `idle` of 1 s/s.
fn node_app(used: u64, idle_per_scrape: u64) -> AppServer {
    let scrapes = Arc::new(AtomicU64::new(0));
    AppServer::start(Router::new().route(
        "/metrics",
        get(move || {
            let n = scrapes.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                format!(
                    "node_memory_MemTotal_bytes 100\nnode_memory_MemAvailable_bytes {}\n\
                     node_cpu_seconds_total{{cpu=\"0\",mode=\"idle\"}} {}\n",
                    100 - used,
                    n * idle_per_scrape
                )
            }
        }),
    ))
}

/// One saturated host among healthy ones must not hide in an average.
#[test]
fn host_usage_items_see_the_one_saturated_host() {
    // Scrapes come every second; `idle_per_scrape` of 0 is a CPU that is never idle.
    let busy = node_app(96, 0);
    let calm = [node_app(10, 1), node_app(10, 1), node_app(10, 1)];
    let ports: Vec<u16> = std::iter::once(&busy)
        .chain(calm.iter())
        .map(port_of)
        .collect();
    let Some(prom) = prometheus_scraping_jobs(&[("node", &ports)]) else {
        return;
    };
    let url = format!("http://127.0.0.1:{}", prom.port);
    let four = wait_until(Duration::from_secs(30), || {
        prometheus_says(
            &url,
            "count(rate(node_cpu_seconds_total%5B5m%5D))",
            r#""4"]"#,
        )
    });
    assert!(
        four,
        "Prometheus did not get two scrapes of all four hosts in 30 s"
    );
    let p = Project::new();
    let ran = run(p.cmd().args([
        "run",
        "post-deploy",
        "--only",
        "cpu-usage",
        "--only",
        "memory-usage",
        "--non-interactive",
        "--var",
        &format!("prometheus_url={url}"),
        "--var",
        "node_job=node",
        "--report",
        "json",
    ]));
    let report = json(&ran);
    for id in ["cpu-usage", "memory-usage"] {
        let it = item(&report, id);
        assert_eq!(it["status"], "fail", "{id} missed the saturated host: {it}");
    }
}

fn scenario(traffic: Traffic) -> Vec<(String, serde_json::Value)> {
    let app = metrics_app(traffic);
    let target = port_of(&app);
    let Some(prom) = prometheus_scraping(target) else {
        return Vec::new();
    };
    let url = format!("http://127.0.0.1:{}", prom.port);
    assert!(
        wait_until(Duration::from_secs(30), || rate_answered(&url)),
        "Prometheus recorded no rate for the fake API within 30 s"
    );
    [
        ("deploy", "rollback-5xx-rate"),
        ("post-deploy", "rollback-error-rate"),
    ]
    .iter()
    .map(|(checklist, id)| (id.to_string(), trigger(checklist, id, &prom)))
    .collect()
}

#[test]
fn rollback_triggers_pass_a_healthy_release_without_a_5xx_series() {
    for (id, it) in scenario(Traffic::HealthyNoErrors) {
        assert_eq!(it["status"], "pass", "{id} ordered a rollback: {it}");
    }
}

#[test]
fn rollback_triggers_pass_a_release_with_no_traffic() {
    for (id, it) in scenario(Traffic::None) {
        assert_eq!(it["status"], "pass", "{id} ordered a rollback: {it}");
    }
}

#[test]
fn rollback_triggers_fire_on_a_release_answering_5xx() {
    for (id, it) in scenario(Traffic::HalfErrors) {
        assert_eq!(it["status"], "fail", "{id} missed the errors: {it}");
        assert!(
            it["message"].as_str().unwrap_or_default().contains("0.5"),
            "{id}: {it}"
        );
    }
}

/// A service exporting `app_build_info{version=…}` as the test sets it (`None`: no such metric).
fn build_info_app(version: Arc<std::sync::Mutex<Option<&'static str>>>) -> AppServer {
    AppServer::start(Router::new().route(
        "/metrics",
        get(move || {
            let v = *version.lock().unwrap_or_else(|e| e.into_inner());
            async move {
                match v {
                    Some(v) => format!("app_build_info{{version=\"{v}\"}} 1\nup_marker 1\n"),
                    None => "up_marker 1\n".to_string(),
                }
            }
        }),
    ))
}

/// Waits (at most 30 s) until Prometheus holds `query`'s expected answer.
fn prometheus_answers(url: &str, query: &str, expected: &str) -> bool {
    wait_until(Duration::from_secs(30), || {
        prometheus_says(url, query, expected)
    })
}

/// The rollout items against a real Prometheus: no instance on the new version yet is 0 % and
/// says so (not "no series"), every instance on it passes, and a service that exports no build
/// info at all is "no series", not 0 %.
#[test]
fn rollout_items_read_no_new_instance_as_zero_and_a_missing_metric_as_no_data() {
    let version = Arc::new(std::sync::Mutex::new(Some("1.4.1")));
    let app = build_info_app(version.clone());
    let Some(prom) = prometheus_scraping(port_of(&app)) else {
        return;
    };
    let url = format!("http://127.0.0.1:{}", prom.port);
    let rollout = |ids: &[&str]| {
        let p = Project::new();
        let mut cmd = p.cmd();
        cmd.args(["run", "deploy", "--non-interactive", "--report", "json"])
            .args(["--var", &format!("prometheus_url={url}")])
            .args(["--var", "api_job=api", "--var", "version=1.4.2"])
            .args(["--var", "rollout_wait=1s"]);
        for id in ids {
            cmd.args(["--only", id]);
        }
        json(&run(&mut cmd))
    };
    let ids = [
        "canary-version-live",
        "rollout-10-percent",
        "rollout-complete",
    ];
    let message = |report: &serde_json::Value, id: &str| {
        item(report, id)["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    assert!(
        prometheus_answers(&url, "app_build_info", "1.4.1"),
        "Prometheus did not scrape the old version within 30 s"
    );
    let report = rollout(&ids);
    for id in ids {
        assert_eq!(item(&report, id)["status"], "fail", "{}", item(&report, id));
        assert!(
            message(&report, id).contains("found 0"),
            "{id}: {}",
            message(&report, id)
        );
    }

    *version.lock().unwrap_or_else(|e| e.into_inner()) = Some("1.4.2");
    assert!(
        prometheus_answers(&url, "app_build_info", "1.4.2"),
        "Prometheus did not scrape the new version within 30 s"
    );
    // The old series goes stale at once (the target no longer exports it).
    let report = rollout(&ids);
    for id in ids {
        assert_eq!(item(&report, id)["status"], "pass", "{}", item(&report, id));
    }

    *version.lock().unwrap_or_else(|e| e.into_inner()) = None;
    assert!(
        prometheus_answers(
            &url,
            "up_marker%20unless%20on()%20app_build_info",
            "up_marker"
        ),
        "the build info did not go stale within 30 s"
    );
    let report = rollout(&ids);
    for id in ids {
        assert_eq!(item(&report, id)["status"], "fail", "{}", item(&report, id));
        assert!(
            message(&report, id).contains("no series"),
            "{id}: {}",
            message(&report, id)
        );
    }
}
