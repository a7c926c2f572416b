//! `--report prometheus`: the node_exporter textfile-collector format, so a scheduled run can
//! be graphed and alerted on: one status series per item plus run duration and timestamp.

use super::exposition::{Exposition, run_families};
use super::{Report, Reporter};

pub struct PrometheusReporter;

impl Reporter for PrometheusReporter {
    fn render(&self, report: &Report) -> String {
        let mut page = Exposition::new();
        run_families(&mut page, report, &[("checklist", &report.checklist)]);
        page.finish()
    }
}
