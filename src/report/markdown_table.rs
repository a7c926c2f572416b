//! The Markdown item table and its ranking, shared by the single-run and the fleet Markdown
//! reports (so neither imports the other).

use super::{ItemReport, Report};
use crate::exit_code;
use crate::status::Status;

/// Makes text safe inside a table cell: no pipes, no raw HTML, no line breaks.
pub(super) fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

pub(super) fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass | Status::Confirmed => "✅",
        Status::Warn => "⚠️",
        Status::Fail | Status::Declined => "❌",
        Status::Error => "❗",
        Status::Skip => "⏭️",
        Status::Pending => "⏳",
        Status::Waived => "🔕",
        Status::Unconfigured => "⚙️",
        Status::NotApplicable => "🚫",
    }
}

/// Items needing attention first (gate-blocking, then other problems), checklist order within.
pub(super) fn rank(report: &Report, item: &ItemReport) -> u8 {
    match item.status {
        _ if report.blocks(item) => 0,
        Status::Fail
        | Status::Error
        | Status::Declined
        | Status::Pending
        | Status::Unconfigured => 1,
        Status::Warn | Status::Waived => 2,
        Status::Skip | Status::NotApplicable => 4,
        Status::Pass | Status::Confirmed => 3,
    }
}

/// Pending and unconfigured items wait for someone (a sign-off, a variable): each has its own
/// block, not a row under "Needs attention".
pub(super) fn waits_for_someone(item: &ItemReport) -> bool {
    matches!(item.status, Status::Pending | Status::Unconfigured)
}

/// One table row for `item`.
pub(super) fn row(report: &Report, item: &ItemReport) -> String {
    let gate = if report.gates(item) {
        ""
    } else {
        " (non-gating)"
    };
    let text: Vec<String> = [item.message.clone()]
        .into_iter()
        .chain(report.caused_line(item))
        .chain(item.series_line())
        .chain(item.fix_lines())
        .collect();
    format!(
        "| {} {} | **{}** {} | {} | {}{gate} | {} | {} |\n",
        icon(item.status),
        item.status.as_str(),
        cell(&item.id),
        cell(&item.title),
        cell(&item.section),
        item.severity.as_str(),
        cell(&item.kind),
        cell(&text.join("\n")),
    )
}

pub(super) const HEADER: &str =
    "| | Item | Section | Severity | Kind | Message |\n| --- | --- | --- | --- | --- | --- |\n";

/// The mark and the exit-code table's text for a verdict: `("✅", "ready")`.
pub(super) fn verdict_parts(code: u8) -> (&'static str, &'static str) {
    let text = exit_code::TABLE
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, t)| *t)
        .unwrap_or("");
    let mark = if code == exit_code::OK { "✅" } else { "❌" };
    (mark, text)
}

/// `✅ 3 pass · ❌ 1 fail` for `report`.
pub(super) fn counts(report: &Report) -> String {
    report
        .summary()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| {
            let s = Status::ALL
                .into_iter()
                .find(|s| s.as_str() == status)
                .map(icon)
                .unwrap_or("");
            format!("{s} {n} {status}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `## prodcheck: `NAME` — TITLE` and `more` (` · 3 targets` for a fleet), then a blank line.
pub(super) fn heading(report: &Report, more: &str) -> String {
    let title = report
        .title
        .as_deref()
        .map(|t| format!(" — {}", cell(t)))
        .unwrap_or_default();
    format!("## prodcheck: `{}`{title}{more}\n\n", report.checklist)
}

/// `12 items in 3.4s · `checklist.yaml``: the size, length and source of a run.
pub(super) fn run_line(report: &Report) -> String {
    format!(
        "{} items in {:.1}s · `{}`",
        report.items.len(),
        report.duration.as_secs_f64(),
        report.source_path()
    )
}
