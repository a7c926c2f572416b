//! The terminal report of a fleet run: a heading and the usual body per target that needs a
//! look, clean targets folded into one line (below `-v`), then the targets by exit code and
//! the overall summary, so a thousand healthy services do not bury the one that is not.

use colored::Colorize;

use super::human::{HumanReporter, WIDTH, cut, meaning};
use super::{Report, TargetReport};
use crate::exit_code;
use crate::status::Status;

impl HumanReporter {
    pub(super) fn render_fleet(&self, report: &Report) -> String {
        let count = format!(" · {} targets", report.targets.len());
        let mut out = self.heading(report, &count);
        let mut clean: Vec<&str> = Vec::new();
        for (target, view) in report.target_views() {
            if self.verbosity == 0 && is_clean(&view) {
                clean.push(&target.name);
                continue;
            }
            out.push_str(&target_heading(target));
            self.body(&view, Some(&target.name), &mut out);
            out.push_str(&self.summary_line(&view, &format!("{}:", target.name)));
            out.push('\n');
        }
        if !clean.is_empty() {
            let head = format!("✔ {} target(s) passed: ", clean.len());
            let list = clean.join(", ");
            out.push_str(&format!(
                "{}\n",
                cut(&format!("{head}{list}"), WIDTH).green()
            ));
        }
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&targets_line(report));
        out.push_str(&self.summary_line(report, "Summary:"));
        out
    }
}

/// Nothing to say about a target: every item passed, was confirmed or skipped, nothing changed.
fn is_clean(view: &Report) -> bool {
    view.exit_code == exit_code::OK
        && view.items.iter().all(|i| {
            matches!(
                i.status,
                Status::Pass | Status::Confirmed | Status::Skip | Status::NotApplicable
            )
        })
        && view.changes.as_ref().is_none_or(|c| c.is_empty())
}

/// `━━ api [env: production] {team=payments} — exit 1: a gating item failed`.
fn target_heading(target: &TargetReport) -> String {
    let env = target
        .environment
        .as_deref()
        .map(|e| format!(" [env: {e}]"))
        .unwrap_or_default();
    let labels: Vec<String> = target
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!(" {{{}}}", labels.join(", "))
    };
    let verdict = format!("exit {}: {}", target.exit_code, meaning(target.exit_code));
    let verdict = if target.exit_code == exit_code::OK {
        verdict.green()
    } else {
        verdict.red()
    };
    format!(
        "{} {}{env}{} — {verdict}\n",
        "━━".bold(),
        target.name.bold(),
        labels.dimmed()
    )
}

/// `Targets: 2 exit 1 (api, web), 1 exit 3 (db), 997 exit 0`.
fn targets_line(report: &Report) -> String {
    let parts: Vec<String> = report
        .targets_by_exit_code()
        .into_iter()
        .map(|(code, n)| {
            if code == exit_code::OK {
                return format!("{n} exit 0");
            }
            let names: Vec<String> = report
                .targets
                .iter()
                .filter(|t| t.exit_code == code)
                .map(|t| t.name.clone())
                .collect();
            format!(
                "{n} exit {code} ({})",
                crate::fleet::select::shorten(&names, 8)
            )
        })
        .collect();
    format!("{} {}\n", "Targets:".bold(), parts.join(", "))
}
