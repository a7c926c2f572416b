//! The frame around a human report's sections: heading, watched triggers, pending items,
//! changes, expired waivers, rejected records, what needs attention and the summary line.

use checks::figures::Figures;

use crate::figures::RejectedRecords;
use crate::text::affix;
use std::collections::BTreeMap;
use std::time::Duration;

use colored::Colorize;

use super::human::{HumanReporter, WIDTH, cut, symbol, wrap};
use super::{ItemReport, Report};
use crate::exit_code;
use crate::status::Status;

impl HumanReporter {
    /// A watch: the window, then each trigger with its verdict and a summary of its series.
    fn watched(&self, report: &Report, out: &mut String) {
        let Some(w) = &report.watch else { return };
        let stage = affix(" stage ", w.stage.as_deref(), "");
        let ended = match &w.stopped_by {
            Some(id) => format!(", stopped early: {id} fired"),
            None if report.interrupted => ", interrupted".to_string(),
            None => String::new(),
        };
        out.push_str(&format!(
            "{}\n",
            format!(
                "Watched{stage} for {} of {}, every {} ({} evaluations{ended})",
                crate::units::short(report.duration),
                crate::units::short(w.window),
                crate::units::short(w.every),
                w.evaluations
            )
            .bold()
        ));
        for item in report.items.iter().filter(|i| i.series.is_some()) {
            out.push_str(&self.item_line(report, item));
            if let Some(line) = item.series_line() {
                out.push_str(&format!("            {}\n", line.dimmed()));
            }
            self.details(item, out);
        }
    }

    /// Pending manual items in one block (default verbosity): their ids and how to confirm.
    fn pending(&self, report: &Report, target: Option<&str>, out: &mut String) {
        if self.verbosity > 0 {
            return;
        }
        let pending: Vec<&str> = report
            .with_status(Status::Pending)
            .map(|i| i.id.as_str())
            .collect();
        if pending.is_empty() {
            return;
        }
        out.push_str(&format!(
            "\n{} {}\n",
            format!("? {} manual item(s) pending", pending.len())
                .yellow()
                .bold(),
            format!(
                "(confirm with `--confirm ID` for this run, or record a sign-off: `prodcheck signoff {} ID{}`):",
                report.checklist,
                affix(" --target ", target, "")
            )
            .dimmed()
        ));
        for line in wrap(&pending, "  ", WIDTH) {
            out.push_str(&format!("{line}\n"));
        }
    }

    /// Failures and errors again, one line each, so the last screen of a CI log is enough.
    fn attention(&self, report: &Report, out: &mut String) {
        let mut blocking: Vec<&ItemReport> = report
            .items
            .iter()
            .filter(|i| {
                matches!(i.status, Status::Fail | Status::Error | Status::Declined)
                    && report.gates(i)
            })
            .collect();
        // Root causes first (`needs:`): the one failure that made others skip leads.
        blocking.sort_by_key(|i| report.cause_rank(i));
        if blocking.is_empty() {
            return;
        }
        out.push_str(&format!("\n{}\n", "Needs attention:".bold()));
        for item in blocking {
            let line = cut(
                &format!("{} {}: {}", symbol(item.status), item.id, item.message),
                WIDTH - 2,
            );
            let line = match item.status {
                Status::Error => line.magenta(),
                _ => line.red(),
            };
            out.push_str(&format!("  {line}\n"));
            if let Some(caused) = report.caused_line(item) {
                let caused = cut(&format!("↳ {caused}"), WIDTH - 4);
                out.push_str(&format!("    {}\n", caused.dimmed()));
            }
        }
    }

    /// `checklist — title [env: e] (file)` and a blank line; `extra` goes before the file.
    pub(super) fn heading(&self, report: &Report, extra: &str) -> String {
        let title = affix(" — ", report.title.as_deref(), "");
        let env = affix(" [env: ", report.environment.as_deref(), "]");
        format!(
            "{}{title}{env}{extra} {}\n\n",
            report.checklist.bold(),
            format!("({})", report.file).dimmed()
        )
    }

    /// Sections (or a watch's triggers), pending items, changes, expired waivers and what
    /// needs attention; `target` names the fleet target in the advice it gives.
    pub(super) fn body(&self, report: &Report, target: Option<&str>, out: &mut String) {
        if report.watch.is_none() {
            self.sections(report, out);
        }
        self.watched(report, out);
        self.pending(report, target, out);
        if self.verbosity == 0 {
            super::unconfigured::human(report, out);
        }
        if let Some(changes) = report.changes.as_ref().filter(|c| !c.is_empty()) {
            out.push_str(&format!(
                "\n{} ({}):\n",
                "Since the previous run".bold(),
                changes.previous_at
            ));
            for line in changes.lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
        let expired = report.expired_waivers();
        if !expired.is_empty() {
            let list: Vec<String> = expired
                .iter()
                .filter_map(|i| {
                    let w = i.waiver.as_ref()?;
                    Some(format!("{} (by {}, ended {})", i.id, w.by, w.until))
                })
                .collect();
            out.push_str(&format!(
                "\n{} {} — renew with `prodcheck waive` or fix the item\n",
                format!("{} expired waiver(s):", expired.len())
                    .yellow()
                    .bold(),
                list.join(", ")
            ));
        }
        rejected_records(report, out);
        self.attention(report, out);
    }

    /// `Summary: 3 pass, 1 fail in 0.4s — exit 1: a gating item failed`.
    pub(super) fn summary_line(&self, report: &Report, label: &str) -> String {
        summary_text(&report.summary(), report.exit_code, report.duration, label)
    }
}

/// The summary line of counts per status (`summary`), exit code and duration.
pub(super) fn summary_text(
    summary: &BTreeMap<&'static str, usize>,
    exit_code: u8,
    duration: Duration,
    label: &str,
) -> String {
    let summary: Vec<String> = summary
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let verdict = format!("exit {exit_code}: {}", meaning(exit_code));
    let verdict = if exit_code == exit_code::OK {
        verdict.green().bold()
    } else {
        verdict.red().bold()
    };
    format!(
        "\n{} {} in {:.1}s — {verdict}\n",
        label.bold(),
        summary.join(", "),
        duration.as_secs_f64()
    )
}

/// The sign-offs and waivers on record that did not count, one line each with the reason
/// (from each item's `rejected_records` evidence).
fn rejected_records(report: &Report, out: &mut String) {
    let lines: Vec<String> = report
        .items
        .iter()
        .flat_map(|i| {
            let list = RejectedRecords::read(&i.evidence)
                .map(|r| r.rejected_records)
                .unwrap_or_default();
            list.into_iter()
                .map(move |r| format!("  {} of {} by {}: {}\n", r.kind, i.id, r.by, r.reason))
        })
        .collect();
    if lines.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n{}\n",
        format!(
            "{} rejected sign-off(s)/waiver(s) on record (they do not count):",
            lines.len()
        )
        .red()
        .bold()
    ));
    for line in lines {
        out.push_str(&line);
    }
}

/// The exit code's line of the table (`a gating item failed`).
pub(super) fn meaning(code: u8) -> &'static str {
    exit_code::TABLE
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, t)| *t)
        .unwrap_or("")
}
