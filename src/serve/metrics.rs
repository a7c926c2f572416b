//! `/metrics`: the exporter describing itself (runs, their durations, runs in flight, rejected
//! requests, config reloads), so an alert can tell "the service is red" from "prodcheck is".

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::report::exposition::Exposition;

/// Why a request got no metrics (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    BadRequest,
    NotFound,
    Unauthorized,
    Busy,
    /// The run could not start (an unreadable state file).
    Error,
}

impl Rejection {
    const ALL: [Rejection; 5] = [
        Rejection::BadRequest,
        Rejection::NotFound,
        Rejection::Unauthorized,
        Rejection::Busy,
        Rejection::Error,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Rejection::BadRequest => "bad_request",
            Rejection::NotFound => "not_found",
            Rejection::Unauthorized => "unauthorized",
            Rejection::Busy => "busy",
            Rejection::Error => "error",
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct RunStats {
    count: u64,
    seconds: f64,
    timed_out_items: u64,
}

/// Counters shared by every request.
#[derive(Debug, Default)]
pub struct Metrics {
    in_flight: AtomicU64,
    rejected: [AtomicU64; 5],
    /// (checklist, env) → stats; keys are only served names, so the set is bounded.
    runs: Mutex<BTreeMap<(String, String), RunStats>>,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    last_reload_ok: AtomicU64,
    last_reload_success_time: AtomicU64,
}

/// Decrements the in-flight gauge when the run ends, however it ends.
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Metrics {
    pub fn new() -> Self {
        let m = Metrics::default();
        m.loaded(true);
        m
    }

    pub fn start_run(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self)
    }

    pub fn finish_run(&self, checklist: &str, env: &str, took: Duration, timed_out: u64) {
        if let Ok(mut runs) = self.runs.lock() {
            let s = runs
                .entry((checklist.to_string(), env.to_string()))
                .or_default();
            s.count += 1;
            s.seconds += took.as_secs_f64();
            s.timed_out_items += timed_out;
        }
    }

    pub fn reject(&self, why: Rejection) {
        let idx = Rejection::ALL.iter().position(|r| *r == why).unwrap_or(0);
        self.rejected[idx].fetch_add(1, Ordering::Relaxed);
    }

    /// Records a (re)load of the config: `ok` false keeps the old one.
    pub fn loaded(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Ordering::Relaxed);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            self.last_reload_success_time.store(now, Ordering::Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Ordering::Relaxed);
        }
        self.last_reload_ok.store(u64::from(ok), Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut p = Exposition::new();
        p.single(
            "prodcheck_exporter_build_info",
            "gauge",
            "The prodcheck version answering scrapes.",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        );
        p.single(
            "prodcheck_exporter_runs_in_flight",
            "gauge",
            "Checklist runs answering a scrape right now.",
            &[],
            self.in_flight.load(Ordering::SeqCst),
        );
        let runs = self.runs.lock().map(|r| r.clone()).unwrap_or_default();
        per_run(
            &mut p,
            &runs,
            "prodcheck_exporter_runs_total",
            "counter",
            "Checklist runs made for scrapes.",
            |p, labels, s| {
                p.sample("prodcheck_exporter_runs_total", labels, s.count);
            },
        );
        per_run(
            &mut p,
            &runs,
            "prodcheck_exporter_run_duration_seconds",
            "summary",
            "Time from a scrape's arrival to its answer.",
            |p, labels, s| {
                let sum = format!("{:.3}", s.seconds);
                p.sample("prodcheck_exporter_run_duration_seconds_sum", labels, sum);
                p.sample(
                    "prodcheck_exporter_run_duration_seconds_count",
                    labels,
                    s.count,
                );
            },
        );
        per_run(
            &mut p,
            &runs,
            "prodcheck_exporter_timed_out_items_total",
            "counter",
            "Items still running when the scrape deadline came (reported as error).",
            |p, labels, s| {
                p.sample(
                    "prodcheck_exporter_timed_out_items_total",
                    labels,
                    s.timed_out_items,
                );
            },
        );
        p.family(
            "prodcheck_exporter_requests_rejected_total",
            "counter",
            "Requests answered without running anything, by reason.",
        );
        for (r, n) in Rejection::ALL.iter().zip(&self.rejected) {
            let n = n.load(Ordering::Relaxed);
            p.sample(
                "prodcheck_exporter_requests_rejected_total",
                &[("reason", r.as_str())],
                n,
            );
        }
        p.family(
            "prodcheck_exporter_config_reloads_total",
            "counter",
            "Loads of prodcheck.yaml, the checklists and the web config (start and SIGHUP).",
        );
        for (result, n) in [
            ("success", &self.reloads_ok),
            ("failure", &self.reloads_failed),
        ] {
            let n = n.load(Ordering::Relaxed);
            p.sample(
                "prodcheck_exporter_config_reloads_total",
                &[("result", result)],
                n,
            );
        }
        p.single(
            "prodcheck_exporter_config_last_reload_successful",
            "gauge",
            "Whether the last load succeeded (0: an older config is still in use).",
            &[],
            self.last_reload_ok.load(Ordering::Relaxed),
        );
        p.single(
            "prodcheck_exporter_config_last_reload_success_timestamp_seconds",
            "gauge",
            "Unix time of the last successful load.",
            &[],
            self.last_reload_success_time.load(Ordering::Relaxed),
        );
        p.finish()
    }
}

/// The family `name` with samples for each checklist and environment that has run (`sample`
/// writes them, given the run's labels).
fn per_run(
    p: &mut Exposition,
    runs: &BTreeMap<(String, String), RunStats>,
    name: &str,
    kind: &str,
    help: &str,
    sample: impl Fn(&mut Exposition, &[(&str, &str)], &RunStats),
) {
    p.family(name, kind, help);
    for ((checklist, env), stats) in runs {
        sample(p, &[("checklist", checklist), ("env", env)], stats);
    }
}
