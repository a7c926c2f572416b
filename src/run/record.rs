//! The record stage: what a run leaves behind in the state directory — its history line(s)
//! and the sign-offs of manual items a human confirmed at its prompts.

use std::collections::BTreeMap;
use std::path::Path;

use colored::Colorize;

use super::plan::{Plan, PlanPart};
use crate::checklist::Checklist;
use crate::report::Report;
use crate::state::{ItemRecord, RunRecord, SignOff, StateError, Timestamp, history, signoffs};
use crate::status::Status;

/// Who signs a confirmation given at a prompt: git's `user.name`, else the login name.
fn who_signs() -> String {
    signoffs::who(None)
}

/// The record of a run without targets.
fn record_one(state_dir: &Path, checklist: &Checklist, report: &Report) {
    let prompted = prompted_signoffs(report, checklist, &who_signs(), Timestamp::now());
    let results = [
        signoffs::record(state_dir, prompted),
        history::append(state_dir, &history_record(report)),
    ];
    for e in results.into_iter().filter_map(Result::err) {
        eprintln!("{}: {e}", "warning".yellow().bold());
        eprintln!("  {}: {}", "help".bold(), e.hint());
    }
}

/// Threads appending history lines: each append waits on its fsyncs, and a few at once let
/// the file system commit them together (a thousand targets in a fraction of the time).
const HISTORY_WRITERS: usize = 8;

/// Appends every target's history line (each to its own file, atomically as ever).
fn append_all(state_dir: &Path, records: Vec<RunRecord>) -> Vec<StateError> {
    let chunk = records.len().div_ceil(HISTORY_WRITERS).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|r| history::append(state_dir, r).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    })
}

/// Records the run: its history line (one per target, each in its own file) and the sign-offs
/// given at this run's prompts (each for its target). A failure is reported as a warning and
/// does not change the exit code: the run itself and its reports are still valid.
pub fn record(state_dir: &Path, plan: &Plan<'_>, report: &Report) {
    if !plan.fleet {
        if let Some(part) = plan.parts.first() {
            record_one(state_dir, &part.checklist, report);
        }
        return;
    }
    let mut errors = Vec::new();
    let by_target: BTreeMap<&str, &PlanPart> = plan
        .parts
        .iter()
        .filter_map(|p| p.target.map(|t| (t.name.as_str(), p)))
        .collect();
    let mut prompted = Vec::new();
    let mut records = Vec::new();
    // Who signs is asked of git once, and only when someone answered a prompt.
    let who = if report.items.iter().any(|i| i.prompted) {
        who_signs()
    } else {
        String::new()
    };
    for (target, view) in report.target_views() {
        let Some(p) = by_target.get(target.name.as_str()) else {
            continue;
        };
        let mut signed = prompted_signoffs(&view, &p.checklist, &who, Timestamp::now());
        for s in &mut signed {
            s.target = Some(target.name.clone());
        }
        prompted.extend(signed);
        let mut record = history_record(&view);
        record.target = Some(target.name.clone());
        records.push(record);
    }
    errors.extend(append_all(state_dir, records));
    if let Err(e) = signoffs::record(state_dir, prompted) {
        errors.push(e);
    }
    for e in errors {
        eprintln!("{}: {e}", "warning".yellow().bold());
        eprintln!("  {}: {}", "help".bold(), e.hint());
    }
}

/// Sign-offs for the manual items a human confirmed at the prompt during this run.
pub fn prompted_signoffs(
    report: &Report,
    checklist: &Checklist,
    by: &str,
    now: Timestamp,
) -> Vec<SignOff> {
    report
        .items
        .iter()
        .filter(|i| i.prompted && i.status == Status::Confirmed)
        .map(|i| SignOff {
            checklist: report.checklist.clone(),
            item: i.id.clone(),
            target: i.target.clone(),
            by: by.to_string(),
            at: now,
            // Without a cadence the confirmation covered this run only: it expires right away.
            until: Some(
                checklist
                    .item(&i.id)
                    .and_then(|it| it.every())
                    .map_or(now, |e| now.plus(e)),
            ),
            note: i.note.clone(),
            requested_by: None,
            approved_by: None,
            signature: None,
        })
        .collect()
}

/// The history line for a (redacted) report.
pub fn history_record(report: &Report) -> RunRecord {
    RunRecord {
        schema_version: 1,
        checklist: report.checklist.clone(),
        target: None,
        environment: report.environment.clone(),
        started_at: Timestamp::from_system(report.started_at),
        duration_ms: report.duration.as_millis() as u64,
        exit_code: report.exit_code,
        interrupted: report.interrupted,
        items: report
            .items
            .iter()
            .map(|i| ItemRecord {
                id: i.id.clone(),
                status: i.status,
                duration_ms: i.duration.as_millis() as u64,
                message: i.message.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::checklist::{Source, VarSources, load};
    use crate::report::ItemReport;
    use crate::report::fixture;
    use crate::run::report::changes;
    use crate::state::ItemRecord;
    use crate::state::State;
    use crate::state::apply::SignOffState;

    fn checklist() -> Checklist {
        let text = "name: t\nsections:\n  - name: S\n    items:\n      - id: docs\n        title: Docs\n        manual: { how: x, every: 1d }\n      - id: once\n        title: Once\n        manual: { how: x }\n";
        let source = Source {
            file: "t.yaml".into(),
            text: text.into(),
        };
        load(&source, &VarSources::default(), &|_| None).expect("valid checklist")
    }

    fn report(statuses: &[(&str, Status)]) -> Report {
        let items = statuses
            .iter()
            .map(|(id, status)| ItemReport {
                attempts: 0,
                exit_code: 0,
                prompted: true,
                ..fixture::item(id, "manual", *status)
            })
            .collect();
        Report {
            started_at: SystemTime::now(),
            exit_code: 0,
            ..fixture::report("t", items)
        }
    }

    fn run_at(at: &str, statuses: &[(&str, Status)]) -> RunRecord {
        RunRecord {
            schema_version: 1,
            checklist: "t".into(),
            target: None,
            environment: None,
            started_at: Timestamp::parse(at).expect("ts"),
            duration_ms: 0,
            exit_code: 0,
            interrupted: false,
            items: statuses
                .iter()
                .map(|(id, status)| ItemRecord {
                    id: id.to_string(),
                    status: *status,
                    duration_ms: 0,
                    message: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn prompt_confirmations_become_signoffs_valid_for_the_cadence_or_this_run() {
        let now = Timestamp::parse("2026-11-22T10:00:00Z").expect("ts");
        let r = report(&[("docs", Status::Confirmed), ("once", Status::Confirmed)]);
        let s = prompted_signoffs(&r, &checklist(), "Ada", now);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].until, Some(now.plus(Duration::from_secs(86_400))));
        assert_eq!(s[1].until, Some(now), "no cadence: covered this run only");
        let state = State {
            signoffs: s,
            ..State::default()
        };
        let later = now.plus(Duration::from_secs(60));
        assert!(matches!(
            state.signoff("t", "docs", later),
            SignOffState::Valid(_)
        ));
        assert!(matches!(
            state.signoff("t", "once", later),
            SignOffState::Expired(_)
        ));
    }

    #[test]
    fn changes_find_when_a_failure_streak_began() {
        let state = State {
            history: vec![
                run_at(
                    "2026-11-20T00:00:00Z",
                    &[("a", Status::Pass), ("b", Status::Pass)],
                ),
                run_at(
                    "2026-11-21T00:00:00Z",
                    &[("a", Status::Fail), ("b", Status::Fail)],
                ),
                run_at(
                    "2026-11-22T00:00:00Z",
                    &[("a", Status::Fail), ("b", Status::Pass)],
                ),
            ],
            ..State::default()
        };
        let r = report(&[("a", Status::Fail), ("b", Status::Fail)]);
        let changes = changes(&state.history, &r).expect("a previous run exists");
        assert_eq!(changes.newly_failing, ["b"]);
        assert_eq!(
            changes.still_failing,
            [("a".to_string(), "2026-11-21T00:00:00Z".to_string())]
        );
        assert_eq!(r.source_path(), "checklists/t.yaml");
    }
}
