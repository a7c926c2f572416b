//! The shipped PromQL items in every metric convention, against a real Prometheus scraping
//! one healthy and one failing (3 % 5xx, 3 s per request) service per convention, each under
//! a job name of its own (`api_job`): healthy passes, failing fails, and a service instrumented
//! in another convention than the one configured fails "not recorded", naming the convention.

use std::time::Duration;

use crate::support::metrics_app::{self, Exposition};
use crate::support::prometheus_says;
use crate::support::*;

/// Every convention, and one that differs from it (rotated), to configure by mistake.
const CONVENTIONS: &[(&str, &str)] = &[
    ("prometheus", "prometheus-code"),
    ("prometheus-code", "otel"),
    ("otel", "otel-legacy"),
    ("otel-legacy", "micrometer"),
    ("micrometer", "ingress-nginx"),
    ("ingress-nginx", "istio"),
    ("istio", "prometheus"),
];

/// Conventions without a version series: the deploy items that join on it need one named.
fn has_version(convention: &str) -> bool {
    !matches!(convention, "micrometer" | "ingress-nginx")
}

/// Runs `ids` of `checklist` with `convention` for job `job`; the JSON report.
pub fn items(
    prom: &str,
    checklist: &str,
    ids: &[&str],
    job: &str,
    convention: &str,
) -> serde_json::Value {
    let p = Project::new();
    let mut cmd = p.cmd();
    cmd.args(["run", checklist, "--non-interactive", "--report", "json"])
        .args(["--var", &format!("prometheus_url={prom}")])
        .args(["--var", &format!("api_job={job}")])
        .args(["--var", &format!("metrics_convention={convention}")])
        .args(["--var", "version=2.0.0", "--var", "rollout_wait=1s"]);
    for id in ids {
        cmd.args(["--only", id]);
    }
    json(&run(&mut cmd))
}

pub fn status_and_message(report: &serde_json::Value, id: &str) -> (String, String) {
    let it = item(report, id);
    (
        it["status"].as_str().unwrap_or_default().to_string(),
        it["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// A real Prometheus scraping every `(job, ports)` each second, once each target has been
/// scraped three times (so every rate has samples).
pub fn prometheus_with(jobs: &[(String, Vec<u16>)]) -> Option<(ServerProcess, String)> {
    let list: Vec<(&str, &[u16])> = jobs
        .iter()
        .map(|(j, p)| (j.as_str(), p.as_slice()))
        .collect();
    let prom = crate::support::prometheus_scraping_jobs(&list)?;
    let url = format!("http://127.0.0.1:{}", prom.port);
    let targets: usize = jobs.iter().map(|(_, p)| p.len()).sum();
    let ready = wait_until(Duration::from_secs(40), || {
        prometheus_says(
            &url,
            "count(count_over_time(up%5B1m%5D)%20%3E%3D%203)",
            &format!(r#""{targets}"]"#),
        )
    });
    assert!(
        ready,
        "Prometheus did not scrape all {targets} targets three times in 40 s"
    );
    Some((prom, url))
}

const DEPLOY: &[&str] = &[
    "rollback-5xx-rate",
    "rollback-error-rate",
    "rollback-latency-p99",
    "rollback-latency-p95",
    "rollout-complete",
];
const POST_DEPLOY: &[&str] = &["rollback-error-rate", "app-metrics", "latency-metrics"];

#[test]
fn every_convention_passes_healthy_fails_failing_and_a_wrong_convention_is_not_recorded() {
    let mut apps = Vec::new();
    let mut jobs = Vec::new();
    for (c, _) in CONVENTIONS {
        for (kind, e) in [
            ("ok", Exposition::new(c, &format!("shop-{c}-ok"))),
            (
                "bad",
                Exposition::new(c, &format!("shop-{c}-bad"))
                    .errors(0.03)
                    .slow(),
            ),
        ] {
            let e = e.version("2.0.0");
            let job = e.service.clone();
            let app = metrics_app::start(e);
            jobs.push((job, vec![metrics_app::port(&app)]));
            apps.push((c, kind, app));
        }
    }
    let Some((_prom, url)) = prometheus_with(&jobs) else {
        return;
    };
    let mut wrong = Vec::new();
    for (c, other) in CONVENTIONS {
        let ok = format!("shop-{c}-ok");
        let bad = format!("shop-{c}-bad");
        // Healthy: every item passes.
        let mut runs = vec![
            (
                "post-deploy",
                items(&url, "post-deploy", POST_DEPLOY, &ok, c),
                POST_DEPLOY,
            ),
            (
                "maintenance",
                items(&url, "maintenance", &["performance-metrics"], &ok, c),
                &["performance-metrics"][..],
            ),
        ];
        if has_version(c) {
            runs.push(("deploy", items(&url, "deploy", DEPLOY, &ok, c), DEPLOY));
        }
        for (checklist, report, ids) in &runs {
            for id in ids.iter() {
                let (status, message) = status_and_message(report, id);
                assert_eq!(status, "pass", "{c}, healthy, {checklist}/{id}: {message}");
            }
        }
        // Failing: the error-rate and latency items fail; the 5 % trigger holds at 3 %.
        let report = items(&url, "post-deploy", POST_DEPLOY, &bad, c);
        let expected = [
            ("rollback-error-rate", "fail"),
            ("app-metrics", "pass"),
            ("latency-metrics", "pass"),
        ];
        for (id, want) in expected {
            let (status, message) = status_and_message(&report, id);
            assert_eq!(status, want, "{c}, failing, post-deploy/{id}: {message}");
        }
        let (status, message) = status_and_message(&report, "rollback-error-rate");
        assert!(
            (message.contains("found 0.03") || message.contains("found 0.029")),
            "{c}: {status} {message}"
        );
        let report = items(&url, "maintenance", &["performance-metrics"], &bad, c);
        let (status, message) = status_and_message(&report, "performance-metrics");
        assert_eq!(
            status, "fail",
            "{c}, failing, performance-metrics: {message}"
        );
        if has_version(c) {
            let report = items(&url, "deploy", DEPLOY, &bad, c);
            for (id, want) in [
                ("rollback-5xx-rate", "pass"),
                ("rollback-error-rate", "fail"),
                ("rollback-latency-p99", "fail"),
                ("rollback-latency-p95", "fail"),
                ("rollout-complete", "pass"),
            ] {
                let (status, message) = status_and_message(&report, id);
                assert_eq!(status, want, "{c}, failing, deploy/{id}: {message}");
            }
        }
        // The service in `c`, configured as `other`: no trigger may pass.
        let mut runs = vec![(
            "post-deploy",
            items(&url, "post-deploy", &["rollback-error-rate"], &ok, other),
        )];
        if has_version(other) {
            runs.push((
                "deploy",
                items(&url, "deploy", &["rollback-error-rate"], &ok, other),
            ));
        }
        for (checklist, report) in runs {
            let (status, message) = status_and_message(&report, "rollback-error-rate");
            assert_eq!(
                status, "fail",
                "{c} read as {other}, {checklist}: {message}"
            );
            assert!(
                message.contains("is not recorded")
                    && message.contains(&format!("metrics_convention `{other}`")),
                "{c} read as {other}, {checklist}: {message}"
            );
            wrong.push(message);
        }
    }
    assert!(!wrong.is_empty());
    drop(apps);
}

/// A canary with 5 % errors beside an old fleet serving ten times its traffic without any: the
/// fleet-wide ratio (0.45 %) would pass a 1 % trigger; judged on the new version's instances
/// (joined on `target_info`, or on Istio's own `destination_version`) it fails. A fault both
/// versions share (3 % each) is not the release's: the trigger holds.
#[test]
fn the_deploy_triggers_judge_the_new_versions_instances_against_the_rest() {
    let fleet = |c: &'static str, job: &str, old_errors: f64, new_errors: f64| {
        let old = Exposition::new(c, job)
            .version("1.0.0")
            .errors(old_errors)
            .requests_per_scrape(10_000);
        let new = Exposition::new(c, job).version("2.0.0").errors(new_errors);
        (metrics_app::start(old), metrics_app::start(new))
    };
    let diluted = [
        ("otel", fleet("otel", "fleet-otel", 0.0, 0.05)),
        ("istio", fleet("istio", "fleet-istio", 0.0, 0.05)),
    ];
    let shared = fleet("prometheus", "fleet-shared", 0.03, 0.03);
    let mut jobs: Vec<(String, Vec<u16>)> = diluted
        .iter()
        .map(|(c, (old, new))| {
            (
                format!("fleet-{c}"),
                vec![metrics_app::port(old), metrics_app::port(new)],
            )
        })
        .collect();
    jobs.push((
        "fleet-shared".into(),
        vec![metrics_app::port(&shared.0), metrics_app::port(&shared.1)],
    ));
    let Some((_prom, url)) = prometheus_with(&jobs) else {
        return;
    };
    // What the old whole-fleet query saw: under 1 %, a pass.
    assert!(
        prometheus_says(
            &url,
            "sum(rate(http_server_request_duration_seconds_count%7Bjob%3D%22fleet-otel%22%2Chttp_response_status_code%3D~%225..%22%7D%5B5m%5D))%20%2F%20sum(rate(http_server_request_duration_seconds_count%7Bjob%3D%22fleet-otel%22%7D%5B5m%5D))%20%3C%200.01",
            r#""result":[{"#,
        ),
        "the fleet-wide 5xx ratio should be diluted under 1 %"
    );
    for (c, _) in &diluted {
        let job = format!("fleet-{c}");
        let ids = [
            "rollback-error-rate",
            "rollout-50-percent",
            "rollout-complete",
        ];
        let report = items(&url, "deploy", &ids, &job, c);
        let (status, message) = status_and_message(&report, "rollback-error-rate");
        assert_eq!(
            status, "fail",
            "{c}: the canary's errors were diluted: {message}"
        );
        assert!(
            message.contains("found 0.05") || message.contains("found 0.049"),
            "{c}: {message}"
        );
        // One instance of two runs the new version: 50 % exactly, counted per instance.
        let (status, message) = status_and_message(&report, "rollout-50-percent");
        assert_eq!(status, "pass", "{c}: {message}");
        assert!(message.contains("is 0.5"), "{c}: {message}");
        let (status, message) = status_and_message(&report, "rollout-complete");
        assert_eq!(status, "fail", "{c}: {message}");
    }
    let report = items(
        &url,
        "deploy",
        &["rollback-error-rate"],
        "fleet-shared",
        "prometheus",
    );
    let (status, message) = status_and_message(&report, "rollback-error-rate");
    assert_eq!(
        status, "pass",
        "a fault both versions share rolled back: {message}"
    );
}
