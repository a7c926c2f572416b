//! What discovery learned about one variable: the value (as YAML text), how sure it is, and the
//! evidence that goes into the comment and the summary table.

use super::yaml_edit::render_str;

/// How a variable was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Certainty {
    /// Seen answering as the variable requires.
    Found,
    /// Likely, but not proved (a replica count, a route not burst-tested).
    Guessed,
    /// Not settled: left unset with the reason.
    Needed,
}

impl Certainty {
    pub fn as_str(self) -> &'static str {
        match self {
            Certainty::Found => "found",
            Certainty::Guessed => "guessed",
            Certainty::Needed => "needed",
        }
    }
}

/// One variable's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub var: String,
    /// YAML value text (`None` for needed ones).
    pub value: Option<String>,
    pub certainty: Certainty,
    pub evidence: String,
    /// Only an override of the metric convention's standard name: written when it differs
    /// from the standard, or to replace a line `init` wrote.
    pub standard: bool,
}

impl Finding {
    fn new(var: &str, value: Option<String>, certainty: Certainty, evidence: String) -> Self {
        Finding {
            var: var.to_string(),
            value,
            certainty,
            evidence,
            standard: false,
        }
    }

    /// A verified string value.
    pub fn found(var: &str, value: &str, evidence: impl Into<String>) -> Self {
        Self::new(
            var,
            Some(render_str(value)),
            Certainty::Found,
            evidence.into(),
        )
    }

    /// A verified value already written as YAML (`{ /status: ok }`, `["…"]`, `1`).
    pub fn found_yaml(var: &str, yaml: impl Into<String>, evidence: impl Into<String>) -> Self {
        Self::new(var, Some(yaml.into()), Certainty::Found, evidence.into())
    }

    /// A likely value, YAML text.
    pub fn guessed_yaml(var: &str, yaml: impl Into<String>, evidence: impl Into<String>) -> Self {
        Self::new(var, Some(yaml.into()), Certainty::Guessed, evidence.into())
    }

    /// A likely string value.
    pub fn guessed(var: &str, value: &str, evidence: impl Into<String>) -> Self {
        Self::guessed_yaml(var, render_str(value), evidence)
    }

    /// Not settled, and why.
    pub fn needed(var: &str, why: impl Into<String>) -> Self {
        Self::new(var, None, Certainty::Needed, why.into())
    }

    /// Marks an explicit metric variable that equals its convention's standard name.
    pub fn standard(mut self, is_standard: bool) -> Self {
        self.standard = is_standard;
        self
    }

    /// The comment written after the value.
    pub fn comment(&self) -> String {
        match self.certainty {
            Certainty::Found => format!("found: {}", self.evidence),
            Certainty::Guessed => format!("guessed: {}", self.evidence),
            Certainty::Needed => format!("not found: {}", self.evidence),
        }
    }
}

/// A fact worth showing that sets no variable (`pg_stat_statements` installed, Redis role).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub what: String,
    pub evidence: String,
}

/// Everything one source learned.
#[derive(Debug, Default)]
pub struct Learned {
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
}

impl Learned {
    pub fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }

    pub fn note(&mut self, what: &str, evidence: impl Into<String>) {
        self.notes.push(Note {
            what: what.to_string(),
            evidence: evidence.into(),
        });
    }

    /// Every variable in `vars` as needed, for the same reason (a source that is not set).
    pub fn all_needed(&mut self, vars: &[&str], why: &str) {
        for v in vars {
            self.push(Finding::needed(v, why));
        }
    }

    pub fn extend(&mut self, other: Learned) {
        self.findings.extend(other.findings);
        self.notes.extend(other.notes);
    }
}

/// `text` cut to `max` characters for evidence (`…` when cut), on one line.
pub fn short(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}
