//! Which sign-offs and waivers count: a signed record must verify against `allowed_signers`, its
//! approver must be one the item names, and with `four_eyes` differ from its requester.
//!
//! Records that do not count move to [`State::rejected`] with the reason; the verdict stage
//! says it in the item's message and evidence, so every report format shows it. Unsigned
//! records (written before signatures, or by `--by` alone) count only for items that name no
//! `approvers:` and no `four_eyes:`; a request nobody approved yet never counts.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::checklist::{Approval, Checklist};
use crate::state::apply::Rejected;
use crate::state::approvers::{self, Groups};
use crate::state::{SignOff, State, StateError, Timestamp, Waiver, signature, signoffs, waivers};

/// What the state directory says about who may sign: keys, and groups of people.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub allowed_signers: PathBuf,
    pub groups: Groups,
}

impl Trust {
    pub fn load(state_dir: &Path) -> Result<Trust, StateError> {
        Ok(Trust {
            allowed_signers: signature::allowed_signers(state_dir),
            groups: approvers::load(state_dir)?,
        })
    }
}

/// A sign-off or a waiver, as far as approval is concerned.
pub trait Record: Serialize {
    /// In the canonical form (`signoff`, `waiver`).
    const KIND: &'static str;
    /// In messages (`sign-off`, `waiver`).
    const LABEL: &'static str;
    fn checklist(&self) -> &str;
    fn item(&self) -> &str;
    fn target(&self) -> Option<&str>;
    fn requested_by(&self) -> Option<&str>;
    fn approved_by(&self) -> Option<&str>;
    fn signature(&self) -> Option<&str>;
    fn at(&self) -> Timestamp;
    fn who(&self) -> &str;
}

macro_rules! record {
    ($t:ty, $kind:literal, $label:literal) => {
        impl Record for $t {
            const KIND: &'static str = $kind;
            const LABEL: &'static str = $label;
            fn checklist(&self) -> &str {
                &self.checklist
            }
            fn item(&self) -> &str {
                &self.item
            }
            fn target(&self) -> Option<&str> {
                self.target.as_deref()
            }
            fn requested_by(&self) -> Option<&str> {
                self.requested_by.as_deref()
            }
            fn approved_by(&self) -> Option<&str> {
                self.approved_by.as_deref()
            }
            fn signature(&self) -> Option<&str> {
                self.signature.as_deref()
            }
            fn at(&self) -> Timestamp {
                self.at
            }
            fn who(&self) -> &str {
                <$t>::who(self)
            }
        }
    };
}
record!(SignOff, "signoff", "sign-off");
record!(Waiver, "waiver", "waiver");

/// The sign-offs and waivers on record, each signature checked once (a run of many targets
/// or checklists does not check it again), and the trust they were checked against.
pub fn on_record(state_dir: &Path) -> Result<(State, Trust), StateError> {
    let trust = Trust::load(state_dir)?;
    let mut state = State::default();
    let mut rejected = Vec::new();
    state.signoffs = verified(signoffs::load(state_dir)?, &trust, &mut rejected);
    state.waivers = verified(waivers::load(state_dir)?, &trust, &mut rejected);
    state.rejected = rejected;
    Ok((state, trust))
}

fn verified<R: Record + Sync>(
    records: Vec<R>,
    trust: &Trust,
    rejected: &mut Vec<Rejected>,
) -> Vec<R> {
    let problems = in_parallel(&records, |r| signature_problem(r, trust));
    let mut kept = Vec::new();
    for (r, problem) in records.into_iter().zip(problems) {
        match problem {
            Some(reason) => rejected.push(rejection(&r, reason)),
            None => kept.push(r),
        }
    }
    kept
}

/// Each `ssh-keygen` takes ~25 ms of mostly waiting: up to 8 run at once, in record order.
fn in_parallel<R: Sync>(
    records: &[R],
    f: impl Fn(&R) -> Option<String> + Sync,
) -> Vec<Option<String>> {
    const WORKERS: usize = 8;
    let chunk = records.len().div_ceil(WORKERS).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                let worker = scope.spawn(|| part.iter().map(&f).collect::<Vec<_>>());
                (part.len(), worker)
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(n, worker)| {
                // A panicking check rejects its records rather than counting them.
                worker.join().unwrap_or_else(|_| {
                    vec![Some("verification panicked (a bug in prodcheck)".into()); n]
                })
            })
            .collect()
    })
}

/// Why `record`'s signature proves nothing (`None`: it verifies, or there is none).
pub fn signature_problem<R: Record>(record: &R, trust: &Trust) -> Option<String> {
    match (record.signature(), record.approved_by()) {
        (Some(sig), Some(approver)) => {
            let payload = signature::canonical(R::KIND, record);
            signature::verify(&trust.allowed_signers, &payload, sig, approver, record.at()).err()
        }
        (Some(_), None) => Some("it is signed but names no `approved_by`".into()),
        (None, Some(approver)) => Some(format!(
            "it names approver `{approver}` but carries no signature"
        )),
        (None, None) => None,
    }
}

/// Moves the records of `checklist`'s items that the items do not accept to `rejected`.
pub fn judge(checklist: &Checklist, state: &mut State, trust: &Trust) {
    let mut rejected = std::mem::take(&mut state.rejected);
    state.signoffs = accepted(
        std::mem::take(&mut state.signoffs),
        checklist,
        trust,
        &mut rejected,
    );
    state.waivers = accepted(
        std::mem::take(&mut state.waivers),
        checklist,
        trust,
        &mut rejected,
    );
    state.rejected = rejected;
}

fn accepted<R: Record>(
    records: Vec<R>,
    checklist: &Checklist,
    trust: &Trust,
    rejected: &mut Vec<Rejected>,
) -> Vec<R> {
    let mut kept = Vec::new();
    for r in records {
        let problem = (r.checklist() == checklist.name)
            .then(|| checklist.item(r.item()))
            .flatten()
            .and_then(|item| approval_problem(&r, &item.approval, &trust.groups));
        match problem {
            Some(reason) => rejected.push(rejection(&r, reason)),
            None => kept.push(r),
        }
    }
    kept
}

/// Why `record` (its signature already verified) does not satisfy the item's `approval`.
pub fn approval_problem<R: Record>(
    record: &R,
    approval: &Approval,
    groups: &Groups,
) -> Option<String> {
    let signed = record.signature().is_some();
    let Some(approver) = record.approved_by().filter(|_| signed) else {
        if let Some(requester) = record.requested_by() {
            return Some(format!(
                "requested by `{requester}` and awaiting approval (`prodcheck approve {} {}`)",
                record.checklist(),
                record.item()
            ));
        }
        if approval.requires_signature() {
            return Some(format!(
                "it is not signed, and the item requires {}",
                describe(approval, groups)
            ));
        }
        return None;
    };
    let allowed = groups.expand(&approval.approvers);
    if !approval.approvers.is_empty() && !allowed.iter().any(|a| a == approver) {
        return Some(format!(
            "approver `{approver}` is not among the item's approvers ({})",
            names(&approval.approvers, groups)
        ));
    }
    if approval.four_eyes {
        match record.requested_by() {
            None => {
                return Some(format!(
                    "it names no requester, and the item requires an approver other than the requester (four_eyes); approved by `{approver}`"
                ));
            }
            Some(r) if r == approver => {
                return Some(format!(
                    "self-approved: requested and approved by `{approver}`, and the item requires an approver other than the requester (four_eyes)"
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// `a signed approval by one of sre = ada@…, bob@…, other than the requester (four_eyes)`.
fn describe(approval: &Approval, groups: &Groups) -> String {
    let who = if approval.approvers.is_empty() {
        "someone".to_string()
    } else {
        format!("one of {}", names(&approval.approvers, groups))
    };
    let other = if approval.four_eyes {
        if approval.approvers.is_empty() {
            " other than the requester (four_eyes)"
        } else {
            ", other than the requester (four_eyes)"
        }
    } else {
        ""
    };
    format!("a signed approval by {who}{other}")
}

/// `sre = ada@example.com, bob@example.com; carol@example.com`.
fn names(approvers: &[String], groups: &Groups) -> String {
    approvers
        .iter()
        .map(|n| match groups.groups.get(n) {
            Some(members) => format!("{n} = {}", members.join(", ")),
            None => n.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn rejection<R: Record>(record: &R, reason: String) -> Rejected {
    Rejected {
        kind: R::LABEL,
        checklist: record.checklist().to_string(),
        item: record.item().to_string(),
        target: record.target().map(str::to_string),
        by: record.who().to_string(),
        requested_by: record.requested_by().map(str::to_string),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signoff(requested: Option<&str>, approved: Option<&str>, signed: bool) -> SignOff {
        SignOff {
            checklist: "c".into(),
            item: "i".into(),
            target: None,
            by: if approved.is_none() && requested.is_none() {
                "Ada".into()
            } else {
                String::new()
            },
            at: Timestamp::parse("2026-12-01T00:00:00Z").expect("ts"),
            until: None,
            note: None,
            requested_by: requested.map(str::to_string),
            approved_by: approved.map(str::to_string),
            signature: signed.then(|| "sig".to_string()),
        }
    }

    fn approval(approvers: &[&str], four_eyes: bool) -> Approval {
        Approval {
            approvers: approvers.iter().map(|a| a.to_string()).collect(),
            four_eyes,
        }
    }

    #[test]
    fn unsigned_records_count_only_where_nobody_is_named() {
        let groups = Groups::default();
        let legacy = signoff(None, None, false);
        assert_eq!(
            approval_problem(&legacy, &approval(&[], false), &groups),
            None
        );
        let why = approval_problem(&legacy, &approval(&["bob"], false), &groups);
        assert!(why.is_some_and(|w| w.contains("not signed")));
        let why = approval_problem(&legacy, &approval(&[], true), &groups);
        assert!(why.is_some_and(|w| w.contains("other than the requester")));
        let pending = signoff(Some("ada"), None, false);
        let why = approval_problem(&pending, &approval(&[], false), &groups);
        assert!(why.is_some_and(|w| w.contains("awaiting approval")));
    }

    #[test]
    fn approvers_expand_groups_and_four_eyes_needs_another_person() {
        let groups = Groups {
            groups: [("sre".to_string(), vec!["bob".to_string()])].into(),
        };
        let by_bob = signoff(Some("ada"), Some("bob"), true);
        assert_eq!(
            approval_problem(&by_bob, &approval(&["sre"], true), &groups),
            None
        );
        let by_carol = signoff(Some("ada"), Some("carol"), true);
        let why = approval_problem(&by_carol, &approval(&["sre"], false), &groups);
        assert_eq!(
            why.as_deref(),
            Some("approver `carol` is not among the item's approvers (sre = bob)")
        );
        let own = signoff(Some("bob"), Some("bob"), true);
        let why = approval_problem(&own, &approval(&["sre"], true), &groups);
        assert!(why.is_some_and(|w| w.starts_with("self-approved")));
        let anonymous = signoff(None, Some("bob"), true);
        let why = approval_problem(&anonymous, &approval(&[], true), &groups);
        assert!(why.is_some_and(|w| w.contains("names no requester")));
        // A signature proves nothing without a named approver, nor a name without one.
        let trust = Trust::default();
        assert!(signature_problem(&signoff(Some("a"), None, true), &trust).is_some());
        assert!(signature_problem(&signoff(Some("a"), Some("b"), false), &trust).is_some());
    }
}
