//! How reports show `unconfigured` items: grouped by the unset variable they wait for, with
//! the ways to settle them (shared by the human and Markdown formats, fleets included).

use checks::figures::Figures;
use colored::Colorize;

use crate::figures::UnsetVariables;

use super::wrap::{WIDTH, wrap};
use super::{ItemReport, Report};
use crate::status::Status;

/// The variables an unconfigured item waits for (its `unset_variables` evidence).
pub(super) fn unset_variables(item: &ItemReport) -> Vec<String> {
    UnsetVariables::read(&item.evidence)
        .map(|u| u.unset_variables)
        .unwrap_or_default()
}

/// The human report's block (default verbosity): each unset variable and the items waiting
/// for it, and the ways to settle them.
pub(super) fn human(report: &Report, out: &mut String) {
    let items: Vec<&ItemReport> = report.with_status(Status::Unconfigured).collect();
    if items.is_empty() {
        return;
    }
    let mut by_var: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for item in &items {
        for var in unset_variables(item) {
            by_var.entry(var).or_default().push(&item.id);
        }
    }
    out.push_str(&format!(
        "\n{} {}\n",
        format!("○ {} item(s) unconfigured", items.len())
            .yellow()
            .bold(),
        "(their variables are not set):".dimmed()
    ));
    for (var, ids) in by_var {
        let head = format!("  {var}: ");
        let lines = wrap(&ids, "", WIDTH.saturating_sub(head.len()));
        let pad = " ".repeat(head.len());
        for (n, line) in lines.iter().enumerate() {
            let lead = if n == 0 { head.as_str() } else { pad.as_str() };
            out.push_str(&format!("{lead}{line}\n"));
        }
    }
    for line in [
        "set them with `--var NAME=VALUE` or in a prodcheck.yaml environment (`--env NAME`;",
        "`prodcheck init --discover` finds what it can), or declare an item `not_applicable:` there",
    ] {
        out.push_str(&format!("  {}\n", line.dimmed()));
    }
}

/// `⚙️ N item(s) unconfigured`: each unset variable and the items waiting for it.
pub(super) fn markdown(report: &Report) -> String {
    let mut by_var: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut count = 0;
    for item in report.with_status(Status::Unconfigured) {
        count += 1;
        for var in unset_variables(item) {
            by_var
                .entry(var)
                .or_default()
                .push(format!("`{}`", item.id));
        }
    }
    if count == 0 {
        return String::new();
    }
    let lines: Vec<String> = by_var
        .iter()
        .map(|(var, ids)| format!("- `{var}`: {}", ids.join(", ")))
        .collect();
    format!(
        "\n<details><summary>⚙️ {count} item(s) unconfigured</summary>\n\n{}\n\nSet the variables with `--var NAME=VALUE` or in a prodcheck.yaml environment (`prodcheck init --discover` finds what it can), or declare the items `not_applicable:` there.\n\n</details>\n",
        lines.join("\n")
    )
}
