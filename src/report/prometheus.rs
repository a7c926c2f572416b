//! `--report prometheus`: the node_exporter textfile-collector format, so a scheduled run can
//! be graphed and alerted on: one status series per item plus run duration and timestamp; in a
//! fleet run every sample also carries `target` and the target's labels.

use super::exposition::{Exposition, run_families, run_families_of};
use super::{Report, Reporter};

pub struct PrometheusReporter;

impl Reporter for PrometheusReporter {
    fn render(&self, report: &Report) -> String {
        let mut page = Exposition::new();
        if report.is_fleet() {
            // Per target: `target` and the target's own labels after `checklist`.
            let views: Vec<_> = report.target_views().collect();
            let runs: Vec<(&Report, Vec<(&str, &str)>)> = views
                .iter()
                .map(|(t, view)| {
                    let mut labels = vec![
                        ("checklist", report.checklist.as_str()),
                        ("target", t.name.as_str()),
                    ];
                    labels.extend(t.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    (view, labels)
                })
                .collect();
            run_families_of(&mut page, &runs);
        } else {
            run_families(&mut page, report, &[("checklist", &report.checklist)]);
        }
        page.finish()
    }
}
