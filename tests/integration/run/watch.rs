//! `prodcheck watch` against a real Prometheus scraping a local service whose error ratio the
//! test changes while the watch runs: a clean window exits 0, a spike shorter than `for:`
//! exits 0, a sustained breach exits 1 within one interval after `for:`, a target that goes
//! down fires the `up` trigger, and Ctrl-C exits 130 with the partial report.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;

use crate::support::*;

/// Scrape interval of the test Prometheus and evaluation interval of the watches.
const EVERY: &str = "1s";

/// A service whose `/metrics` reports `app_error_ratio` as the test sets it (in thousandths).
fn service(ratio: Arc<AtomicU64>) -> AppServer {
    AppServer::start(Router::new().route(
        "/metrics",
        get(move || {
            let r = ratio.load(Ordering::SeqCst) as f64 / 1000.0;
            async move { format!("# TYPE app_error_ratio gauge\napp_error_ratio {r}\n") }
        }),
    ))
}

/// A checklist with a canary stage watching the error ratio (`for: 4s`) and the target's
/// `up` (`for: 2s`).
fn checklist(p: &Project, prometheus: u16) -> std::path::PathBuf {
    p.file(
        "rollout.yaml",
        &format!(
            r#"name: rollout
stages:
  - {{ name: canary, watch: 12s, every: {EVERY} }}
sections:
  - name: Triggers
    stages: [canary]
    items:
      - id: error-ratio
        title: Error ratio under 5 %
        for: 4s
        check:
          prometheus:
            url: http://127.0.0.1:{prometheus}
            query: max(app_error_ratio{{job="api"}})
            expect: "< 0.05"
      - id: api-up
        title: The API target is up
        for: 2s
        check:
          prometheus:
            url: http://127.0.0.1:{prometheus}
            query: min(up{{job="api"}})
            expect: "== 1"
"#
        ),
    )
}

/// Prometheus has scraped the service at least once (`app_error_ratio` has a sample).
fn scraped(prometheus: u16) -> bool {
    let url = format!("http://127.0.0.1:{prometheus}");
    prometheus_says(&url, "app_error_ratio", r#""result":[{"#)
}

/// A running `prodcheck watch`, its JSON report written to a file, its stderr collected.
struct Watch {
    child: Child,
    report: std::path::PathBuf,
    started: Instant,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

fn start_watch(p: &Project, file: &std::path::Path, extra: &[&str]) -> Watch {
    let report = p.dir.path().join("watch.json");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("prodcheck"));
    cmd.current_dir(p.dir.path())
        .env("CI", "true")
        .args([
            "watch",
            file.to_str().unwrap_or_default(),
            "--stage",
            "canary",
        ])
        .args(["--every", EVERY])
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().expect("start prodcheck watch");
    let stderr = Arc::new(Mutex::new(String::new()));
    let reader = child.stderr.take().map(|pipe| {
        let stderr = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = stderr.lock().unwrap_or_else(|e| e.into_inner());
                text.push_str(&line);
                text.push('\n');
            }
        })
    });
    Watch {
        child,
        report,
        started: Instant::now(),
        stderr,
        reader,
    }
}

/// Waits (bounded) for the watch to end: exit code, stderr, the JSON report.
fn finish(mut w: Watch) -> (i32, String, serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = w.child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = w.child.kill();
            panic!("prodcheck watch did not end within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if let Some(reader) = w.reader.take() {
        let _ = reader.join();
    }
    let stderr = w.stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let text = std::fs::read_to_string(&w.report)
        .unwrap_or_else(|e| panic!("no report ({e}); stderr:\n{stderr}"));
    let report = serde_json::from_str(&text).expect("JSON report");
    (status.code().unwrap_or(-1), stderr, report)
}

/// Waits until the watch has printed `n` evaluation lines (at most 30 s).
fn after_evaluations(w: &Watch, n: usize) {
    let seen = wait_until(Duration::from_secs(30), || {
        let text = w.stderr.lock().unwrap_or_else(|e| e.into_inner());
        text.lines().filter(|l| l.starts_with("watch +")).count() >= n
    });
    assert!(seen, "the watch did not evaluate {n} times within 30 s");
}

struct Bed {
    ratio: Arc<AtomicU64>,
    app: Option<AppServer>,
    prometheus: ServerProcess,
    project: Project,
    file: std::path::PathBuf,
}

fn bed() -> Option<Bed> {
    let ratio = Arc::new(AtomicU64::new(0));
    let app = service(ratio.clone());
    let prometheus = prometheus_scraping_jobs(&[("api", &[port_of(&app)])])?;
    assert!(
        wait_until(Duration::from_secs(30), || scraped(prometheus.port)),
        "Prometheus did not scrape the service within 30 s"
    );
    let project = Project::new();
    let file = checklist(&project, prometheus.port);
    Some(Bed {
        ratio,
        app: Some(app),
        prometheus,
        project,
        file,
    })
}

fn trigger<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    item(report, id)
}

#[test]
fn watch_a_clean_window_exits_0_with_every_series() {
    let Some(bed) = bed() else { return };
    let dir = bed.project.dir.path();
    let (junit, sarif) = (dir.join("watch.xml"), dir.join("watch.sarif"));
    let w = start_watch(
        &bed.project,
        &bed.file,
        &[
            "--for",
            "4s",
            "--report",
            &format!("junit={}", junit.display()),
            "--report",
            &format!("sarif={}", sarif.display()),
        ],
    );
    let (code, stderr, report) = finish(w);
    assert_eq!(code, 0, "{stderr}\n{report}");
    // Every format carries the series: JUnit as text (the latest samples), SARIF as data.
    let junit = std::fs::read_to_string(junit).unwrap_or_default();
    assert!(junit.contains("series: +0s pass 1, +1s pass 1"), "{junit}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sarif).unwrap_or_default()).expect("sarif");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        results
            .iter()
            .any(|r| r["properties"]["series"]["evaluations"] == 5),
        "{sarif}"
    );
    assert_eq!(report["watch"]["evaluations"], 5, "{report}");
    for id in ["error-ratio", "api-up"] {
        let t = trigger(&report, id);
        assert_eq!(t["status"], "pass", "{t}");
        assert_eq!(t["series"]["evaluations"], 5, "{t}");
        let samples = t["series"]["samples"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(samples.len(), 5);
        // A loaded machine may time out one query (an `error` sample); nothing fails.
        assert!(samples.iter().all(|s| s["status"] != "fail"), "{t}");
        assert!(
            samples.iter().filter(|s| s["status"] == "pass").count() >= 4,
            "{t}"
        );
    }
    assert_eq!(
        trigger(&report, "api-up")["series"]["samples"][0]["value"],
        1.0
    );
    // Off a terminal: one plain line per evaluation.
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("watch +")).count(),
        5,
        "{stderr}"
    );
    assert!(
        stderr.contains("error-ratio pass 0 · api-up pass 1"),
        "{stderr}"
    );
    drop(bed.prometheus);
}

#[test]
fn watch_a_spike_shorter_than_for_does_not_roll_back() {
    let Some(bed) = bed() else { return };
    let w = start_watch(&bed.project, &bed.file, &["--for", "10s"]);
    after_evaluations(&w, 2);
    // One scrape of a 50 % error ratio (Prometheus scrapes every second), then healthy again.
    bed.ratio.store(500, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1200));
    bed.ratio.store(0, Ordering::SeqCst);
    let (code, stderr, report) = finish(w);
    assert_eq!(code, 0, "{stderr}\n{report}");
    let t = trigger(&report, "error-ratio");
    assert_eq!(t["status"], "pass", "{t}");
    let fails = t["evidence"]["evaluations_fail"].as_u64().unwrap_or(0);
    assert!(
        (1..=3).contains(&fails),
        "the spike was seen by 1 to 3 evaluations: {t}"
    );
    assert!(
        t["message"]
            .as_str()
            .unwrap_or_default()
            .contains("failed briefly"),
        "{t}"
    );
    drop(bed.prometheus);
}

#[test]
fn watch_a_sustained_breach_exits_1_within_one_interval_after_for() {
    let Some(bed) = bed() else { return };
    let w = start_watch(&bed.project, &bed.file, &["--for", "30s"]);
    after_evaluations(&w, 2);
    bed.ratio.store(500, Ordering::SeqCst);
    let started = w.started;
    let (code, stderr, report) = finish(w);
    assert_eq!(code, 1, "{stderr}\n{report}");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the watch went on after the trigger fired"
    );
    assert_eq!(report["watch"]["stopped_by"], "error-ratio", "{report}");
    let t = trigger(&report, "error-ratio");
    assert_eq!(t["status"], "fail", "{t}");
    let since = t["evidence"]["since_ms"].as_u64().unwrap_or(0);
    let fired = t["evidence"]["fired_at_ms"].as_u64().unwrap_or(0);
    // `for: 4s` at 1 s: it fires at the first evaluation 4 s after the breach began.
    assert!(
        (4000..=5000).contains(&(fired - since)),
        "fired {fired} ms, breach since {since} ms: {t}"
    );
    assert!(
        t["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("failed at every evaluation for 4s (its for: 4s)"),
        "{t}"
    );
    assert_eq!(trigger(&report, "api-up")["status"], "pass");
    assert!(stderr.contains("error-ratio FIRED"), "{stderr}");
    drop(bed.prometheus);
}

#[test]
fn watch_a_target_that_goes_down_fires_the_up_trigger() {
    let Some(mut bed) = bed() else { return };
    let w = start_watch(&bed.project, &bed.file, &["--for", "30s"]);
    after_evaluations(&w, 2);
    drop(bed.app.take());
    let (code, stderr, report) = finish(w);
    assert_eq!(code, 1, "{stderr}\n{report}");
    assert_eq!(report["watch"]["stopped_by"], "api-up", "{report}");
    let t = trigger(&report, "api-up");
    assert_eq!(t["status"], "fail", "{t}");
    assert!(
        t["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expected == 1, found 0"),
        "{t}"
    );
    drop(bed.prometheus);
}

#[test]
fn watch_ctrl_c_exits_130_with_the_partial_report() {
    let Some(bed) = bed() else { return };
    let w = start_watch(&bed.project, &bed.file, &["--for", "60s"]);
    after_evaluations(&w, 2);
    let pid = w.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let (code, stderr, report) = finish(w);
    assert_eq!(code, 130, "{stderr}\n{report}");
    assert_eq!(report["interrupted"], true);
    let evaluations = report["watch"]["evaluations"].as_u64().unwrap_or(0);
    assert!((2..=4).contains(&evaluations), "{report}");
    assert_eq!(trigger(&report, "error-ratio")["status"], "pass");
    drop(bed.prometheus);
}
