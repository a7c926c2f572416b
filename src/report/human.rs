//! The default terminal report, for an engineer before a release, a CI log reader and the
//! on-call at 9 am: what needs attention stands out, everything else takes one line.
//!
//! Verbosity 0: per section, each item that is not a plain pass on one line (with its message
//! and `fix`), passing items folded into one line; pending manual items in one block; the
//! failures repeated at the end above the summary. `-v`: one line per item, pending items
//! inline, evidence of what did not pass. `-vv`: evidence of everything, values in full.

use colored::{ColoredString, Colorize};

use super::{ItemReport, Report, Reporter};
use crate::status::Status;

pub(super) use super::wrap::{WIDTH, cut, wrap};
/// Evidence values are cut to this many characters below `-vv`.
const EVIDENCE_CHARS: usize = 120;

pub struct HumanReporter {
    pub verbosity: u8,
}

pub(super) fn badge(status: Status) -> ColoredString {
    let word = match status {
        Status::NotApplicable => "N/A".to_string(),
        other => other.as_str().to_uppercase(),
    };
    let text = format!("{} {word:<7}", symbol(status));
    match status {
        Status::Pass | Status::Confirmed => text.green().bold(),
        Status::Warn | Status::Pending | Status::Waived | Status::Unconfigured => {
            text.yellow().bold()
        }
        Status::Fail | Status::Declined => text.red().bold(),
        Status::Error => text.magenta().bold(),
        Status::Skip | Status::NotApplicable => text.dimmed(),
    }
}

pub(super) fn symbol(status: Status) -> &'static str {
    match status {
        Status::Pass | Status::Confirmed => "✔",
        Status::Warn => "▲",
        Status::Fail | Status::Declined => "✘",
        Status::Error => "!",
        Status::Skip => "-",
        Status::Pending => "?",
        Status::Waived => "~",
        Status::Unconfigured => "○",
        Status::NotApplicable => "∅",
    }
}

fn duration(item: &ItemReport) -> String {
    if item.kind == "manual"
        || matches!(
            item.status,
            Status::Skip | Status::Unconfigured | Status::NotApplicable
        )
    {
        return String::new();
    }
    let ms = item.duration.as_millis();
    if ms >= 10_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

impl HumanReporter {
    /// The item's line: badge, id, title, kind and duration, and `(non-gating)` when it
    /// did not pass but cannot change the exit code.
    pub(super) fn item_line(&self, report: &Report, item: &ItemReport) -> String {
        let gate = if !report.gates(item) && item.needs_attention() {
            " (non-gating)"
        } else {
            ""
        };
        let flaky = if item.flaky {
            format!(" {}", "flaky".yellow())
        } else {
            String::new()
        };
        let tail = [item.kind.clone(), duration(item)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "  {} {}  {}{flaky} {}{}\n",
            badge(item.status),
            item.id.bold(),
            item.title,
            format!("[{tail}]").dimmed(),
            gate.dimmed()
        )
    }

    /// Message, fix and (by verbosity) evidence under an item.
    pub(super) fn details(&self, item: &ItemReport, out: &mut String) {
        let indent = "            ";
        let show_message = self.verbosity >= 1 || item.status != Status::Pass;
        if show_message && !item.message.is_empty() {
            out.push_str(&format!("{indent}{}\n", item.message));
        }
        // The fix always; its docs link from `-v` on (the budget of a CI log's last screen).
        for line in item.fix_lines() {
            if self.verbosity == 0 && line.starts_with("docs: ") {
                continue;
            }
            out.push_str(&format!("{indent}{}\n", line.cyan()));
        }
        let evidence = match self.verbosity {
            0 => false,
            1 => !matches!(item.status, Status::Pass | Status::Confirmed | Status::Skip),
            _ => true,
        };
        if evidence {
            for line in item.evidence_lines() {
                let line = if self.verbosity >= 2 {
                    line
                } else {
                    cut(&line, EVIDENCE_CHARS)
                };
                let line = line.trim_end().replace('\n', &format!("\n{indent}  "));
                out.push_str(&format!("{indent}{}\n", line.dimmed()));
            }
        }
    }

    pub(super) fn sections(&self, report: &Report, out: &mut String) {
        let mut sections: Vec<&str> = Vec::new();
        for item in &report.items {
            if !sections.contains(&item.section.as_str()) {
                sections.push(&item.section);
            }
        }
        for section in sections {
            let items: Vec<&ItemReport> = report
                .items
                .iter()
                .filter(|i| i.section == section)
                .collect();
            let folded = |i: &&&ItemReport| {
                self.verbosity == 0
                    && matches!(
                        i.status,
                        Status::Pass
                            | Status::Confirmed
                            | Status::Skip
                            | Status::Pending
                            | Status::Unconfigured
                    )
            };
            let shown: Vec<&&ItemReport> = items.iter().filter(|i| !folded(i)).collect();
            let passed: Vec<&str> = items
                .iter()
                .filter(|i| {
                    self.verbosity == 0 && matches!(i.status, Status::Pass | Status::Confirmed)
                })
                .map(|i| i.id.as_str())
                .collect();
            let skipped = items
                .iter()
                .filter(|i| self.verbosity == 0 && i.status == Status::Skip)
                .count();
            if shown.is_empty() && passed.is_empty() && skipped == 0 {
                continue; // only pending manual items: they are listed in one block below
            }
            let folded_line = (!passed.is_empty() || skipped > 0).then(|| {
                let mut head = String::new();
                if !passed.is_empty() {
                    head.push_str(&format!("{} passed", passed.len()));
                }
                if skipped > 0 {
                    let sep = if head.is_empty() { "" } else { ", " };
                    head.push_str(&format!("{sep}{skipped} skipped"));
                }
                format!("✔ {head}{}", id_list(&passed, WIDTH - head.len() - 20))
            });
            // A section with nothing to say takes one line: its name and what passed.
            if shown.is_empty()
                && let Some(line) = &folded_line
            {
                let room = WIDTH.saturating_sub(section.chars().count() + 2);
                out.push_str(&format!(
                    "{}  {}\n",
                    section.bold(),
                    cut(line, room).green()
                ));
                continue;
            }
            out.push_str(&format!("{}\n", section.bold()));
            for item in shown {
                out.push_str(&self.item_line(report, item));
                self.details(item, out);
                if let Some(caused) = report.caused_line(item) {
                    out.push_str(&format!("            {}\n", caused.yellow()));
                }
            }
            if let Some(line) = folded_line {
                out.push_str(&format!("  {}\n", cut(&line, WIDTH - 2).green()));
            }
        }
    }
}

impl Reporter for HumanReporter {
    fn render(&self, report: &Report) -> String {
        if report.is_fleet() {
            return self.render_fleet(report);
        }
        let mut out = self.heading(report, "");
        self.body(report, None, &mut out);
        out.push_str(&self.summary_line(report, "Summary:"));
        out
    }
}

/// `: a, b, c (+2)`: as many whole ids as fit in `room` characters, then how many more.
fn id_list(ids: &[&str], room: usize) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let mut shown: Vec<&str> = Vec::new();
    let mut used = 0;
    for id in ids {
        if !shown.is_empty() && used + id.len() + 2 > room {
            break;
        }
        used += id.len() + 2;
        shown.push(id);
    }
    let more = ids.len() - shown.len();
    let more = if more > 0 {
        format!(" (+{more})")
    } else {
        String::new()
    };
    format!(": {}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_wrap_at_the_width_and_long_lines_are_cut() {
        let ids = ["alpha", "beta", "gamma", "delta"];
        assert_eq!(wrap(&ids, "  ", 16), ["  alpha, beta,", "  gamma, delta"]);
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(id_list(&ids, 14), ": alpha, beta (+2)");
    }
}
