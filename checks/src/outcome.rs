//! What running a probe produces: a [`Status`], a one-line message and structured evidence.
//! Results are data, not `Err`: a probe that cannot reach its target returns `Status::Error`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Structured key/value facts backing an outcome (shown for anything that does not pass).
pub type Evidence = Map<String, Value>;

/// What a probe observed. Manual answers and waivers are not a probe's business: the CLI's
/// verdict stage adds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The property was evaluated and holds.
    Pass,
    /// The property holds, but something deserves attention.
    Warn,
    /// The property was evaluated and is violated.
    Fail,
    /// The property could not be evaluated (the check itself broke).
    Error,
    /// Not applicable to this target (nothing to judge).
    Skip,
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 5] = [
        Status::Pass,
        Status::Warn,
        Status::Fail,
        Status::Error,
        Status::Skip,
    ];

    /// The stable lowercase name used in every machine-readable format.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        }
    }

    /// Worst-of ordering used when a probe combines several findings.
    fn rank(self) -> u8 {
        match self {
            Status::Skip => 0,
            Status::Pass => 1,
            Status::Warn => 2,
            Status::Error => 3,
            Status::Fail => 4,
        }
    }

    /// The worse of two statuses (`fail` beats `error` beats `warn` beats `pass`).
    pub fn worst(self, other: Status) -> Status {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one probe run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    /// One line a human can act on: what was expected and what was found.
    pub message: String,
    pub evidence: Evidence,
    /// The answer itself, kept only when the runner asks for it (an item that `capture:`s
    /// values); never reported, and dropped once the values are taken.
    #[serde(skip)]
    pub answer: Option<Box<crate::capture::Answer>>,
}

impl Outcome {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Outcome {
            status,
            message: message.into(),
            evidence: Evidence::new(),
            answer: None,
        }
    }
    pub fn pass(message: impl Into<String>) -> Self {
        Self::new(Status::Pass, message)
    }
    pub fn warn(message: impl Into<String>) -> Self {
        Self::new(Status::Warn, message)
    }
    pub fn fail(message: impl Into<String>) -> Self {
        Self::new(Status::Fail, message)
    }
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Status::Error, message)
    }

    /// Adds one evidence entry (builder style).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }

    /// Adds every entry of `evidence` (builder style).
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.extend(evidence);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_prefers_fail_over_error_over_warn() {
        assert_eq!(Status::Pass.worst(Status::Warn), Status::Warn);
        assert_eq!(Status::Warn.worst(Status::Error), Status::Error);
        assert_eq!(Status::Fail.worst(Status::Error), Status::Fail);
        assert_eq!(Status::Skip.worst(Status::Pass), Status::Pass);
    }

    #[test]
    fn status_strings_are_stable() {
        let names: Vec<_> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["pass", "warn", "fail", "error", "skip"]);
        assert_eq!(
            serde_json::to_string(&Status::Error).ok().as_deref(),
            Some("\"error\"")
        );
    }
}
