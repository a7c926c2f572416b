//! The Prometheus text exposition format, shared by the textfile report (`--report prometheus`)
//! and `prodcheck serve`, so both speak the same metric names and label escaping.

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use super::{ItemReport, Report};

/// A page of metric families being written in exposition order.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    pub fn new() -> Self {
        Exposition::default()
    }

    /// Starts a family: its `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample; label values are escaped here, `value` is written as given.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (key, text)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{key}=\"{}\"", label(text));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A family with one sample.
    pub fn single(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        labels: &[(&str, &str)],
        value: impl std::fmt::Display,
    ) {
        self.family(name, kind, help);
        self.sample(name, labels, value);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Escapes a label value: backslash, double quote and line feed.
pub fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The families every Prometheus output of a run carries (the README's contract):
/// `prodcheck_item_status`, `prodcheck_run_duration_seconds`,
/// `prodcheck_last_run_timestamp_seconds` and `prodcheck_run_exit_code`. `run_labels` (at
/// least `checklist`) start every sample's label set.
pub fn run_families(page: &mut Exposition, report: &Report, run_labels: &[(&str, &str)]) {
    run_families_of(page, &[(report, run_labels.to_vec())]);
}

/// A sample of 1 for each item of every run that `extra` gives labels for (after the run's).
fn item_samples(
    page: &mut Exposition,
    name: &str,
    runs: &[(&Report, Vec<(&str, &str)>)],
    extra: impl Fn(&ItemReport) -> Option<Vec<(&'static str, String)>>,
) {
    for (report, run_labels) in runs {
        for item in &report.items {
            let Some(extra) = extra(item) else {
                continue;
            };
            let mut labels = run_labels.clone();
            labels.extend(extra.iter().map(|(key, value)| (*key, value.as_str())));
            page.sample(name, &labels, 1);
        }
    }
}

/// [`run_families`] for several runs on one page (a fleet's targets): each family's header
/// once, then every run's samples with that run's labels.
pub fn run_families_of(page: &mut Exposition, runs: &[(&Report, Vec<(&str, &str)>)]) {
    page.family(
        "prodcheck_item_status",
        "gauge",
        "Status of each checklist item in the last run: 1 for its current status.",
    );
    item_samples(page, "prodcheck_item_status", runs, |item| {
        Some(vec![
            ("item", item.id.clone()),
            ("severity", item.severity.as_str().to_string()),
            ("status", item.status.as_str().to_string()),
        ])
    });
    // `needs:` — only when an item was skipped for one, so pages without `needs:` are unchanged.
    // One series per skipped item, `cause` an item id: bounded by the checklist's size.
    let skipped = runs
        .iter()
        .any(|(r, _)| r.items.iter().any(|i| i.skipped_by().is_some()));
    if skipped {
        page.family(
            "prodcheck_item_skipped_by",
            "gauge",
            "1 for an item not run because an item it needs (`cause`, the root cause) did not pass.",
        );
        item_samples(page, "prodcheck_item_skipped_by", runs, |item| {
            let cause = item.skipped_by()?;
            Some(vec![("item", item.id.clone()), ("cause", cause)])
        });
    }
    page.family(
        "prodcheck_run_duration_seconds",
        "gauge",
        "Wall-clock duration of the last run.",
    );
    for (report, run_labels) in runs {
        page.sample(
            "prodcheck_run_duration_seconds",
            run_labels,
            format!("{:.3}", report.duration.as_secs_f64()),
        );
    }
    page.family(
        "prodcheck_last_run_timestamp_seconds",
        "gauge",
        "Unix time the last run started.",
    );
    for (report, run_labels) in runs {
        let started = report
            .started_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        page.sample("prodcheck_last_run_timestamp_seconds", run_labels, started);
    }
    page.family(
        "prodcheck_run_exit_code",
        "gauge",
        "Exit code of the last run (0 passed).",
    );
    for (report, run_labels) in runs {
        page.sample("prodcheck_run_exit_code", run_labels, report.exit_code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_labels_kept_in_order() {
        let mut page = Exposition::new();
        page.family("m", "gauge", "Help.");
        page.sample("m", &[("a", "x\"y"), ("b", "back\\slash\nline")], 1.5);
        page.sample("m", &[], 2);
        assert_eq!(
            page.finish(),
            "# HELP m Help.\n# TYPE m gauge\nm{a=\"x\\\"y\",b=\"back\\\\slash\\nline\"} 1.5\nm 2\n"
        );
    }
}
