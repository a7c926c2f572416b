//! The summary `init --discover` prints: one line per variable, grouped as found, guessed,
//! kept (set by the user) and still needed, with the value and the evidence; then the notes.

use super::finding::short;

/// One line of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `found`, `guessed`, `kept`, `needed` or `note`.
    pub status: &'static str,
    pub var: String,
    pub value: String,
    pub evidence: String,
}

const ORDER: [&str; 5] = ["found", "guessed", "kept", "needed", "note"];
const MAX_VALUE: usize = 48;
const MAX_EVIDENCE: usize = 110;

/// The rows as aligned text, in the order of [`ORDER`] (stable within a group).
pub fn render(rows: &[Row]) -> String {
    let rows = merge_needed(rows);
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|r| {
        ORDER
            .iter()
            .position(|o| *o == r.status)
            .unwrap_or(ORDER.len())
    });
    // A merged row (`a, b, c`) does not widen the column; it runs over it.
    let var_w = sorted
        .iter()
        .filter(|r| !r.var.contains(", "))
        .map(|r| r.var.len())
        .max()
        .unwrap_or(0);
    let values: Vec<String> = sorted.iter().map(|r| short(&r.value, MAX_VALUE)).collect();
    let value_w = values.iter().map(|v| v.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (r, value) in sorted.iter().zip(values) {
        let line = format!(
            "  {:<7}  {:<var_w$}  {:<value_w$}  {}",
            r.status,
            r.var,
            value,
            short(&r.evidence, MAX_EVIDENCE)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Needed variables that share their reason (a source that is not set) on one row.
fn merge_needed(rows: &[Row]) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for r in rows {
        if r.status == "needed"
            && let Some(same) = out
                .iter_mut()
                .find(|o| o.status == "needed" && o.evidence == r.evidence)
        {
            same.var.push_str(", ");
            same.var.push_str(&r.var);
            continue;
        }
        out.push(r.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &'static str, var: &str, value: &str, evidence: &str) -> Row {
        Row {
            status,
            var: var.into(),
            value: value.into(),
            evidence: evidence.into(),
        }
    }

    #[test]
    fn groups_in_order_and_aligns_columns() {
        let text = render(&[
            row("needed", "ws_url", "~", "none of /ws upgrades"),
            row("needed", "api_job", "~", "prometheus_url is not set"),
            row("needed", "node_job", "~", "prometheus_url is not set"),
            row("found", "health_url", "http://s/healthz", "answers 200"),
            row("note", "redis role", "", "master"),
            row("guessed", "min_replicas", "1", "streams to 1"),
        ]);
        assert_eq!(
            text,
            "  found    health_url    http://s/healthz  answers 200\n  guessed  min_replicas  1                 streams to 1\n  needed   ws_url        ~                 none of /ws upgrades\n  needed   api_job, node_job  ~                 prometheus_url is not set\n  note     redis role                      master\n"
        );
    }
}
