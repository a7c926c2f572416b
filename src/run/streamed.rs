//! A fleet run streamed in batches: each batch of targets is planned, observed, judged,
//! recorded and written into the reports before the next one is loaded, so memory stays flat.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::sync::watch;

use super::batches::Fleet;
use super::observe::{self, Progress};
use super::terminal::{Spinner, with_ctrl_c};
use super::{RunRequest, record, report};
use crate::error::CliError;
use crate::manual::TerminalPrompter;
use crate::redact::Redactor;
use crate::report::ReportTarget;
use crate::report::stream::FleetSink;

/// Whether `run` streams this request: a fleet whose every report can be streamed.
pub fn applies(request: &RunRequest, reports: &[ReportTarget]) -> bool {
    matches!(request.targets, super::request::Targets::Fleet(_)) && FleetSink::streams(reports)
}

/// Runs the fleet batch after batch under one concurrency bound and politeness, and returns
/// the run's exit code once every report is written.
pub async fn run(
    request: &RunRequest,
    reports: &[ReportTarget],
    verbosity: u8,
) -> Result<u8, CliError> {
    let fleet = Fleet::check(request)?;
    if verbosity > 0 {
        for line in fleet.pacing_plan().lines() {
            eprintln!("{line}");
        }
    }
    let redactor = Redactor::new(fleet.secrets.iter());
    crate::redact::activate(&redactor);
    let spinner = Spinner::new(redactor);
    let sink = FleetSink::new(reports, verbosity).map_err(|e| CliError::Report {
        cause: format!("cannot create a temporary file for the reports: {e}"),
        run_code: crate::exit_code::OK,
    })?;
    let update = |p: Progress| spinner.update(p);
    let started = Instant::now();
    let (sink, ran) = with_ctrl_c(|rx| batches(&fleet, sink, &update, rx)).await;
    let (environment, interrupted) = ran?;
    sink.finish(environment, started.elapsed(), interrupted)
        .map_err(|(cause, run_code)| CliError::Report { cause, run_code })
}

/// Every batch in turn: observed, judged, recorded, written. Gives back the sink, and the
/// run's environment and whether Ctrl-C cut it short.
async fn batches(
    fleet: &Fleet<'_>,
    mut sink: FleetSink,
    progress: &(dyn Fn(Progress) + Sync),
    shutdown: watch::Receiver<bool>,
) -> (FleetSink, Result<(Option<String>, bool), CliError>) {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let shared = fleet.shared();
    let state_dir = &fleet.request().config.state_dir;
    let mut environment = None;
    let mut interrupted = false;
    for plan in fleet.batches() {
        let plan = match plan {
            Ok(plan) => plan,
            Err(e) => return (sink, Err(e)),
        };
        let prompter = Arc::new(TerminalPrompter);
        let results =
            observe::observe_with(&plan, shared.clone(), prompter, progress, shutdown.clone())
                .await;
        let batch = report::build(&plan, results, started_at, started.elapsed());
        record::record(state_dir, &plan, &batch);
        environment = plan.environment.clone();
        interrupted |= batch.interrupted;
        drop(plan);
        for (target, view) in batch.target_views() {
            if let Err(e) = sink.add(target, &view) {
                let cause = format!("cannot write a report part to a temporary file: {e}");
                let run_code = sink.exit_code();
                return (sink, Err(CliError::Report { cause, run_code }));
            }
        }
    }
    (sink, Ok((environment, interrupted)))
}
