//! The verdict stage: the one place where what a probe observed (or a human answered) becomes
//! an item's verdict, given severity, `--fail-on`, waivers, sign-offs and due state — once.
//!
//! Nothing upstream decides a verdict (the runner only observes) and nothing downstream changes
//! one (reports render [`Verdict`]s; the exit code is the worst of their contributions).

use std::collections::BTreeMap;
use std::time::Duration;

use checks::Evidence;
use checks::figures::Figures;
use serde::Serialize;

pub use crate::status::Status;

mod observation;
pub use observation::{
    Blocked, Confirmation, ManualAnswer, NotRun, Observation, ProbeRun, Unanswered,
};

use crate::checklist::{Checklist, Item, ItemBody, Severity};
use crate::exit_code;
use crate::figures::{RejectedRecord, RejectedRecords, SkippedBy, UnsetVariables};
use crate::state::apply::SignOffState;
use crate::state::{State, Timestamp, due::due_state};
use crate::text::affix;

/// A waiver that concerned this item, as the verdict used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverUse {
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// `low`, `medium` or `high` (absent on waivers recorded without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    pub until: String,
    pub reason: String,
    /// The waiver's day has passed: the verdict is what was observed, and the message says so.
    pub expired: bool,
}

/// One item's verdict: what was observed, what was decided, and what it does to the exit code.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// What the probe or the human gave.
    pub observed: Status,
    /// What the report shows and the exit code counts.
    pub status: Status,
    /// The item's severity can change the exit code in this run.
    pub gating: bool,
    /// This item's contribution to the exit code (`exit_code::OK` when it does not block).
    pub exit_code: u8,
    pub message: String,
    pub evidence: Evidence,
    pub duration: Duration,
    pub attempts: u32,
    pub flaky: bool,
    /// A human's note with a confirmation or refusal.
    pub note: Option<String>,
    /// Confirmed at this run's prompt: becomes a sign-off.
    pub prompted: bool,
    pub waiver: Option<WaiverUse>,
}

/// The run-wide inputs of policy.
pub struct Policy<'a> {
    pub checklist: &'a str,
    pub fail_on_warning: bool,
    pub state: &'a State,
    pub now: Timestamp,
    /// `--automated`: an unconfigured gate is exit code 6, not 4 (no human is in the loop).
    pub automated: bool,
}

/// Items decided before the run, so they are not run: manual items with a valid sign-off, and
/// (with `due_only`) items whose cadence has not elapsed.
pub fn plan(
    checklist: &Checklist,
    state: &State,
    now: Timestamp,
    due_only: bool,
) -> BTreeMap<String, Observation> {
    let mut out = BTreeMap::new();
    for (_, item) in checklist.items() {
        if matches!(item.body, ItemBody::Manual(_))
            && let SignOffState::Valid(msg) = state.signoff(&checklist.name, &item.id, now)
        {
            let answer = ManualAnswer::Confirmed {
                via: Confirmation::SignOff(msg),
                note: None,
            };
            out.insert(item.id.clone(), Observation::Manual(answer));
            continue;
        }
        if matches!(item.body, ItemBody::Manual(_)) && item.approval.requires_signature() {
            let answer = ManualAnswer::Unanswered(Unanswered::NeedsApproval);
            out.insert(item.id.clone(), Observation::Manual(answer));
            continue;
        }
        if due_only {
            let due = due_state(&checklist.name, item, state, now);
            if !due.due {
                let why = format!("{} (run with --all)", due.describe());
                out.insert(item.id.clone(), Observation::NotRun(NotRun::NotDue(why)));
            }
        }
    }
    out
}

/// Whether an item of `severity` can change the exit code.
pub fn gates(severity: Severity, fail_on_warning: bool) -> bool {
    match severity {
        Severity::Critical => true,
        Severity::Warning => fail_on_warning,
        Severity::Info => false,
    }
}

/// The exit-code contribution of one decided status.
fn contribution(status: Status, gating: bool, policy: &Policy) -> u8 {
    if !gating {
        return exit_code::OK;
    }
    match status {
        Status::Fail | Status::Declined => exit_code::FAILED,
        Status::Warn if policy.fail_on_warning => exit_code::FAILED,
        Status::Error => exit_code::PROBE_ERROR,
        Status::Pending => exit_code::PENDING,
        Status::Unconfigured if policy.automated => exit_code::UNCONFIGURED,
        Status::Unconfigured => exit_code::PENDING,
        Status::Pass
        | Status::Warn
        | Status::Skip
        | Status::Confirmed
        | Status::Waived
        | Status::NotApplicable => exit_code::OK,
    }
}

/// Decides one item's verdict from what the run observed.
pub fn decide(item: &Item, observation: Observation, policy: &Policy) -> Verdict {
    let mut v = observe(item, observation, policy);
    v.gating = gates(item.severity, policy.fail_on_warning);
    apply_waiver(item, &mut v, policy);
    let rejected: Vec<_> = policy
        .state
        .rejected_for(policy.checklist, &item.id)
        .collect();
    if !rejected.is_empty() {
        let rejected_records = rejected
            .into_iter()
            .map(|r| RejectedRecord {
                kind: r.kind.to_string(),
                checklist: r.checklist.clone(),
                item: r.item.clone(),
                target: r.target.clone(),
                by: r.by.clone(),
                requested_by: r.requested_by.clone(),
                reason: r.reason.clone(),
            })
            .collect();
        RejectedRecords { rejected_records }.write(&mut v.evidence);
    }
    v.exit_code = contribution(v.status, v.gating, policy);
    v
}

/// The observed status and its message, before waivers.
fn observe(item: &Item, observation: Observation, policy: &Policy) -> Verdict {
    let mut v = Verdict {
        observed: Status::Skip,
        status: Status::Skip,
        gating: false,
        exit_code: exit_code::OK,
        message: String::new(),
        evidence: Evidence::new(),
        duration: Duration::ZERO,
        attempts: 0,
        flaky: false,
        note: None,
        prompted: false,
        waiver: None,
    };
    let (status, message) = match observation {
        Observation::Probe(run) => {
            v.evidence = run.outcome.evidence;
            v.duration = run.duration;
            v.attempts = run.attempts;
            v.flaky = run.flaky;
            (run.outcome.status.into(), run.outcome.message)
        }
        Observation::Manual(ManualAnswer::Confirmed { via, note }) => {
            let message = match via {
                Confirmation::Prompt => {
                    v.prompted = true;
                    "confirmed at the prompt".to_string()
                }
                Confirmation::Flag => "confirmed with --confirm".to_string(),
                Confirmation::SignOff(text) => text,
            };
            v.note = note;
            (Status::Confirmed, with_note(message, &v.note))
        }
        Observation::Manual(ManualAnswer::Declined { note }) => {
            v.note = note;
            let message = with_note("declined at the prompt".into(), &v.note);
            (Status::Declined, message)
        }
        Observation::Manual(ManualAnswer::Unanswered(why)) => {
            let expired = match policy.state.signoff(policy.checklist, &item.id, policy.now) {
                SignOffState::Expired(msg) => Some(msg),
                _ => None,
            };
            let rejected = rejected_note(policy, &item.id, "sign-off");
            let message = match (expired, rejected, why) {
                (Some(msg), _, _) => msg,
                (None, Some(rejected), _) => format!("not confirmed: {rejected}"),
                (None, None, Unanswered::SkippedAtPrompt) => "skipped at the prompt".to_string(),
                (None, None, Unanswered::NeedsApproval) => format!(
                    "not confirmed: only a sign-off signed by an approver counts (request one with `prodcheck signoff {} {} --requested-by PRINCIPAL`; an approver runs `prodcheck approve`)",
                    policy.checklist, item.id
                ),
                (None, None, Unanswered::NonInteractive) => format!(
                    "not confirmed: non-interactive run (confirm with `--confirm {}`)",
                    item.id
                ),
            };
            (Status::Pending, message)
        }
        Observation::NotRun(NotRun::NotSelected) => {
            (Status::Skip, "not selected (--only / --skip)".to_string())
        }
        Observation::NotRun(NotRun::ManualLeftOut) => (
            Status::Skip,
            "manual item left out (--automated)".to_string(),
        ),
        Observation::NotRun(NotRun::NotDue(why)) => (Status::Skip, why),
        Observation::NotRun(NotRun::Interrupted) => (Status::Skip, "interrupted".to_string()),
        Observation::NotRun(NotRun::Needs(blocked)) => {
            SkippedBy {
                skipped_by: blocked.cause.clone(),
                needs: blocked.need.clone(),
            }
            .write(&mut v.evidence);
            (Status::Skip, blocked.message())
        }
        Observation::NotRun(NotRun::NotApplicable(why)) => {
            (Status::NotApplicable, format!("not applicable: {why}"))
        }
        Observation::Unconfigured(vars) => {
            let message = unconfigured_message(&vars);
            UnsetVariables {
                unset_variables: vars.clone(),
            }
            .write(&mut v.evidence);
            (Status::Unconfigured, message)
        }
    };
    v.observed = status;
    v.status = status;
    v.message = message;
    v
}

/// What an unconfigured item says: which variables, and the three ways out.
pub fn unconfigured_message(vars: &[String]) -> String {
    let names: Vec<String> = vars.iter().map(|v| format!("`{v}`")).collect();
    let (noun, verb) = if vars.len() == 1 {
        ("variable", "is")
    } else {
        ("variables", "are")
    };
    let example = vars.first().map(String::as_str).unwrap_or("NAME");
    format!(
        "not configured: {noun} {} {verb} not set; pass `--var {example}=…`, set it for an environment in prodcheck.yaml (`prodcheck init --discover` finds what it can), or declare the item `not_applicable:` there",
        names.join(", ")
    )
}

fn with_note(message: String, note: &Option<String>) -> String {
    match note {
        Some(n) => format!("{message}: {n}"),
        None => message,
    }
}

/// A waiver accepts a failing, erroring, declined or pending item until its day. Once expired
/// it changes nothing but the words: the observed status stands (InSpec's expired waivers), and
/// the message names the waiver so it cannot rot silently.
fn apply_waiver(item: &Item, v: &mut Verdict, policy: &Policy) {
    let waivable = matches!(
        v.observed,
        Status::Fail | Status::Error | Status::Declined | Status::Pending | Status::Unconfigured
    );
    if !waivable {
        return;
    }
    let Some(w) = policy.state.waiver(policy.checklist, &item.id) else {
        if let Some(note) = rejected_note(policy, &item.id, "waiver") {
            v.message = format!("{} ({note})", v.message);
        }
        return;
    };
    let expired = !w.active(policy.now);
    let was = format!("{}: {}", v.observed, v.message);
    if expired {
        v.message = format!(
            "{was} (waiver by {} expired on {}: {}; renew it with `prodcheck waive` or fix the item)",
            w.who(),
            w.until,
            w.reason
        );
    } else {
        v.status = Status::Waived;
        let risk = affix(", ", w.risk, " risk");
        v.message = format!(
            "waived by {} until {}{risk}: {} (was {was})",
            w.who(),
            w.until,
            w.reason
        );
    }
    v.waiver = Some(WaiverUse {
        by: w.who().to_string(),
        requested_by: w.requested_by.clone(),
        risk: w.risk.map(|r| r.to_string()),
        until: w.until.to_string(),
        reason: w.reason.clone(),
        expired,
    });
}

/// `the waiver by bob does not count: self-approved …` for the newest rejected record of
/// `kind` (`sign-off`, `waiver`) of the item, if any.
fn rejected_note(policy: &Policy, item: &str, kind: &str) -> Option<String> {
    let r = policy
        .state
        .rejected_for(policy.checklist, item)
        .filter(|r| r.kind == kind)
        .last()?;
    Some(format!(
        "the {kind} by {} does not count: {}",
        r.by, r.reason
    ))
}

/// The run's exit code from its verdicts: 130 when interrupted, else the worst contribution.
pub fn exit_code<'a>(verdicts: impl IntoIterator<Item = &'a u8>, interrupted: bool) -> u8 {
    if interrupted {
        return exit_code::INTERRUPTED;
    }
    verdicts
        .into_iter()
        .fold(exit_code::OK, |a, b| exit_code::worse(a, *b))
}

#[cfg(test)]
mod tests;
