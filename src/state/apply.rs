//! What is on record for one checklist (sign-offs, waivers, history) and the questions the
//! verdict stage asks of it; plus the change summary and the sign-offs a run leaves behind.

use std::path::Path;

use super::{RunRecord, SignOff, StateError, Timestamp, Waiver, history, signoffs, waivers};
use crate::checklist::Checklist;
use crate::report::{Changes, Report};
use crate::verdict::Status;

/// Everything on record for one checklist and one target (or none): sign-offs, waivers and
/// history never cross from one target to another.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub signoffs: Vec<SignOff>,
    pub waivers: Vec<Waiver>,
    /// This checklist's runs (against this target), oldest first.
    pub history: Vec<RunRecord>,
    /// The fleet target this state belongs to (`None`: runs without a target).
    pub target: Option<String>,
}

/// A sign-off, judged at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignOffState {
    None,
    Valid(String),
    Expired(String),
}

impl State {
    /// What is on record for runs of `checklist` without a target.
    pub fn load(state_dir: &Path, checklist: &str) -> Result<State, StateError> {
        Self::load_for(state_dir, checklist, None)
    }

    /// What is on record for runs of `checklist` against `target`.
    pub fn load_for(
        state_dir: &Path,
        checklist: &str,
        target: Option<&str>,
    ) -> Result<State, StateError> {
        let all = State {
            signoffs: signoffs::load(state_dir)?,
            waivers: waivers::load(state_dir)?,
            ..State::default()
        };
        let mut state = all.scoped(target);
        state.history = history::load_target(state_dir, checklist, target)?;
        Ok(state)
    }

    /// The sign-offs and waivers given for `target` (`None`: those given without one), and the
    /// history records of that target: a sign-off for one service never confirms another.
    pub fn scoped(&self, target: Option<&str>) -> State {
        let mine = |t: &Option<String>| t.as_deref() == target;
        State {
            signoffs: self
                .signoffs
                .iter()
                .filter(|s| mine(&s.target))
                .cloned()
                .collect(),
            waivers: self
                .waivers
                .iter()
                .filter(|w| mine(&w.target))
                .cloned()
                .collect(),
            history: self
                .history
                .iter()
                .filter(|r| mine(&r.target))
                .cloned()
                .collect(),
            target: target.map(str::to_string),
        }
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
        let target = self
            .target
            .as_deref()
            .map(|t| format!(" --target {t}"))
            .unwrap_or_default();
        let again = format!("sign off again with `prodcheck signoff {checklist} {item}{target}`");
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

    /// The newest waiver of `item`, active or not.
    pub fn waiver(&self, checklist: &str, item: &str) -> Option<&Waiver> {
        self.waivers
            .iter()
            .filter(|w| w.checklist == checklist && w.item == item)
            .max_by_key(|w| w.at)
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
                target: None,
                id: id.to_string(),
                title: id.to_string(),
                section: "S".into(),
                severity: Severity::Critical,
                kind: "manual".into(),
                status: *status,
                observed: *status,
                gating: true,
                message: String::new(),
                evidence: serde_json::Map::new(),
                duration: Duration::ZERO,
                attempts: 0,
                flaky: false,
                line: 1,
                tags: Vec::new(),
                fix: None,
                docs: None,
                note: None,
                waiver: None,
                exit_code: 0,
                prompted: true,
                series: None,
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
            targets: Vec::new(),
            recent_runs: Vec::new(),
            watch: None,
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
