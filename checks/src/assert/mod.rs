//! `assert:` — one expression form every probe that returns a document shares
//! (`/checks/db/latency_ms < 50 warn 40`, `header Server absent`, `/services every /status == up`).
//! Parsed at load time (a bad regex or pointer is a positioned diagnostic); evidence shows each
//! assertion's actual value.

mod eval;
mod parse;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use eval::{Judged, Subject, judge};
pub(crate) use parse::first_line as regex_error_line;
pub use parse::{Assertion, Selector, parse};

use crate::outcome::{Evidence, Outcome, Status};
use crate::probe::ParamIssue;

/// `assert:` as written: a list of expressions, kept as text so that `check_params` can point
/// at the one that does not parse.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Assertions(pub Vec<String>);

impl Assertions {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parsed assertions (those that parse; `check` reports the others at load time).
    pub fn parsed(&self) -> Vec<Assertion> {
        self.0.iter().filter_map(|t| parse(t).ok()).collect()
    }

    /// Load-time validation: every expression parses and selects something the probe has
    /// (`allowed`: the selector kinds it offers, e.g. `["pointer", "status", "header"]`).
    pub fn check(&self, field: &'static str, allowed: &[&str]) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        for (i, text) in self.0.iter().enumerate() {
            match parse(text) {
                Err(e) => issues.push(
                    ParamIssue::new(field, format!("assertion `{}`: {e}", text.trim()))
                        .hint("write SELECTOR OPERATOR VALUE, e.g. `/status == up`, `header Server absent`, `/latency_ms < 50 warn 40` (see the README's Assertions)")
                        .at(i),
                ),
                Ok(a) if !allowed.contains(&a.selector.kind()) => issues.push(
                    ParamIssue::new(
                        field,
                        format!(
                            "assertion `{}`: this probe has no `{}` to select",
                            a.text,
                            a.selector.kind()
                        ),
                    )
                    .hint(format!("this probe's assertions select: {}", allowed.join(", ")))
                    .at(i),
                ),
                Ok(_) => {}
            }
        }
        issues
    }

    /// Judges every assertion against `subject`: the worst status, the messages of those that
    /// did not pass, and the evidence entry (`assertions`: each expression, status, actual value).
    pub fn evaluate(&self, subject: &Subject) -> Verdicts {
        let mut out = Verdicts {
            status: Status::Pass,
            messages: Vec::new(),
            evidence: Vec::new(),
        };
        for a in self.parsed() {
            let j = judge(&a, subject);
            out.status = out.status.worst(j.status);
            if let Some(m) = &j.message {
                out.messages.push(m.clone());
            }
            out.evidence.push(json!({
                "assert": a.text,
                "status": j.status.as_str(),
                "actual": j.actual,
            }));
        }
        out
    }
}

/// The assertions of one run, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdicts {
    pub status: Status,
    pub messages: Vec<String>,
    pub evidence: Vec<Value>,
}

impl Verdicts {
    /// `outcome` with these verdicts folded in: the worse status wins, every assertion that did
    /// not pass is said in the message, and the evidence lists them all.
    pub fn fold(&self, mut outcome: Outcome) -> Outcome {
        self.write(&mut outcome.evidence);
        if self.messages.is_empty() {
            return outcome;
        }
        let worst = outcome.status.worst(self.status);
        outcome.message = if outcome.status == Status::Pass {
            self.messages.join("; ")
        } else {
            format!("{}; {}", outcome.message, self.messages.join("; "))
        };
        outcome.status = worst;
        outcome
    }

    /// Writes the `assertions` evidence entry (nothing when there were none).
    pub fn write(&self, evidence: &mut Evidence) {
        if !self.evidence.is_empty() {
            evidence.insert("assertions".into(), Value::Array(self.evidence.clone()));
        }
    }
}

crate::params::schema::impl_json_schema!(Assertions, "Assertions", {
    "description": "Assertions, one expression each: SELECTOR OPERATOR [VALUE] [warn VALUE]. Selectors: a JSON pointer (`/checks/db/latency_ms`), a JSONPath (`$.checks.db`), `.` (the whole document), `status`, `header NAME`, `body`, `time`. Operators: `==`, `!=`, `<`, `<=`, `>`, `>=` (numbers may carry units: `50ms`, `10KiB`; `warn N` adds a degraded level), `matches REGEX`, `contains TEXT`, `exists`, `absent`, `every ASSERTION`, `any ASSERTION` (over a list, with a pointer relative to each element).",
    "type": "array",
    "items": {
        "type": "string",
        "examples": [
            "/checks/db/latency_ms < 50 warn 40",
            "/version matches ^2\\.",
            "header Server absent",
            "/services every /status == up",
            "time < 2s warn 1500ms"
        ]
    }
});
