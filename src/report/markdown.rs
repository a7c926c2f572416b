//! `--report markdown`: GitHub-flavoured Markdown for a PR comment or `$GITHUB_STEP_SUMMARY`:
//! the verdict, a summary table, what changed, then the items with problems first.

use crate::verdict::Status;

use super::{ItemReport, Report, Reporter};
use crate::exit_code;

pub struct MarkdownReporter;

/// Makes text safe inside a table cell: no pipes, no raw HTML, no line breaks.
fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass | Status::Confirmed => "✅",
        Status::Warn => "⚠️",
        Status::Fail | Status::Declined => "❌",
        Status::Error => "❗",
        Status::Skip => "⏭️",
        Status::Pending => "⏳",
        Status::Waived => "🔕",
    }
}

/// Items needing attention first (gate-blocking, then other problems), checklist order within.
fn rank(report: &Report, item: &ItemReport) -> u8 {
    match item.status {
        _ if report.blocks(item) => 0,
        Status::Fail | Status::Error | Status::Declined | Status::Pending => 1,
        Status::Warn | Status::Waived => 2,
        Status::Skip => 4,
        Status::Pass | Status::Confirmed => 3,
    }
}

impl Reporter for MarkdownReporter {
    fn render(&self, report: &Report) -> String {
        let mut out = String::new();
        let title = report
            .title
            .as_deref()
            .map(|t| format!(" — {}", cell(t)))
            .unwrap_or_default();
        out.push_str(&format!("## prodcheck: `{}`{title}\n\n", report.checklist));
        let verdict = exit_code::TABLE
            .iter()
            .find(|(c, _)| *c == report.exit_code)
            .map(|(_, t)| *t)
            .unwrap_or("");
        let mark = if report.exit_code == exit_code::OK {
            "✅"
        } else {
            "❌"
        };
        let env = report
            .environment
            .as_deref()
            .map(|e| format!(" · environment `{}`", cell(e)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{mark} **exit {}: {verdict}**{env} · {} items in {:.1}s · `{}`\n\n",
            report.exit_code,
            report.items.len(),
            report.duration.as_secs_f64(),
            report.source_path(),
        ));
        out.push_str("| Status | Items |\n| --- | ---: |\n");
        for (status, n) in report.summary().into_iter().filter(|(_, n)| *n > 0) {
            let s = Status::ALL
                .into_iter()
                .find(|s| s.as_str() == status)
                .map(icon)
                .unwrap_or("");
            out.push_str(&format!("| {s} {status} | {n} |\n"));
        }
        if let Some(changes) = &report.changes {
            out.push_str(&format!(
                "\n**Since the previous run** ({}):\n\n",
                changes.previous_at
            ));
            for line in changes.lines() {
                out.push_str(&format!("- {}\n", cell(&line)));
            }
        }
        let mut items: Vec<&ItemReport> = report.items.iter().collect();
        items.sort_by_key(|i| rank(report, i));
        out.push_str("\n| | Item | Section | Severity | Kind | Message |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for item in items {
            let gate = if report.gates(item) {
                ""
            } else {
                " (non-gating)"
            };
            out.push_str(&format!(
                "| {} {} | **{}** {} | {} | {}{gate} | {} | {} |\n",
                icon(item.status),
                item.status.as_str(),
                cell(&item.id),
                cell(&item.title),
                cell(&item.section),
                item.severity.as_str(),
                cell(&item.kind),
                cell(
                    &[item.message.clone()]
                        .into_iter()
                        .chain(item.fix_lines())
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            ));
        }
        out
    }
}
