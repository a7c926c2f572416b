//! `--report markdown`: GitHub-flavoured Markdown for a PR comment or `$GITHUB_STEP_SUMMARY`:
//! the verdict and counts, what needs attention first, then pending items, changes and every
//! item folded into `<details>` blocks.

use crate::status::Status;

use super::markdown_fleet::fleet;
use super::markdown_table::{
    HEADER, cell, counts, heading, rank, row, run_line, verdict_parts, waits_for_someone,
};
use super::{ItemReport, Report, Reporter};

pub struct MarkdownReporter;

impl Reporter for MarkdownReporter {
    fn render(&self, report: &Report) -> String {
        if report.is_fleet() {
            return fleet(report);
        }
        let mut out = String::new();
        out.push_str(&heading(report, ""));
        let (mark, verdict) = verdict_parts(report.exit_code);
        let env = report
            .environment
            .as_deref()
            .map(|e| format!(" · environment `{}`", cell(e)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{mark} **exit {}: {verdict}**{env} · {}\n\n",
            report.exit_code,
            run_line(report),
        ));
        out.push_str(&format!("{}\n", counts(report)));

        // What needs attention first: anything that blocks the gate, then other problems.
        let mut attention: Vec<&ItemReport> = report
            .items
            .iter()
            .filter(|i| rank(report, i) <= 2 && !waits_for_someone(i))
            .collect();
        attention.sort_by_key(|i| (rank(report, i), report.cause_rank(i)));
        if !attention.is_empty() {
            out.push_str("\n### Needs attention\n\n");
            out.push_str(HEADER);
            for item in attention {
                out.push_str(&row(report, item));
            }
        }
        let pending: Vec<&ItemReport> = report.with_status(Status::Pending).collect();
        if !pending.is_empty() {
            let ids: Vec<String> = pending.iter().map(|i| format!("`{}`", i.id)).collect();
            out.push_str(&format!(
                "\n<details><summary>⏳ {} manual item(s) pending</summary>\n\n{}\n\nConfirm with `--confirm ID` for a run, or record a sign-off: `prodcheck signoff {} ID`.\n\n</details>\n",
                pending.len(),
                ids.join(", "),
                report.checklist
            ));
        }
        out.push_str(&super::unconfigured::markdown(report));
        if let Some(changes) = report.changes.as_ref().filter(|c| !c.is_empty()) {
            out.push_str(&format!(
                "\n<details><summary>Since the previous run ({})</summary>\n\n",
                changes.previous_at
            ));
            for line in changes.lines() {
                out.push_str(&format!("- {}\n", cell(&line)));
            }
            out.push_str("\n</details>\n");
        }
        let mut items: Vec<&ItemReport> = report.items.iter().collect();
        items.sort_by_key(|i| (rank(report, i), report.cause_rank(i)));
        out.push_str(&format!(
            "\n<details><summary>All {} items</summary>\n\n{HEADER}",
            items.len()
        ));
        for item in items {
            out.push_str(&row(report, item));
        }
        out.push_str("\n</details>\n");
        out
    }
}
