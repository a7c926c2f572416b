//! Where state meets a run. Before it: sign-offs and due lists decide some items without
//! running them ([`presets`]). After it: waivers, expired sign-offs and the change summary are
//! applied to the (already redacted) report ([`apply`]), and the exit code is recomputed.

use std::collections::BTreeMap;
use std::path::Path;

use checks::Status;
use serde_json::json;

use super::due::due_state;
use super::{RunRecord, SignOff, StateError, Timestamp, Waiver, history, signoffs, waivers};
use crate::checklist::{Checklist, ItemBody};
use crate::redact::Redactor;
use crate::report::{Changes, Report};

/// Everything on record for one checklist.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub signoffs: Vec<SignOff>,
    pub waivers: Vec<Waiver>,
    /// This checklist's runs, oldest first.
    pub history: Vec<RunRecord>,
}

/// A sign-off, judged at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignOffState {
    None,
    Valid(String),
    Expired(String),
}

impl State {
    pub fn load(state_dir: &Path, checklist: &str) -> Result<State, StateError> {
        Ok(State {
            signoffs: signoffs::load(state_dir)?,
            waivers: waivers::load(state_dir)?,
            history: history::load(state_dir, checklist)?,
        })
    }

    /// Judges the sign-off of `item` at `now`: valid until its `until`, or, without one, for the
    /// first run after it only.
    pub fn signoff(&self, checklist: &str, item: &str, now: Timestamp) -> SignOffState {
        let Some(s) = self
            .signoffs
            .iter()
            .filter(|s| s.checklist == checklist && s.item == item)
            .max_by_key(|s| s.at)
        else {
            return SignOffState::None;
        };
        let note = s
            .note
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        let again = format!("sign off again with `prodcheck signoff {checklist} {item}`");
        match s.until {
            Some(until) if now < until => {
                SignOffState::Valid(format!("confirmed by {} until {until}{note}", s.by))
            }
            Some(until) => SignOffState::Expired(format!(
                "sign-off expired on {until} (by {}); {again}",
                s.by
            )),
            None if self.history.iter().any(|r| r.started_at >= s.at) => {
                SignOffState::Expired(format!(
                    "sign-off by {} on {} covered one run only and was used; {again}",
                    s.by, s.at
                ))
            }
            None => SignOffState::Valid(format!(
                "confirmed by {} for this run only (signed off {}){note}",
                s.by, s.at
            )),
        }
    }

    fn waiver(&self, checklist: &str, item: &str) -> Option<&Waiver> {
        self.waivers
            .iter()
            .filter(|w| w.checklist == checklist && w.item == item)
            .max_by_key(|w| w.at)
    }
}

/// Items decided before the run: manual items with a valid sign-off are `confirmed`; with
/// `due_only`, items whose cadence has not elapsed are skipped.
pub fn presets(
    checklist: &Checklist,
    state: &State,
    now: Timestamp,
    due_only: bool,
) -> BTreeMap<String, (Status, String)> {
    let mut out = BTreeMap::new();
    for (_, item) in checklist.items() {
        if matches!(item.body, ItemBody::Manual(_))
            && let SignOffState::Valid(msg) = state.signoff(&checklist.name, &item.id, now)
        {
            out.insert(item.id.clone(), (Status::Confirmed, msg));
            continue;
        }
        if due_only {
            let due = due_state(&checklist.name, item, state, now);
            if !due.due {
                out.insert(
                    item.id.clone(),
                    (Status::Skip, format!("{} (run with --all)", due.describe())),
                );
            }
        }
    }
    out
}

fn failing(status: Status) -> bool {
    matches!(status, Status::Fail | Status::Error | Status::Declined)
}

/// Applies waivers, expired sign-offs and the change summary to `report`, then recomputes
/// its exit code. Every new message goes through `redactor`.
pub fn apply(report: &mut Report, state: &State, now: Timestamp, redactor: &Redactor) {
    let checklist = report.checklist.clone();
    for item in &mut report.items {
        if item.status == Status::Pending
            && item.kind == "manual"
            && let SignOffState::Expired(msg) = state.signoff(&checklist, &item.id, now)
        {
            item.message = redactor.redact(&msg);
        }
        let Some(w) = state.waiver(&checklist, &item.id) else {
            continue;
        };
        if !(failing(item.status) || item.status == Status::Pending) {
            continue;
        }
        let was = format!("{}: {}", item.status.as_str(), item.message);
        item.evidence
            .insert("waived_status".into(), json!(item.status.as_str()));
        item.evidence
            .insert("waiver_reason".into(), json!(redactor.redact(&w.reason)));
        if w.active(now) {
            item.status = Status::Waived;
            item.message = redactor.redact(&format!(
                "waived by {} until {}: {} (was {was})",
                w.by, w.until, w.reason
            ));
        } else {
            item.status = Status::Fail;
            item.message = redactor.redact(&format!(
                "waiver expired on {} ({}); {was}",
                w.until, w.reason
            ));
        }
    }
    report.changes = changes(&state.history, report);
    report.recompute_exit_code();
}

/// Compares `report` with the previous run of the same checklist and environment.
fn changes(history: &[RunRecord], report: &Report) -> Option<Changes> {
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
        let now_failing = failing(item.status);
        let was_failing = before.is_some_and(failing);
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
                    .take_while(|r| r.item(&item.id).is_some_and(|i| failing(i.status)))
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
            by: by.to_string(),
            at: now,
            // Without a cadence the confirmation covered this run only: it expires right away.
            until: Some(
                checklist
                    .item(&i.id)
                    .and_then(|it| it.every())
                    .map_or(now, |e| now.plus(e)),
            ),
            note: i
                .evidence
                .get("note")
                .and_then(|n| n.as_str())
                .map(str::to_string),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::checklist::{Severity, Source, VarSources, load};
    use crate::report::ItemReport;
    use crate::state::ItemRecord;

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
                id: id.to_string(),
                title: id.to_string(),
                section: "S".into(),
                severity: Severity::Critical,
                kind: "manual".into(),
                status: *status,
                message: String::new(),
                evidence: serde_json::Map::new(),
                duration: Duration::ZERO,
                attempts: 0,
                flaky: false,
                line: 1,
                tags: Vec::new(),
                prompted: true,
            })
            .collect();
        Report {
            checklist: "t".into(),
            title: None,
            file: "builtin:t".into(),
            environment: None,
            started_at: SystemTime::now(),
            duration: Duration::ZERO,
            exit_code: 0,
            interrupted: false,
            fail_on_warning: false,
            items,
            changes: None,
        }
    }

    fn run_at(at: &str, statuses: &[(&str, Status)]) -> RunRecord {
        RunRecord {
            schema_version: 1,
            checklist: "t".into(),
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
        let mut r = report(&[("a", Status::Fail), ("b", Status::Fail)]);
        apply(&mut r, &state, Timestamp::now(), &Redactor::default());
        let changes = r.changes.clone().expect("a previous run exists");
        assert_eq!(changes.newly_failing, ["b"]);
        assert_eq!(
            changes.still_failing,
            [("a".to_string(), "2026-11-21T00:00:00Z".to_string())]
        );
        assert_eq!(r.exit_code, crate::exit_code::FAILED);
        assert_eq!(r.source_path(), "checklists/t.yaml");
    }
}
