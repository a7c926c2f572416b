//! From observations to written reports: every verdict decided once, everything redacted,
//! each requested format written; shared by `run`, fleets, `watch` and `probe`.

use std::time::{Duration, SystemTime};

use crate::checklist::{Checklist, ItemBody};
use crate::error::CliError;
use crate::redact::Redactor;
use crate::report::{Format, ItemReport, RECENT_RUNS, Report, ReportTarget};
use crate::runner::RunResult;
use crate::state::apply;
use crate::verdict::{self, Policy};

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
    let redactor = Redactor::new(&checklist.secrets);
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
    report.changes = apply::changes(&policy.state.history, &report);
    report.recent_runs = apply::recent_runs(&policy.state.history, &report, RECENT_RUNS);
    report
}

/// Writes every requested report and returns the run's exit code (`error::CliError::Report`
/// when a report could not be written: the gate must not pass without its evidence).
pub fn finish(report: &Report, targets: &[ReportTarget], verbosity: u8) -> u8 {
    match emit_reports(report, targets, verbosity) {
        Ok(()) => report.exit_code,
        Err(cause) => CliError::Report {
            cause,
            run_code: report.exit_code,
        }
        .emit(),
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
