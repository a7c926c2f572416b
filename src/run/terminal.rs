//! The run on a terminal: Ctrl-C stops it cleanly (the partial report is still written) and a
//! spinner shows what is still running while there is something to wait for.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use super::observe::{self, Progress};
use super::plan::Plan;
use super::report;
use crate::manual::TerminalPrompter;
use crate::redact::Redactor;
use crate::report::Report;

/// Runs the plan with Ctrl-C handling and a progress line, and builds the (redacted) report.
pub async fn execute(plan: &Plan<'_>) -> Report {
    let redactor = Redactor::new(plan.parts.iter().flat_map(|p| p.checklist.secrets.iter()));
    crate::redact::activate(&redactor);
    let spinner = Spinner::new(redactor);
    let started_at = SystemTime::now();
    let started = Instant::now();
    let update = |p: Progress| spinner.update(p);
    let results =
        with_ctrl_c(|rx| observe::observe(plan, Arc::new(TerminalPrompter), &update, rx)).await;
    report::build(plan, results, started_at, started.elapsed())
}

/// Runs `work` with a receiver that turns true on Ctrl-C.
pub async fn with_ctrl_c<F, Fut>(work: F) -> Fut::Output
where
    F: FnOnce(watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future,
{
    let (tx, rx) = watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
        }
    });
    let out = work(rx).await;
    ctrl_c.abort();
    out
}

/// On a terminal: a spinner, counts and the items still running, shown only while there is
/// something to wait for. Off a terminal: nothing but the report.
pub struct Spinner {
    bar: Option<ProgressBar>,
    running: std::sync::Mutex<Vec<String>>,
    redactor: Redactor,
}

impl Spinner {
    pub fn new(redactor: Redactor) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::hidden();
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg}") {
                bar.set_style(style);
            }
            bar
        });
        Spinner {
            bar,
            running: std::sync::Mutex::new(Vec::new()),
            redactor,
        }
    }

    pub fn update(&self, p: Progress) {
        let Some(bar) = &self.bar else { return };
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Begin { ids } => {
                if ids.is_empty() {
                    return;
                }
                bar.set_length(ids.len() as u64);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(120));
                *running = ids;
            }
            Progress::Finished { id, .. } => {
                bar.inc(1);
                if let Some(at) = running.iter().position(|r| *r == id) {
                    running.remove(at);
                }
            }
            Progress::ProbesDone => {
                bar.finish_and_clear();
                return;
            }
        }
        let shown: Vec<&str> = running.iter().take(3).map(String::as_str).collect();
        let more = running.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" (+{more})")
        } else {
            String::new()
        };
        bar.set_message(
            self.redactor
                .redact(&format!("running {}{more}", shown.join(", "))),
        );
    }
}
