//! The report stage: observations become verdicts (each decided once by [`super::verdict`]),
//! everything is redacted, a fleet's parts become one report, each requested format is written.

use std::time::{Duration, SystemTime};

use super::observe::RunResult;
use super::plan::Plan;
use super::verdict::{self, Policy};
use crate::checklist::{Checklist, ItemBody};
use crate::error::CliError;
use crate::fleet::Target;
use crate::redact::Redactor;
use crate::report::{Changes, TargetReport};
use crate::report::{Format, ItemReport, RECENT_RUNS, Report, ReportTarget};
use crate::state::RunRecord;
use crate::status::Status;

/// The report of a whole plan: a run without targets is its one part's report; a fleet's
/// parts become one report with a part per target.
pub fn build(
    plan: &Plan<'_>,
    results: Vec<RunResult>,
    started_at: SystemTime,
    duration: Duration,
) -> Report {
    let interrupted = results.iter().any(|r| r.interrupted);
    let parts = plan.parts.iter().zip(results).map(|(p, result)| {
        let policy = plan.policy(p);
        let report = build_report(
            &p.checklist,
            result,
            &policy,
            p.environment.clone(),
            started_at,
            duration,
        );
        (p.target, report)
    });
    if plan.fleet {
        let parts = parts.filter_map(|(t, r)| t.map(|t| (t, r)));
        return combine(parts, plan.environment.clone(), duration, interrupted);
    }
    let mut reports: Vec<Report> = parts.map(|(_, r)| r).collect();
    reports
        .pop()
        .unwrap_or_else(|| empty(duration, interrupted))
}

/// Turns the run's observations into the report: each verdict decided once by the verdict
/// stage, everything redacted, the exit code mapped from the verdicts.
pub fn build_report(
    checklist: &Checklist,
    result: RunResult,
    policy: &Policy<'_>,
    environment: Option<String>,
    started_at: SystemTime,
    duration: Duration,
) -> Report {
    // Values captured during the run (`capture:`) are secrets like `${env:…}` values.
    let redactor = Redactor::new(checklist.secrets.iter().chain(&result.secrets));
    let items: Vec<ItemReport> = checklist
        .items()
        .zip(result.observations)
        .map(|((section, item), observation)| {
            let v = verdict::decide(item, observation, policy);
            let mut evidence = serde_json::Value::Object(v.evidence);
            if let ItemBody::Manual(manual) = &item.body
                && let serde_json::Value::Object(map) = &mut evidence
            {
                map.insert("how".into(), serde_json::json!(manual.how));
            }
            redactor.redact_json(&mut evidence);
            ItemReport {
                target: None,
                id: item.id.clone(),
                title: redactor.redact(&item.title),
                section: section.name.clone(),
                severity: item.severity,
                kind: item.kind().to_string(),
                status: v.status,
                observed: v.observed,
                gating: v.gating,
                message: redactor.redact(&v.message),
                evidence: match evidence {
                    serde_json::Value::Object(map) => map,
                    _ => serde_json::Map::new(),
                },
                duration: v.duration,
                attempts: v.attempts,
                flaky: v.flaky,
                line: item.line,
                tags: item.tags.clone(),
                fix: item.fix.as_deref().map(|f| redactor.redact(f)),
                docs: item.docs.clone(),
                note: v.note.map(|n| redactor.redact(&n)),
                waiver: v.waiver.map(|mut w| {
                    w.reason = redactor.redact(&w.reason);
                    w
                }),
                exit_code: v.exit_code,
                prompted: v.prompted,
                series: None,
            }
        })
        .collect();
    let code = verdict::exit_code(items.iter().map(|i| &i.exit_code), result.interrupted);
    let mut report = Report {
        checklist: checklist.name.clone(),
        title: checklist.title.as_deref().map(|t| redactor.redact(t)),
        file: checklist.file.clone(),
        environment,
        started_at,
        duration,
        exit_code: code,
        interrupted: result.interrupted,
        fail_on_warning: policy.fail_on_warning,
        items,
        changes: None,
        recent_runs: Vec::new(),
        watch: None,
        targets: Vec::new(),
    };
    report.changes = changes(&policy.state.history, &report);
    report.recent_runs = recent_runs(&policy.state.history, &report, RECENT_RUNS);
    report
}

/// One report out of the targets' reports: their items in target order, each naming its
/// target; the exit code is the worst target's.
fn combine<'a>(
    parts: impl Iterator<Item = (&'a Target, Report)>,
    environment: Option<String>,
    duration: Duration,
    interrupted: bool,
) -> Report {
    let mut fleet: Option<Report> = None;
    let mut items = Vec::new();
    let mut targets = Vec::new();
    for (target, mut report) in parts {
        let slowest = report
            .items
            .iter()
            .map(|i| i.duration)
            .max()
            .unwrap_or_default();
        targets.push(TargetReport {
            name: target.name.clone(),
            environment: report.environment.clone(),
            labels: target.labels.clone(),
            exit_code: report.exit_code,
            duration: slowest,
            changes: report.changes.clone(),
            recent_runs: std::mem::take(&mut report.recent_runs),
        });
        items.extend(std::mem::take(&mut report.items).into_iter().map(|mut i| {
            i.target = Some(target.name.clone());
            i
        }));
        if fleet.is_none() {
            fleet = Some(report);
        }
    }
    let mut fleet = fleet.unwrap_or_else(|| empty(duration, interrupted));
    fleet.exit_code = verdict::exit_code(items.iter().map(|i| &i.exit_code), interrupted);
    fleet.items = items;
    fleet.targets = targets;
    fleet.environment = environment;
    fleet.duration = duration;
    fleet.interrupted = interrupted;
    fleet.changes = None;
    fleet.recent_runs = Vec::new();
    fleet
}

/// The report of a run that had nothing to run.
fn empty(duration: Duration, interrupted: bool) -> Report {
    Report {
        checklist: String::new(),
        title: None,
        file: String::new(),
        environment: None,
        started_at: SystemTime::now(),
        duration,
        exit_code: crate::exit_code::OK,
        interrupted,
        fail_on_warning: false,
        items: Vec::new(),
        changes: None,
        recent_runs: Vec::new(),
        watch: None,
        targets: Vec::new(),
    }
}

/// Compares `report` with the previous run of the same checklist and environment.
pub fn changes(history: &[RunRecord], report: &Report) -> Option<Changes> {
    let same_env: Vec<&RunRecord> = history
        .iter()
        .filter(|r| r.environment == report.environment && r.checklist == report.checklist)
        .collect();
    let previous = *same_env.last()?;
    let mut changes = Changes {
        previous_at: previous.started_at.to_string(),
        ..Changes::default()
    };
    for item in &report.items {
        let before = previous.item(&item.id).map(|i| i.status);
        let now_failing = item.status.is_failing();
        let was_failing = before.is_some_and(Status::is_failing);
        match (was_failing, now_failing) {
            (false, true) => changes.newly_failing.push(item.id.clone()),
            (true, false)
                if matches!(item.status, Status::Pass | Status::Warn | Status::Confirmed) =>
            {
                changes.fixed.push(item.id.clone())
            }
            (true, true) => {
                // Walk back while the item kept failing to find when the streak began.
                let since = same_env
                    .iter()
                    .rev()
                    .take_while(|r| r.item(&item.id).is_some_and(|i| i.status.is_failing()))
                    .last()
                    .map(|r| r.started_at.to_string())
                    .unwrap_or_else(|| changes.previous_at.clone());
                changes.still_failing.push((item.id.clone(), since));
            }
            _ => {}
        }
    }
    Some(changes)
}

/// The last `limit` runs of the same checklist and environment as `report`, oldest first.
pub fn recent_runs(history: &[RunRecord], report: &Report, limit: usize) -> Vec<RunRecord> {
    let same: Vec<&RunRecord> = history
        .iter()
        .filter(|r| r.environment == report.environment && r.checklist == report.checklist)
        .collect();
    let skip = same.len().saturating_sub(limit);
    same.into_iter().skip(skip).cloned().collect()
}

/// Writes every requested report and returns the run's exit code (`error::CliError::Report`
/// when a report could not be written: the gate must not pass without its evidence).
pub fn finish(report: &Report, targets: &[ReportTarget], verbosity: u8) -> Result<u8, CliError> {
    match emit_reports(report, targets, verbosity) {
        Ok(()) => Ok(report.exit_code),
        Err(cause) => Err(CliError::Report {
            cause,
            run_code: report.exit_code,
        }),
    }
}

/// Human to stdout unless another report claims stdout; then every `--report` target.
pub fn emit_reports(
    report: &Report,
    targets: &[ReportTarget],
    verbosity: u8,
) -> Result<(), String> {
    let stdout_claimed = targets.iter().any(|t| t.path.is_none());
    if !stdout_claimed {
        print!("{}", Format::Human.reporter_with(verbosity).render(report));
    }
    for target in targets {
        match &target.path {
            None => print!("{}", target.format.reporter_with(verbosity).render(report)),
            Some(path) => {
                let saved = colored::control::SHOULD_COLORIZE.should_colorize();
                colored::control::set_override(false);
                let text = target.format.reporter_with(verbosity).render(report);
                colored::control::set_override(saved);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
                }
                std::fs::write(path, text)
                    .map_err(|e| format!("cannot write report `{}`: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}
