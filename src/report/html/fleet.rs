//! The HTML report of a fleet run: every target in one table (worst first, with its verdict
//! and counts), then a section per target that needs a look with its attention list. Pictures
//! and item tables are one target's business: `run --target NAME --report html=FILE`.

use maud::{Markup, html};

use super::badge::badge;
use super::svg::slug;
use crate::report::targets::severity_rank;
use crate::report::{ItemReport, Report};
use crate::status::Status;

/// The exit code's word for a target's verdict cell.
fn verdict_word(code: u8) -> (&'static str, &'static str) {
    match code {
        crate::exit_code::OK => ("pass", "passed"),
        crate::exit_code::FAILED => ("fail", "failed"),
        crate::exit_code::PENDING => ("pending", "pending"),
        _ => ("error", "not evaluated"),
    }
}

fn counts(view: &Report) -> Markup {
    html! {
        @for status in Status::ALL {
            @let n = view.items.iter().filter(|i| i.status == status).count();
            @if n > 0 { (badge(status)) " " (n) " " }
        }
    }
}

/// The fleet's main content: the targets table, then each target that needs a look.
pub fn targets(report: &Report) -> Markup {
    let mut views: Vec<_> = report.target_views().collect();
    views.sort_by_key(|(t, _)| std::cmp::Reverse(severity_rank(t.exit_code)));
    let needs_look = |view: &Report| {
        view.exit_code != crate::exit_code::OK || view.items.iter().any(|i| i.needs_attention())
    };
    html! {
        section id="targets" aria-labelledby="targets-h" {
            h2 id="targets-h" { (report.targets.len()) " targets" }
            table {
                thead { tr { th { "Target" } th { "Environment" } th { "Verdict" } th { "Items" } } }
                tbody {
                    @for (t, view) in &views {
                        @let (class, word) = verdict_word(t.exit_code);
                        tr {
                            td {
                                @if needs_look(view) {
                                    a href=(format!("#target-{}", slug(&t.name))) { code { (t.name) } }
                                } @else { code { (t.name) } }
                                @for (k, v) in &t.labels { " " span class="muted" { (k) "=" (v) } }
                            }
                            td { (t.environment.as_deref().unwrap_or("")) }
                            td { span class=(format!("badge st-{class}")) { (word) } " exit " (t.exit_code) }
                            td { (counts(view)) }
                        }
                    }
                }
            }
        }
        @for (t, view) in views.iter().filter(|(_, v)| needs_look(v)) {
            section id=(format!("target-{}", slug(&t.name))) aria-labelledby=(format!("target-{}-h", slug(&t.name))) {
                h2 id=(format!("target-{}-h", slug(&t.name))) { "Target " code { (t.name) } }
                ol class="attention" {
                    @for item in attention(view) {
                        li class=(format!("st-edge-{}", item.status.as_str())) {
                            (badge(item.status)) " " code { (item.id) } " " (item.title)
                            @if !view.gates(item) { " " span class="muted" { "(non-gating)" } }
                            p class="message" { (item.message) }
                            @if let Some(fix) = &item.fix { p class="fix" { strong { "Fix: " } (fix) } }
                        }
                    }
                }
                @if let Some(changes) = t.changes.as_ref().filter(|c| !c.is_empty()) {
                    ul { @for line in changes.lines() { li { (line) } } }
                }
            }
        }
    }
}

/// What blocks the gate first, then other problems (pending manual items included).
fn attention(view: &Report) -> Vec<&ItemReport> {
    let mut list: Vec<&ItemReport> = view
        .items
        .iter()
        .filter(|i| crate::report::markdown_table::rank(view, i) <= 2)
        .collect();
    list.sort_by_key(|i| crate::report::markdown_table::rank(view, i));
    list
}
