//! What changed since the previous run of the same checklist and environment: newly failing,
//! fixed, and still failing (since when). Computed from the history, shown by human and markdown.

/// The difference between this run and the previous one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// When the previous run started (RFC 3339).
    pub previous_at: String,
    pub newly_failing: Vec<String>,
    pub fixed: Vec<String>,
    /// Item ids with the start of the run since which they have failed without a break.
    pub still_failing: Vec<(String, String)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.newly_failing.is_empty() && self.fixed.is_empty() && self.still_failing.is_empty()
    }

    /// One plain line per kind of change (no markup: each format decorates them).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.newly_failing.is_empty() {
            out.push(format!("newly failing: {}", self.newly_failing.join(", ")));
        }
        if !self.fixed.is_empty() {
            out.push(format!("fixed: {}", self.fixed.join(", ")));
        }
        for (id, since) in &self.still_failing {
            out.push(format!("still failing: {id} (since {since})"));
        }
        if out.is_empty() {
            out.push("no change in failing items".into());
        }
        out
    }
}
