//! The run-history strip: the last runs of this checklist and environment (from
//! `.prodcheck/history`) and this one, one column per run, one row per item that did not pass
//! steadily, so a flapping or long-failing item shows at a glance.

use maud::{Markup, html};

use super::svg::{cut, num, picture};
use crate::report::{Report, rfc3339};
use crate::status::Status;

/// Rows drawn at most; the rest are counted in words.
pub const MAX_ROWS: usize = 30;

/// One run as the strip needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub at: String,
    pub exit_code: u8,
    /// The status of each row's item in this run (`None`: the item did not exist then).
    pub cells: Vec<Option<Status>>,
}

/// Columns (oldest first, this run last) and the rows they share.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    pub rows: Vec<String>,
    pub runs: Vec<Run>,
    /// Items left out because their status never changed and never needed attention.
    pub steady: usize,
    /// Items left out because there were more than [`MAX_ROWS`].
    pub more: usize,
}

fn notable(status: Status) -> bool {
    !matches!(
        status,
        Status::Pass | Status::Confirmed | Status::Skip | Status::Pending | Status::NotApplicable
    )
}

/// The strip of `report`: rows for the items whose status changed over the runs shown or that
/// needed attention in one of them, in checklist order.
pub fn strip(report: &Report) -> Strip {
    let history = &report.recent_runs;
    let mut rows = Vec::new();
    let mut steady = 0;
    for item in &report.items {
        let past: Vec<Option<Status>> = history
            .iter()
            .map(|r| r.item(&item.id).map(|i| i.status))
            .collect();
        let changed = past.iter().any(|s| *s != Some(item.status));
        let attention = notable(item.status) || past.iter().flatten().any(|s| notable(*s));
        if changed || attention {
            rows.push(item.id.clone());
        } else {
            steady += 1;
        }
    }
    let more = rows.len().saturating_sub(MAX_ROWS);
    rows.truncate(MAX_ROWS);
    let mut runs: Vec<Run> = history
        .iter()
        .map(|r| Run {
            at: r.started_at.to_string(),
            exit_code: r.exit_code,
            cells: rows.iter().map(|id| r.item(id).map(|i| i.status)).collect(),
        })
        .collect();
    runs.push(Run {
        at: rfc3339(report.started_at),
        exit_code: report.exit_code,
        cells: rows
            .iter()
            .map(|id| report.items.iter().find(|i| i.id == *id).map(|i| i.status))
            .collect(),
    });
    Strip {
        rows,
        runs,
        steady,
        more,
    }
}

const LABEL: f64 = 230.0;
const CELL: f64 = 18.0;
const GAP: f64 = 2.0;
const TOP: f64 = 4.0;

/// The class and glyph of an exit code's cell.
fn exit_cell(code: u8) -> (&'static str, String) {
    let class = match code {
        0 => "pass",
        1 => "fail",
        4 => "pending",
        130 => "warn",
        _ => "error",
    };
    (class, code.to_string())
}

fn status_cell(status: Option<Status>) -> (&'static str, &'static str) {
    match status {
        Some(s) => (s.as_str(), super::badge::symbol(s)),
        None => ("none", "·"),
    }
}

/// The picture: an exit-code row on top, then one row per item; each cell says its status
/// with a glyph as well as a colour, and its tooltip names the run.
pub fn picture_of(strip: &Strip) -> Markup {
    let columns = strip.runs.len() as f64;
    let width = (LABEL + 10.0 + columns * (CELL + GAP) + 20.0).max(420.0);
    let rows = strip.rows.len() as f64 + 1.0;
    let height = TOP + rows * (CELL + GAP) + 24.0;
    let x = |col: usize| LABEL + 10.0 + col as f64 * (CELL + GAP);
    let y = |row: usize| TOP + row as f64 * (CELL + GAP);
    let last = strip.runs.len().saturating_sub(1);
    let desc = format!(
        "{} runs from {} to {} (this run); rows: {}",
        strip.runs.len(),
        strip.runs.first().map(|r| r.at.as_str()).unwrap_or(""),
        strip.runs.last().map(|r| r.at.as_str()).unwrap_or(""),
        if strip.rows.is_empty() {
            "none (every item kept a passing status)".to_string()
        } else {
            strip.rows.join(", ")
        }
    );
    let body = html! {
        text class="label" x=(num(LABEL)) y=(num(y(0) + 13.0)) text-anchor="end" { "exit code" }
        @for (col, run) in strip.runs.iter().enumerate() {
            @let (class, glyph) = exit_cell(run.exit_code);
            g class="cell" {
                title { (run.at) ": exit " (run.exit_code) @if col == last { " (this run)" } }
                rect class=(format!("st-{class}")) x=(num(x(col))) y=(num(y(0))) width=(num(CELL)) height=(num(CELL)) rx="3" {}
                text class="glyph" x=(num(x(col) + CELL / 2.0)) y=(num(y(0) + 13.0)) text-anchor="middle" { (glyph) }
            }
        }
        @for (row, id) in strip.rows.iter().enumerate() {
            text class="label" x=(num(LABEL)) y=(num(y(row + 1) + 13.0)) text-anchor="end" { (cut(id, 32)) }
            @for (col, run) in strip.runs.iter().enumerate() {
                @let (class, glyph) = status_cell(run.cells.get(row).copied().flatten());
                g class="cell" {
                    title { (id) " at " (run.at) ": " (class) @if col == last { " (this run)" } }
                    rect class=(format!("st-{class}")) x=(num(x(col))) y=(num(y(row + 1))) width=(num(CELL)) height=(num(CELL)) rx="3" {}
                    text class="glyph" x=(num(x(col) + CELL / 2.0)) y=(num(y(row + 1) + 13.0)) text-anchor="middle" { (glyph) }
                }
            }
        }
        @let base = y(strip.rows.len() + 1) + 14.0;
        text class="tick" x=(num(x(0))) y=(num(base)) {
            @if last > 0 { "oldest → this run (right)" } @else { "this run" }
        }
    };
    picture(
        "history",
        "Recent runs of this checklist: status per item over time, oldest left",
        &desc,
        width,
        height,
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{ItemRecord, RunRecord, Timestamp};

    fn record(at: u64, statuses: &[(&str, Status)], code: u8) -> RunRecord {
        RunRecord {
            schema_version: 1,
            checklist: "c".into(),
            target: None,
            environment: None,
            started_at: Timestamp::from_system(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(at),
            ),
            duration_ms: 1,
            exit_code: code,
            interrupted: false,
            items: statuses
                .iter()
                .map(|(id, s)| ItemRecord {
                    id: id.to_string(),
                    status: *s,
                    duration_ms: 1,
                    message: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn rows_are_the_items_that_changed_or_needed_attention() {
        let mut report = crate::report::html::page::tests::report(&[
            ("steady", Status::Pass),
            ("flapping", Status::Pass),
            ("new", Status::Pass),
            ("broken", Status::Fail),
            ("asked", Status::Pending),
        ]);
        report.recent_runs = vec![
            record(
                1_000,
                &[
                    ("steady", Status::Pass),
                    ("flapping", Status::Fail),
                    ("broken", Status::Fail),
                    ("asked", Status::Pending),
                ],
                1,
            ),
            record(
                2_000,
                &[
                    ("steady", Status::Pass),
                    ("flapping", Status::Pass),
                    ("broken", Status::Fail),
                    ("asked", Status::Pending),
                ],
                1,
            ),
        ];
        let s = strip(&report);
        assert_eq!(s.rows, ["flapping", "new", "broken"]);
        assert_eq!(s.steady, 2, "steady and asked kept their status");
        assert_eq!(s.runs.len(), 3, "two earlier runs and this one");
        assert_eq!(
            s.runs[0].cells,
            [Some(Status::Fail), None, Some(Status::Fail)]
        );
        assert_eq!(s.runs[2].exit_code, report.exit_code);
        let svg = picture_of(&s).into_string();
        // Three columns of 18 px with 2 px gaps after a 240 px label column; 4 rows.
        assert_eq!(svg.matches("<g class=\"cell\">").count(), 3 * 4);
        assert!(svg.contains(r#"class="st-fail" x="240" y="24""#), "{svg}");
        assert!(svg.contains(r#"class="st-none" x="260" y="44""#), "{svg}");
        assert!(svg.contains("(this run)"), "{svg}");
    }

    #[test]
    fn a_first_run_is_a_strip_of_one_column() {
        let report =
            crate::report::html::page::tests::report(&[("a", Status::Pass), ("b", Status::Fail)]);
        let s = strip(&report);
        assert_eq!(s.runs.len(), 1);
        assert_eq!(s.rows, ["b"]);
    }
}
