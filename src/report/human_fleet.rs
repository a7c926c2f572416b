//! The terminal report of a fleet run: a heading and the usual body per target that needs a
//! look, clean targets folded into one line (below `-v`), then the targets by exit code and
//! the overall summary, so a thousand healthy services do not bury the one that is not.
//! Targets are folded one at a time ([`FleetFold`]), so a streamed run keeps none of them.

use std::collections::BTreeMap;
use std::time::Duration;

use colored::Colorize;

use super::human::{HumanReporter, WIDTH, cut};
use super::human_frame::{meaning, summary_text};
use super::targets::severity_rank;
use super::{Report, TargetReport};
use crate::exit_code;
use crate::status::Status;
use crate::text::affix;

/// How many target names the `Targets:` line shows per exit code.
const NAMES_PER_CODE: usize = 8;

/// What the end of a fleet's report needs of the targets already written: bounded (the names
/// the lines can show, and counts), whatever the fleet's size.
#[derive(Debug, Default)]
pub(super) struct FleetFold {
    /// Clean targets: how many, and their names joined as far as the line can show them.
    clean: usize,
    clean_names: String,
    clean_chars: usize,
    /// Per exit code: how many targets, and the first names.
    by_code: BTreeMap<u8, (usize, Vec<String>)>,
}

impl HumanReporter {
    pub(super) fn render_fleet(&self, report: &Report) -> String {
        let count = format!(" · {} targets", report.targets.len());
        let mut out = self.heading(report, &count);
        let mut fold = FleetFold::default();
        for (target, view) in report.target_views() {
            self.fleet_part(target, &view, &mut fold, &mut out);
        }
        let ends_blank = out.ends_with("\n\n");
        out.push_str(&self.fleet_end(
            &fold,
            ends_blank,
            &report.summary(),
            report.exit_code,
            report.duration,
        ));
        out
    }

    /// One target: its heading, body and summary line appended to `out`, unless it is clean
    /// (below `-v`); either way folded into `fold`.
    pub(super) fn fleet_part(
        &self,
        target: &TargetReport,
        view: &Report,
        fold: &mut FleetFold,
        out: &mut String,
    ) {
        let (n, names) = fold.by_code.entry(target.exit_code).or_default();
        *n += 1;
        if names.len() < NAMES_PER_CODE {
            names.push(target.name.clone());
        }
        if self.verbosity == 0 && is_clean(view) {
            fold.clean += 1;
            // Past the line's width, further names cannot show.
            if fold.clean_chars <= WIDTH {
                if !fold.clean_names.is_empty() {
                    fold.clean_names.push_str(", ");
                    fold.clean_chars += 2;
                }
                fold.clean_names.push_str(&target.name);
                fold.clean_chars += target.name.chars().count();
            }
            return;
        }
        out.push_str(&target_heading(target));
        self.body(view, Some(&target.name), out);
        out.push_str(&self.summary_line(view, &format!("{}:", target.name)));
        out.push('\n');
    }

    /// The clean targets' line, the targets by exit code and the overall summary; `ends_blank`:
    /// whether the text before ends with a blank line.
    pub(super) fn fleet_end(
        &self,
        fold: &FleetFold,
        ends_blank: bool,
        summary: &BTreeMap<&'static str, usize>,
        exit_code: u8,
        duration: Duration,
    ) -> String {
        let mut out = String::new();
        if fold.clean > 0 {
            let head = format!("✔ {} target(s) passed: ", fold.clean);
            out.push_str(&format!(
                "{}\n",
                cut(&format!("{head}{}", fold.clean_names), WIDTH).green()
            ));
        }
        let ends_blank = if out.is_empty() {
            ends_blank
        } else {
            out.ends_with("\n\n")
        };
        if !ends_blank {
            out.push('\n');
        }
        out.push_str(&targets_line(fold));
        out.push_str(&summary_text(summary, exit_code, duration, "Summary:"));
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
    let env = affix(" [env: ", target.environment.as_deref(), "]");
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

/// `Targets: 2 exit 1 (api, web), 1 exit 3 (db), 997 exit 0`: worst exit code first.
fn targets_line(fold: &FleetFold) -> String {
    let mut codes: Vec<(&u8, &(usize, Vec<String>))> = fold.by_code.iter().collect();
    codes.sort_by_key(|(code, _)| std::cmp::Reverse(severity_rank(**code)));
    let parts: Vec<String> = codes
        .into_iter()
        .map(|(&code, (n, names))| {
            if code == exit_code::OK {
                return format!("{n} exit 0");
            }
            let names = crate::fleet::select::shorten_counted(names, *n, NAMES_PER_CODE);
            format!("{n} exit {code} ({names})")
        })
        .collect();
    format!("{} {}\n", "Targets:".bold(), parts.join(", "))
}
