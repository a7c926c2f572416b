//! The default terminal report: grouped by section, a symbol and coloured status per item,
//! evidence for anything that did not pass, and a summary line that explains the exit code.

use crate::verdict::Status;
use colored::{ColoredString, Colorize};

use super::{ItemReport, Report, Reporter};
use crate::exit_code;

pub struct HumanReporter;

fn badge(status: Status) -> ColoredString {
    let text = format!("{} {:<9}", symbol(status), status.as_str().to_uppercase());
    match status {
        Status::Pass | Status::Confirmed => text.green().bold(),
        Status::Warn | Status::Pending | Status::Waived => text.yellow().bold(),
        Status::Fail | Status::Declined => text.red().bold(),
        Status::Error => text.magenta().bold(),
        Status::Skip => text.dimmed(),
    }
}

fn symbol(status: Status) -> &'static str {
    match status {
        Status::Pass | Status::Confirmed => "✔",
        Status::Warn => "▲",
        Status::Fail | Status::Declined => "✘",
        Status::Error => "!",
        Status::Skip => "-",
        Status::Pending => "?",
        Status::Waived => "~",
    }
}

fn millis(item: &ItemReport) -> String {
    let ms = item.duration.as_millis();
    if ms >= 10_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

impl Reporter for HumanReporter {
    fn render(&self, report: &Report) -> String {
        let mut out = String::new();
        let title = report
            .title
            .as_deref()
            .map(|t| format!(" — {t}"))
            .unwrap_or_default();
        let env = report
            .environment
            .as_deref()
            .map(|e| format!(" [env: {e}]"))
            .unwrap_or_default();
        out.push_str(&format!("{}{title}{env}\n", report.checklist.bold()));
        out.push_str(&format!("{}\n", report.file.dimmed()));
        let mut section = None;
        for item in &report.items {
            if section != Some(&item.section) {
                out.push_str(&format!("\n{}\n", item.section.bold().underline()));
                section = Some(&item.section);
            }
            let gate = if report.gates(item) {
                ""
            } else {
                " (non-gating)"
            };
            let flaky = if item.flaky {
                format!(" {}", "flaky".yellow())
            } else {
                String::new()
            };
            let attempts = if item.attempts > 1 {
                format!(", {} attempts", item.attempts)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {} {}  {}{flaky} {}\n",
                badge(item.status),
                item.id.bold(),
                item.title,
                format!(
                    "[{}{}{attempts}]",
                    item.kind,
                    if item.kind == "manual" {
                        String::new()
                    } else {
                        format!(", {}", millis(item))
                    }
                )
                .dimmed(),
            ));
            if !item.message.is_empty() {
                out.push_str(&format!(
                    "              {}{}\n",
                    item.message,
                    gate.dimmed()
                ));
            }
            for line in item.fix_lines() {
                out.push_str(&format!("              {}\n", line.cyan()));
            }
            let show_evidence =
                !matches!(item.status, Status::Pass | Status::Confirmed | Status::Skip);
            if show_evidence {
                for line in item.evidence_lines() {
                    let line = line.trim_end().replace('\n', "\n                ");
                    out.push_str(&format!("              {}\n", line.dimmed()));
                }
            }
        }
        out.push('\n');
        if let Some(changes) = &report.changes {
            out.push_str(&format!(
                "{} ({}):\n",
                "Since the previous run".bold(),
                changes.previous_at
            ));
            for line in changes.lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push('\n');
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
                "{} {} — renew with `prodcheck waive` or fix the item\n\n",
                format!("{} expired waiver(s):", expired.len())
                    .yellow()
                    .bold(),
                list.join(", ")
            ));
        }
        let summary: Vec<String> = report
            .summary()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let verdict = exit_code::TABLE
            .iter()
            .find(|(c, _)| *c == report.exit_code)
            .map(|(_, t)| *t)
            .unwrap_or("");
        let verdict = format!("exit {}: {verdict}", report.exit_code);
        let verdict = if report.exit_code == exit_code::OK {
            verdict.green().bold()
        } else {
            verdict.red().bold()
        };
        out.push_str(&format!(
            "{} {} in {:.1}s — {verdict}\n",
            "Summary:".bold(),
            summary.join(", "),
            report.duration.as_secs_f64()
        ));
        out
    }
}
