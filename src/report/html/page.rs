//! `--report html=FILE`: one self-contained page to attach to a release ticket. The verdict on
//! top, what needs attention, the pictures, then every section's items, failing first (a fleet
//! run: the targets table and each target that needs a look, see `fleet`).
//!
//! Every text is escaped by maud (a target's `Server` header or certificate name is data, never
//! markup); a Content-Security-Policy forbids scripts and every load, so the page works without
//! JavaScript and sends no request. CSS is inline (light, dark and print).

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::badge::{badge, symbol};
use super::{expiry, grade, items, latency, strip};
use crate::exit_code;
use crate::report::{ItemReport, Report, Reporter, rfc3339};
use crate::status::Status;

pub struct HtmlReporter;

const STYLE: &str = include_str!("style.css");

/// No script, no connection, no font or image from anywhere: the page is the file.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// The class (`st-…`), glyph and word of the run's verdict.
fn verdict(report: &Report) -> (&'static str, &'static str, &'static str) {
    match report.exit_code {
        exit_code::OK => ("pass", "✔", "PASSED"),
        exit_code::FAILED => ("fail", "✘", "FAILED"),
        exit_code::PENDING => ("pending", "?", "PENDING"),
        exit_code::UNCONFIGURED => ("pending", "○", "UNCONFIGURED"),
        exit_code::INTERRUPTED => ("warn", "▲", "INTERRUPTED"),
        _ => ("error", "!", "NOT EVALUATED"),
    }
}

fn header(report: &Report) -> Markup {
    let (class, glyph, word) = verdict(report);
    let meaning = exit_code::TABLE
        .iter()
        .find(|(c, _)| *c == report.exit_code)
        .map(|(_, t)| *t)
        .unwrap_or("");
    let started = rfc3339(report.started_at);
    let counts: Vec<(Status, usize)> = Status::ALL
        .into_iter()
        .map(|s| (s, report.items.iter().filter(|i| i.status == s).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    html! {
        header class=(format!("verdict v-{class}")) {
            p class="eyebrow" { "prodcheck report" }
            h1 {
                (report.checklist)
                @if let Some(t) = &report.title { span class="subtitle" { " — " (t) } }
            }
            p class="verdict-line" {
                span class=(format!("badge big st-{class}")) {
                    span aria-hidden="true" { (glyph) } " " (word)
                }
                " exit code " strong { (report.exit_code) } ": " (meaning)
            }
            @if report.interrupted {
                p { strong { "Interrupted (Ctrl-C):" } " this report is partial." }
            }
            dl class="facts" {
                div { dt { "Environment" } dd { (report.environment.as_deref().unwrap_or("none (no --env)")) } }
                div { dt { "Started" } dd { time datetime=(started) { (started) } } }
                div { dt { "Duration" } dd { (format!("{:.1} s", report.duration.as_secs_f64())) } }
                div { dt { "Checklist" } dd { code { (report.source_path()) } } }
                @if let Some(w) = &report.watch {
                    div { dt { "Watch" } dd {
                        @if let Some(stage) = &w.stage { "stage " (stage) ", " }
                        (crate::units::short(w.window)) " window every "
                        (crate::units::short(w.every)) ", " (w.evaluations) " evaluations"
                        @if let Some(id) = &w.stopped_by { ", stopped early: " (id) " fired" }
                    } }
                }
                div { dt { "Gate" } dd {
                    @if report.fail_on_warning { "critical and warning items (--fail-on warning)" }
                    @else { "critical items" }
                } }
            }
            ul class="counts" aria-label="Items per status" {
                li { strong { (report.items.len()) } " items:" }
                @for (status, n) in &counts {
                    li { span class=(format!("badge st-{}", status.as_str())) {
                        span aria-hidden="true" { (symbol(*status)) } " " (n) " " (status.as_str())
                    } }
                }
            }
        }
    }
}

/// What blocks the gate and other problems first, each with its message and fix in view.
fn attention(report: &Report) -> Markup {
    let mut list: Vec<&ItemReport> = report
        .items
        .iter()
        .filter(|i| {
            crate::report::markdown_table::rank(report, i) <= 2
                && !crate::report::markdown_table::waits_for_someone(i)
        })
        .collect();
    list.sort_by_key(|i| {
        (
            crate::report::markdown_table::rank(report, i),
            report.cause_rank(i),
        )
    });
    let pending = report.with_status(Status::Pending).count();
    let unconfigured: Vec<&str> = report
        .with_status(Status::Unconfigured)
        .map(|i| i.id.as_str())
        .collect();
    html! {
        section id="attention" aria-labelledby="attention-h" {
            h2 id="attention-h" { "Needs attention" }
            @if list.is_empty() {
                p { "Nothing failed, erred or warned." }
            }
            ol class="attention" {
                @for item in &list {
                    li class=(format!("st-edge-{}", item.status.as_str())) {
                        (badge(item.status)) " "
                        a href=(format!("#{}", items::anchor(&item.id))) { code { (item.id) } }
                        " " (item.title)
                        @if !report.gates(item) { " " span class="muted" { "(non-gating)" } }
                        p class="message" { (item.message) }
                        @if let Some(line) = report.caused_line(item) { p class="caused" { (line) } }
                        @if let Some(fix) = &item.fix { p class="fix" { strong { "Fix: " } (fix) } }
                    }
                }
            }
            @if pending > 0 {
                p class="pending-note" {
                    (badge(Status::Pending)) " " (pending) " manual item(s) pending: confirm with "
                    code { "--confirm ID" } " for a run, or record a sign-off: "
                    code { "prodcheck signoff " (report.checklist) " ID" } "."
                }
            }
            @if !unconfigured.is_empty() {
                p class="pending-note" {
                    (badge(Status::Unconfigured)) " " (unconfigured.len()) " item(s) unconfigured ("
                    (unconfigured.join(", ")) "): set their variables with "
                    code { "--var NAME=VALUE" } " or in a prodcheck.yaml environment ("
                    code { "prodcheck init --discover" } " finds what it can), or declare them "
                    code { "not_applicable:" } " there."
                }
            }
            @if let Some(changes) = report.changes.as_ref().filter(|c| !c.is_empty()) {
                h3 { "Since the previous run (" (changes.previous_at) ")" }
                ul { @for line in changes.lines() { li { (line) } } }
            }
        }
    }
}

fn pictures(report: &Report) -> Markup {
    let certs = expiry::certificates(report);
    let cards: Vec<grade::Card> = report.items.iter().filter_map(grade::Card::of).collect();
    let latencies: Vec<latency::Percentiles> = report
        .items
        .iter()
        .filter_map(latency::Percentiles::of)
        .collect();
    let history = strip::strip(report);
    html! {
        section id="pictures" aria-labelledby="pictures-h" {
            h2 id="pictures-h" { "Pictures" }
            @if let Some(svg) = expiry::timeline(&certs) {
                figure id="figure-expiry" {
                    figcaption { "Certificate expiry: days left for every certificate seen, against its warn (amber) and fail (red) thresholds." }
                    (svg)
                }
            }
            @for card in &cards {
                figure id=(format!("figure-grade-{}", super::svg::slug(&card.item))) {
                    figcaption {
                        "Security-header grade of " code { (card.item) } " (" (card.url()) "): each header test's points."
                    }
                    (grade::card(card))
                }
            }
            @for p in &latencies {
                figure id=(format!("figure-latency-{}", super::svg::slug(&p.item))) {
                    figcaption {
                        "Latency of " code { (p.item) } " (" (p.url) ", " (p.samples) " samples): percentiles against their bounds."
                    }
                    (latency::chart(p))
                }
            }
            figure id="figure-history" {
                figcaption {
                    "Run history: " (history.runs.len()) " run(s) of this checklist and environment, oldest left."
                    @if history.runs.len() == 1 {
                        " No earlier run is recorded in .prodcheck/history yet; the strip grows with each run."
                    }
                    @if history.steady > 0 {
                        " " (history.steady) " item(s) kept one passing or pending status throughout and are not drawn."
                    }
                    @if history.more > 0 {
                        " " (history.more) " more item(s) changed and are not drawn."
                    }
                }
                (strip::picture_of(&history))
                p class="legend" {
                    "Cells: "
                    @for s in Status::ALL { (badge(s)) " " }
                    "· not in that run; the exit-code row shows each run's code."
                }
            }
        }
    }
}

impl Reporter for HtmlReporter {
    fn render(&self, report: &Report) -> String {
        let (_, _, word) = verdict(report);
        let page = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta http-equiv="Content-Security-Policy" content=(CSP);
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="color-scheme" content="light dark";
                    meta name="generator" content=(concat!("prodcheck ", env!("CARGO_PKG_VERSION")));
                    // No favicon request either.
                    link rel="icon" href="data:,";
                    title { "prodcheck " (report.checklist) ": " (word) " (exit " (report.exit_code) ")" }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    @if report.is_fleet() {
                        a class="skip" href="#targets" { "Skip to the targets" }
                    } @else {
                        a class="skip" href="#sections" { "Skip to the items" }
                    }
                    (header(report))
                    main {
                        @if report.is_fleet() {
                            (super::fleet::targets(report))
                        } @else {
                            (attention(report))
                            (pictures(report))
                            (items::sections(report))
                        }
                    }
                    footer {
                        p {
                            "Written by prodcheck " (env!("CARGO_PKG_VERSION")) " for the run started "
                            (rfc3339(report.started_at)) ". Self-contained: no script, no request; secrets shown as ***."
                        }
                    }
                }
            }
        };
        let mut text = page.into_string();
        text.push('\n');
        text
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::report::fixture;
    use std::time::{Duration, UNIX_EPOCH};

    /// A report with one item per `(id, status)` in section "S" (blocking when failing).
    pub fn report(statuses: &[(&str, Status)]) -> Report {
        let items = statuses
            .iter()
            .map(|(id, status)| ItemReport {
                title: format!("Title of {id}"),
                message: format!("message of {id}"),
                duration: Duration::from_millis(12),
                fix: Some(format!("fix of {id}")),
                ..fixture::item(id, "http", *status)
            })
            .collect();
        Report {
            title: Some("A checklist".into()),
            environment: Some("staging".into()),
            started_at: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            duration: Duration::from_millis(1500),
            ..fixture::report("c", items)
        }
    }

    #[test]
    fn the_header_says_the_verdict_in_words_and_the_title_names_it() {
        let page = HtmlReporter.render(&report(&[("a", Status::Pass), ("b", Status::Fail)]));
        assert!(
            page.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{page}"
        );
        assert!(
            page.contains("<title>prodcheck c: FAILED (exit 1)</title>"),
            "{page}"
        );
        assert!(page.contains("exit code <strong>1</strong>: a gating item failed"));
        assert!(page.contains("staging") && page.contains("2027-01-15T08:00:00Z"));
        assert!(page.contains("1 pass") && page.contains("1 fail"));
        assert!(page.contains(CSP));
        assert!(!page.contains("<script"), "no script of its own");
    }

    #[test]
    fn a_watch_names_its_window_and_what_stopped_it() {
        let mut r = report(&[("error-rate", Status::Fail)]);
        r.watch = Some(crate::report::WatchInfo {
            stage: Some("canary".into()),
            window: Duration::from_secs(600),
            every: Duration::from_secs(30),
            evaluations: 7,
            stopped_by: Some("error-rate".into()),
        });
        let page = HtmlReporter.render(&r);
        assert!(page.contains("<dt>Watch</dt><dd>stage canary, "), "{page}");
        assert!(
            page.contains("7 evaluations, stopped early: error-rate fired"),
            "{page}"
        );
    }
}
