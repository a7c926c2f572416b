//! What is on record for one checklist (sign-offs, waivers, history) and the questions the
//! verdict stage asks of it; plus the change summary and the sign-offs a run leaves behind.

use crate::text::affix;
use std::path::Path;

use super::{RunRecord, SignOff, StateError, Timestamp, Waiver, history, signoffs, waivers};

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
    /// Sign-offs and waivers on record that do not count, and why (see `run/approval.rs`).
    pub rejected: Vec<Rejected>,
}

/// A sign-off or waiver that is on record but does not count: every report says why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejected {
    /// `sign-off` or `waiver`.
    pub kind: &'static str,
    pub checklist: String,
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Who the record names as its approver (or author, or requester).
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    pub reason: String,
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
            rejected: self
                .rejected
                .iter()
                .filter(|r| mine(&r.target))
                .cloned()
                .collect(),
        }
    }

    /// The records of `item` that do not count.
    pub fn rejected_for<'a>(
        &'a self,
        checklist: &'a str,
        item: &'a str,
    ) -> impl Iterator<Item = &'a Rejected> + 'a {
        self.rejected
            .iter()
            .filter(move |r| r.checklist == checklist && r.item == item)
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
        let note = affix(": ", s.note.as_deref(), "");
        let target = affix(" --target ", self.target.as_deref(), "");
        let again = format!("sign off again with `prodcheck signoff {checklist} {item}{target}`");
        match s.until {
            Some(until) if now < until => {
                SignOffState::Valid(format!("confirmed by {} until {until}{note}", s.who()))
            }
            Some(until) => SignOffState::Expired(format!(
                "sign-off expired on {until} (by {}); {again}",
                s.who()
            )),
            None if self.history.iter().any(|r| r.started_at >= s.at) => {
                SignOffState::Expired(format!(
                    "sign-off by {} on {} covered one run only and was used; {again}",
                    s.who(),
                    s.at
                ))
            }
            None => SignOffState::Valid(format!(
                "confirmed by {} for this run only (signed off {}){note}",
                s.who(),
                s.at
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
