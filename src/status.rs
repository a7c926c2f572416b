//! The status vocabulary of a report: what probes observe (`pass` … `skip`) plus the manual
//! and waiver states the verdict stage adds; history, reports and `serve` all speak it.

use serde::{Deserialize, Serialize};

/// An item's status in a report. Probes produce the first five ([`checks::Status`]); the
/// manual and waiver states exist only here, where policy is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The property was evaluated and holds.
    Pass,
    /// The property holds, but something deserves attention.
    Warn,
    /// The target answered and violates the property.
    Fail,
    /// prodcheck could not get a real answer (its own network, a throttled answer, a bug).
    Error,
    /// Not run (filtered out, not due, interrupted).
    Skip,
    /// A manual item a human confirmed.
    Confirmed,
    /// A manual item a human declined.
    Declined,
    /// A manual item nobody answered (CI, or a sign-off that expired).
    Pending,
    /// A failing, erroring or pending item covered by a waiver that has not expired.
    Waived,
    /// An automated item that could not run: variables it needs are unset. Gates like
    /// `pending` (code 6 with `--automated`): a gate never passes by omission.
    Unconfigured,
    /// Declared not to apply to this environment or target in `prodcheck.yaml`, with a reason.
    #[serde(rename = "not_applicable")]
    NotApplicable,
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 11] = [
        Status::Pass,
        Status::Warn,
        Status::Fail,
        Status::Error,
        Status::Skip,
        Status::Confirmed,
        Status::Declined,
        Status::Pending,
        Status::Waived,
        Status::Unconfigured,
        Status::NotApplicable,
    ];

    /// The stable lowercase name used in every machine-readable format.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
            Status::Confirmed => "confirmed",
            Status::Declined => "declined",
            Status::Pending => "pending",
            Status::Waived => "waived",
            Status::Unconfigured => "unconfigured",
            Status::NotApplicable => "not_applicable",
        }
    }

    /// Whether this status means something is wrong (history's "failing" streaks).
    pub fn is_failing(self) -> bool {
        matches!(self, Status::Fail | Status::Error | Status::Declined)
    }
}

impl From<checks::Status> for Status {
    fn from(s: checks::Status) -> Self {
        match s {
            checks::Status::Pass => Status::Pass,
            checks::Status::Warn => Status::Warn,
            checks::Status::Fail => Status::Fail,
            checks::Status::Error => Status::Error,
            checks::Status::Skip => Status::Skip,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
