//! The HTML report's item tables: one per section, failing first, each item expandable (a
//! `<details>`, open when it needs attention) to its message, fix, docs link and evidence.

use maud::{Markup, html};
use serde_json::Value;

use super::badge::badge;
use super::svg::{cut, slug};
use crate::report::{ItemReport, Report};

/// Characters of an evidence value shown; the JSON report has it whole.
const EVIDENCE_CHARS: usize = 4000;
/// Characters of a message in a row's summary line (the full text is inside).
const SUMMARY_CHARS: usize = 240;

/// The id of an item's row, for links from the attention list.
pub fn anchor(id: &str) -> String {
    format!("item-{}", slug(id))
}

/// A link only for http(s) URLs: anything else (a `javascript:` URL in a checklist) is text.
fn docs_link(url: &str) -> Markup {
    let lower = url.to_ascii_lowercase();
    html! {
        @if lower.starts_with("https://") || lower.starts_with("http://") {
            a href=(url) rel="noreferrer" { (url) }
        } @else {
            code { (url) }
        }
    }
}

fn value(v: &Value) -> Markup {
    html! {
        @match v {
            Value::String(s) => (cut(s, EVIDENCE_CHARS)),
            Value::Array(_) | Value::Object(_) => {
                // Focusable: a long value scrolls, and keyboards must reach it too.
                pre tabindex="0" { (cut(&serde_json::to_string_pretty(v).unwrap_or_default(), EVIDENCE_CHARS)) }
            }
            other => (other.to_string()),
        }
    }
}

fn duration(item: &ItemReport) -> String {
    let ms = item.duration.as_millis();
    if item.kind == "manual" {
        String::new()
    } else if ms >= 10_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

/// What the row's `<details>` holds beyond the summary line.
fn more(item: &ItemReport) -> Markup {
    html! {
        div class="more" {
            @if item.message.chars().count() > SUMMARY_CHARS {
                p class="message" { (item.message) }
            }
            @if let Some(fix) = &item.fix { p class="fix" { strong { "Fix: " } (fix) } }
            @if let Some(line) = item.series_line() { p { strong { "Watched: " } (line) } }
            @if let Some(docs) = &item.docs { p { strong { "Docs: " } (docs_link(docs)) } }
            @if let Some(note) = &item.note { p { strong { "Note: " } (note) } }
            @if let Some(w) = &item.waiver {
                p {
                    strong { @if w.expired { "Expired waiver: " } @else { "Waiver: " } }
                    (w.reason) " (by " (w.by) ", until " (w.until) ")"
                }
            }
            @if item.observed != item.status {
                p { "Observed " (badge(item.observed)) ", decided " (badge(item.status)) "." }
            }
            @if item.attempts > 1 {
                p { (item.attempts) " attempts" @if item.flaky { " (flaky: passed after a retry)" } }
            }
            @if !item.evidence.is_empty() {
                dl class="evidence" aria-label="Evidence" {
                    @for (k, v) in &item.evidence {
                        div { dt { (k) } dd { (value(v)) } }
                    }
                }
            }
        }
    }
}

fn has_more(item: &ItemReport) -> bool {
    item.message.chars().count() > SUMMARY_CHARS
        || item.fix.is_some()
        || item.docs.is_some()
        || item.note.is_some()
        || item.waiver.is_some()
        || !item.evidence.is_empty()
        || item.series.is_some()
}

fn row(report: &Report, item: &ItemReport) -> Markup {
    html! {
        tr id=(anchor(&item.id)) class=(format!("st-edge-{}", item.status.as_str())) {
            td { (badge(item.status)) @if item.flaky { " " span class="muted" { "flaky" } } }
            th scope="row" { code { (item.id) } br; span class="title" { (item.title) } }
            td {
                (item.severity.as_str())
                @if !report.gates(item) { br; span class="muted" { "non-gating" } }
            }
            td { code { (item.kind) } br; span class="muted" { (duration(item)) } }
            td class="result" {
                @if has_more(item) {
                    details open[item.needs_attention()] {
                        summary { (cut(&item.message, SUMMARY_CHARS)) }
                        (more(item))
                    }
                } @else {
                    (item.message)
                }
            }
        }
    }
}

/// The items of section `name`, failing first, checklist order within a rank.
fn ranked<'a>(report: &'a Report, name: &str) -> Vec<&'a ItemReport> {
    let mut items: Vec<&ItemReport> = report.items.iter().filter(|i| i.section == name).collect();
    items.sort_by_key(|i| crate::report::markdown_table::rank(report, i));
    items
}

/// Every section in checklist order, its items ranked as the Markdown report ranks them.
pub fn sections(report: &Report) -> Markup {
    let mut names: Vec<&str> = Vec::new();
    for item in &report.items {
        if !names.contains(&item.section.as_str()) {
            names.push(&item.section);
        }
    }
    html! {
        div id="sections" {
            @for (n, name) in names.iter().enumerate() {
                @let items = ranked(report, name);
                @let failing = items.iter().filter(|i| i.needs_attention()).count();
                section class="section" aria-labelledby=(format!("section-{n}")) {
                    h2 id=(format!("section-{n}")) {
                        (name) " "
                        span class="muted" {
                            (items.len()) " item(s)"
                            @if failing > 0 { ", " (failing) " need attention" }
                        }
                    }
                    div class="scroll" {
                        table {
                            thead { tr {
                                th scope="col" { "Status" }
                                th scope="col" { "Item" }
                                th scope="col" { "Severity" }
                                th scope="col" { "Kind" }
                                th scope="col" { "Result" }
                            } }
                            tbody { @for item in &items { (row(report, item)) } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::page::tests::report;
    use crate::status::Status;

    #[test]
    fn failing_items_come_first_and_open() {
        let r = report(&[("ok", Status::Pass), ("bad", Status::Fail)]);
        let html = sections(&r).into_string();
        let bad = html.find("id=\"item-bad\"").expect("bad row");
        let ok = html.find("id=\"item-ok\"").expect("ok row");
        assert!(bad < ok, "failing first: {html}");
        assert!(
            html.contains("<details open><summary>message of bad"),
            "{html}"
        );
        assert!(html.contains("<details><summary>message of ok"), "{html}");
        assert!(html.contains("<strong>Fix: </strong>fix of bad"), "{html}");
    }

    #[test]
    fn only_web_urls_become_links() {
        assert!(
            docs_link("https://x.test/a?b=1&c=2")
                .into_string()
                .contains(r#"<a href="https://x.test/a?b=1&amp;c=2""#)
        );
        let js = docs_link("javascript:alert(1)").into_string();
        assert!(!js.contains("href"), "{js}");
    }

    #[test]
    fn evidence_from_a_target_is_text_not_markup() {
        let mut r = report(&[("bad", Status::Fail)]);
        r.items[0].evidence.insert(
            "server".into(),
            Value::String("<script>alert(1)</script></table>".into()),
        );
        r.items[0].evidence.insert(
            "nested".into(),
            serde_json::json!({"cn": "</td><img src=x onerror=alert(1)>"}),
        );
        r.items[0].message = "got `<b>` & \"quotes\"".into();
        let html = sections(&r).into_string();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/table&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;/td&gt;&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        assert!(
            html.contains("got `&lt;b&gt;` &amp; &quot;quotes&quot;"),
            "{html}"
        );
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
    }
}
