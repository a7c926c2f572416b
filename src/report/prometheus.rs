//! `--report prometheus`: the node_exporter textfile-collector format, so a scheduled run can
//! be graphed and alerted on: one status series per item plus run duration and timestamp.

use std::time::UNIX_EPOCH;

use super::{Report, Reporter};

pub struct PrometheusReporter;

/// Escapes a label value: backslash, double quote and line feed.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Reporter for PrometheusReporter {
    fn render(&self, report: &Report) -> String {
        let checklist = label(&report.checklist);
        let mut out = String::new();
        out.push_str("# HELP prodcheck_item_status Status of each checklist item in the last run: 1 for its current status.\n");
        out.push_str("# TYPE prodcheck_item_status gauge\n");
        for item in &report.items {
            out.push_str(&format!(
                "prodcheck_item_status{{checklist=\"{checklist}\",item=\"{}\",severity=\"{}\",status=\"{}\"}} 1\n",
                label(&item.id),
                item.severity.as_str(),
                item.status.as_str()
            ));
        }
        out.push_str(
            "# HELP prodcheck_run_duration_seconds Wall-clock duration of the last run.\n",
        );
        out.push_str("# TYPE prodcheck_run_duration_seconds gauge\n");
        out.push_str(&format!(
            "prodcheck_run_duration_seconds{{checklist=\"{checklist}\"}} {:.3}\n",
            report.duration.as_secs_f64()
        ));
        out.push_str(
            "# HELP prodcheck_last_run_timestamp_seconds Unix time the last run started.\n",
        );
        out.push_str("# TYPE prodcheck_last_run_timestamp_seconds gauge\n");
        let started = report
            .started_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        out.push_str(&format!(
            "prodcheck_last_run_timestamp_seconds{{checklist=\"{checklist}\"}} {started}\n"
        ));
        out.push_str("# HELP prodcheck_run_exit_code Exit code of the last run (0 passed).\n");
        out.push_str("# TYPE prodcheck_run_exit_code gauge\n");
        out.push_str(&format!(
            "prodcheck_run_exit_code{{checklist=\"{checklist}\"}} {}\n",
            report.exit_code
        ));
        out
    }
}
