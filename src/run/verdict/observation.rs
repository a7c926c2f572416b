//! What the observe stage hands the verdict stage: for each item, what the run saw (a probe's
//! outcome, a human's answer, or why it did not run), before any policy is applied.

use std::time::Duration;

use checks::Outcome;

/// What the run saw for one item, before any policy.
#[derive(Debug, Clone)]
pub enum Observation {
    /// A probe ran (a panic inside it arrives here as an `error` outcome naming the bug).
    Probe(ProbeRun),
    /// A manual item: the human's answer, or why nobody answered.
    Manual(ManualAnswer),
    /// The item did not run.
    NotRun(NotRun),
    /// An automated item whose variables are unset: these, in order of first use.
    Unconfigured(Vec<String>),
}

/// One probe's final attempt, with how long all attempts took.
#[derive(Debug, Clone)]
pub struct ProbeRun {
    pub outcome: Outcome,
    pub duration: Duration,
    pub attempts: u32,
    /// Passed only after a retry.
    pub flaky: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManualAnswer {
    Confirmed {
        via: Confirmation,
        note: Option<String>,
    },
    Declined {
        note: Option<String>,
    },
    Unanswered(Unanswered),
}

/// How a manual item was confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// At this run's prompt (recorded as a sign-off afterwards).
    Prompt,
    /// `--confirm ID` on the command line.
    Flag,
    /// A sign-off on record that is still valid; the text says by whom and until when.
    SignOff(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered {
    /// CI or `--non-interactive`: nobody was asked.
    NonInteractive,
    /// Asked, and the human chose "skip".
    SkippedAtPrompt,
    /// The item names approvers (or four eyes): only a signed sign-off confirms it, so nobody
    /// is asked and `--confirm` is refused.
    NeedsApproval,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRun {
    /// Left out by `--only` / `--skip`.
    NotSelected,
    /// A manual item left out by `--automated`.
    ManualLeftOut,
    /// Its cadence has not elapsed (`run maintenance`); the text says since when.
    NotDue(String),
    /// Ctrl-C came first.
    Interrupted,
    /// `not_applicable:` in `prodcheck.yaml`: the reason and where it was declared.
    NotApplicable(String),
    /// An item it `needs:` did not pass, so it was not run.
    Needs(Blocked),
}

/// Why an item was not run for its `needs:`: the need that blocked it and the root cause (the
/// need itself, or what that need was skipped for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub need: String,
    pub cause: String,
    /// What happened to the cause: `failed`, `is not configured`, …
    pub cause_what: String,
}

impl Blocked {
    /// `needs `gateway-up`, which failed` (or `…, which was skipped: `dns` failed`).
    pub fn message(&self) -> String {
        if self.need == self.cause {
            format!("needs `{}`, which {}", self.need, self.cause_what)
        } else {
            format!(
                "needs `{}`, which was skipped: `{}` {}",
                self.need, self.cause, self.cause_what
            )
        }
    }
}
