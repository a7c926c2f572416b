//! `--report github`: GitHub Actions workflow commands, so problems appear as annotations on
//! the checklist file: `::error` for what blocks the gate, `::warning` for the rest. A fleet
//! target is named in the title (`prodcheck maintenance [api-eu]: …`).

use crate::status::Status;
use crate::text::affix;

use super::{ItemReport, Report, Reporter};

pub struct GithubReporter;

/// Escapes a command's message (workflow-command data).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`): data escapes plus `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn level(report: &Report, item: &ItemReport) -> Option<&'static str> {
    match item.status {
        _ if report.blocks(item) => Some("error"),
        Status::Fail
        | Status::Error
        | Status::Declined
        | Status::Pending
        | Status::Unconfigured
        | Status::Warn => Some("warning"),
        Status::Waived | Status::NotApplicable => Some("notice"),
        Status::Pass | Status::Confirmed | Status::Skip => None,
    }
}

impl Reporter for GithubReporter {
    fn render(&self, report: &Report) -> String {
        let file = escape_property(&report.source_path());
        let mut out = String::new();
        for item in &report.items {
            let Some(level) = level(report, item) else {
                continue;
            };
            let target = affix(" [", item.target.as_deref(), "]");
            let title = format!(
                "prodcheck {}{target}: {} {} ({})",
                report.checklist,
                item.id,
                item.status.as_str(),
                item.severity.as_str()
            );
            let mut message = format!("{}\n{}", item.title, item.message);
            let caused = report.caused_line(item);
            for line in caused
                .into_iter()
                .chain(item.fix_lines())
                .chain(item.evidence_lines())
            {
                message.push('\n');
                message.push_str(&line);
            }
            out.push_str(&format!(
                "::{level} file={file},line={},title={}::{}\n",
                item.line.max(1),
                escape_property(&title),
                escape_data(&message)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_workflow_command_rules() {
        assert_eq!(escape_data("50%\r\nok: a,b"), "50%25%0D%0Aok: a,b");
        assert_eq!(escape_property("a: b, c%"), "a%3A b%2C c%25");
    }
}
