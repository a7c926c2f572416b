//! The Markdown report of a fleet run: the overall verdict, a table of the targets that need a
//! look (worst first, clean ones folded), each of them with what needs attention, and every
//! item with its target folded at the end.

use super::markdown_table::{
    HEADER, cell, counts, heading, rank, row, run_line, verdict_parts, waits_for_someone,
};
use super::{ItemReport, Report, targets::severity_rank};
use crate::exit_code;
use crate::status::Status;

fn verdict(code: u8) -> String {
    let (mark, text) = verdict_parts(code);
    format!("{mark} exit {code}: {text}")
}

pub(super) fn fleet(report: &Report) -> String {
    let mut out = String::new();
    let targets = format!(" · {} targets", report.targets.len());
    out.push_str(&heading(report, &targets));
    out.push_str(&format!(
        "**{}** · {}\n\n{}\n",
        verdict(report.exit_code),
        run_line(report),
        counts(report)
    ));
    let mut views: Vec<_> = report.target_views().collect();
    views.sort_by_key(|(t, _)| std::cmp::Reverse(severity_rank(t.exit_code)));
    let (clean, attention): (Vec<_>, Vec<_>) = views.iter().partition(|(t, view)| {
        t.exit_code == exit_code::OK && view.items.iter().all(|i| !i.needs_attention())
    });
    if !attention.is_empty() {
        out.push_str("\n| Target | Environment | Verdict | Items |\n| --- | --- | --- | --- |\n");
        for (t, view) in &attention {
            out.push_str(&format!(
                "| **{}** | {} | {} | {} |\n",
                cell(&t.name),
                cell(t.environment.as_deref().unwrap_or("")),
                verdict(t.exit_code),
                counts(view)
            ));
        }
    }
    if !clean.is_empty() {
        let names: Vec<String> = clean.iter().map(|(t, _)| format!("`{}`", t.name)).collect();
        out.push_str(&format!(
            "\n<details><summary>✅ {} target(s) passed</summary>\n\n{}\n\n</details>\n",
            clean.len(),
            names.join(", ")
        ));
    }
    for (t, view) in &attention {
        let mut items: Vec<&ItemReport> = view
            .items
            .iter()
            .filter(|i| rank(view, i) <= 2 && !waits_for_someone(i))
            .collect();
        let pending = view.with_status(Status::Pending).count();
        out.push_str(&format!(
            "\n### `{}` — {}\n\n",
            cell(&t.name),
            verdict(t.exit_code)
        ));
        if items.is_empty() {
            out.pop(); // the blank line comes with what follows
        } else {
            items.sort_by_key(|i| rank(view, i));
            out.push_str(HEADER);
            for item in items {
                out.push_str(&row(view, item));
            }
        }
        if pending > 0 {
            out.push_str(&format!(
                "\n⏳ {pending} manual item(s) pending: `prodcheck signoff {} ID --target {}`\n",
                report.checklist, t.name
            ));
        }
        out.push_str(&super::unconfigured::markdown(view));
        if let Some(changes) = t.changes.as_ref().filter(|c| !c.is_empty()) {
            for line in changes.lines() {
                out.push_str(&format!("\n- {}", cell(&line)));
            }
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "\n<details><summary>All {} items</summary>\n\n| Target {}",
        report.items.len(),
        HEADER.replacen("| --- ", "| --- | --- ", 1)
    ));
    for (t, view) in &views {
        let mut items: Vec<&ItemReport> = view.items.iter().collect();
        items.sort_by_key(|i| rank(view, i));
        for item in items {
            out.push_str(&format!("| `{}` {}", cell(&t.name), row(view, item)));
        }
    }
    out.push_str("\n</details>\n");
    out
}
