//! A scrape's answer: the textfile report's families (same names, plus an `env` label) and the
//! per-item numbers a dashboard wants, read from each item's evidence where the probe gave it.

use serde_json::Value;

use crate::report::exposition::{Exposition, run_families};
use crate::report::{ItemReport, Report};

/// One number taken from evidence: (metric, help, probe kind, evidence path, scale, extra label).
struct Figure {
    metric: &'static str,
    help: &'static str,
    kind: &'static str,
    /// Evidence keys tried in order; a `/` descends into an object.
    paths: &'static [&'static str],
    /// Multiplies the evidence value (milliseconds → seconds, percent → ratio).
    scale: f64,
    label: Option<(&'static str, &'static str)>,
}

const FIGURES: &[Figure] = &[
    Figure {
        metric: "prodcheck_certificate_days_left",
        help: "Days until the earliest-expiring certificate of the chain expires (tls items).",
        kind: "tls",
        paths: &["earliest_expiring/days_left", "days_left"],
        scale: 1.0,
        label: None,
    },
    Figure {
        metric: "prodcheck_security_headers_score",
        help: "Observatory-style score of the response headers (security_headers items).",
        kind: "security_headers",
        paths: &["score"],
        scale: 1.0,
        label: None,
    },
    Figure {
        metric: "prodcheck_latency_seconds",
        help: "Latency percentiles of the samples (latency items).",
        kind: "latency",
        paths: &["p50_ms"],
        scale: 0.001,
        label: Some(("quantile", "0.5")),
    },
    Figure {
        metric: "prodcheck_latency_seconds",
        help: "",
        kind: "latency",
        paths: &["p95_ms"],
        scale: 0.001,
        label: Some(("quantile", "0.95")),
    },
    Figure {
        metric: "prodcheck_latency_seconds",
        help: "",
        kind: "latency",
        paths: &["p99_ms"],
        scale: 0.001,
        label: Some(("quantile", "0.99")),
    },
    Figure {
        metric: "prodcheck_latency_max_seconds",
        help: "Slowest sample (latency items).",
        kind: "latency",
        paths: &["max_ms"],
        scale: 0.001,
        label: None,
    },
    Figure {
        metric: "prodcheck_latency_error_ratio",
        help: "Share of samples that were errors, 0 to 1 (latency items).",
        kind: "latency",
        paths: &["error_rate"],
        scale: 0.01,
        label: None,
    },
    Figure {
        metric: "prodcheck_http_response_seconds",
        help: "Time to the response of the last request (http items).",
        kind: "http",
        paths: &["latency_ms"],
        scale: 0.001,
        label: None,
    },
    Figure {
        metric: "prodcheck_disk_free_ratio",
        help: "Free share of the filesystem, 0 to 1 (disk items).",
        kind: "disk",
        paths: &["free_percent"],
        scale: 0.01,
        label: None,
    },
    Figure {
        metric: "prodcheck_file_age_seconds",
        help: "Age of the newest matching file (file items).",
        kind: "file",
        paths: &["age_s"],
        scale: 1.0,
        label: None,
    },
];

/// Renders the scrape's report; `env` joins `checklist` on every sample.
pub fn render(report: &Report, env: Option<&str>) -> String {
    let mut run_labels = vec![("checklist", report.checklist.as_str())];
    if let Some(env) = env {
        run_labels.push(("env", env));
    }
    let mut page = Exposition::new();
    run_families(&mut page, report, &run_labels);

    page.family(
        "prodcheck_item_duration_seconds",
        "gauge",
        "How long each item took in the last run, retries included.",
    );
    for item in &report.items {
        let labels = item_labels(&run_labels, item);
        let seconds = format!("{:.3}", item.duration.as_secs_f64());
        page.sample("prodcheck_item_duration_seconds", &labels, seconds);
    }
    let mut open: Option<&str> = None;
    for figure in FIGURES {
        let values: Vec<(&ItemReport, f64)> = report
            .items
            .iter()
            .filter(|i| i.kind == figure.kind)
            .filter_map(|i| figure_value(i, figure).map(|v| (i, v)))
            .collect();
        if values.is_empty() {
            continue;
        }
        if open != Some(figure.metric) {
            let help = FIGURES
                .iter()
                .find(|f| f.metric == figure.metric && !f.help.is_empty())
                .map_or("", |f| f.help);
            page.family(figure.metric, "gauge", help);
            open = Some(figure.metric);
        }
        for (item, value) in values {
            let mut labels = item_labels(&run_labels, item);
            labels.extend(figure.label);
            page.sample(figure.metric, &labels, number(value));
        }
    }
    page.finish()
}

fn item_labels<'a>(run: &[(&'a str, &'a str)], item: &'a ItemReport) -> Vec<(&'a str, &'a str)> {
    let mut labels = run.to_vec();
    labels.push(("item", item.id.as_str()));
    labels
}

fn figure_value(item: &ItemReport, figure: &Figure) -> Option<f64> {
    figure.paths.iter().find_map(|path| {
        let mut parts = path.split('/');
        let first = item.evidence.get(parts.next()?)?;
        let value: &Value = parts.try_fold(first, |v, key| v.get(key))?;
        value.as_f64().map(|v| v * figure.scale)
    })
}

/// A sample value without float noise (`0.95`, not `0.9500000000000001`).
fn number(v: f64) -> String {
    let rounded = (v * 1e6).round() / 1e6;
    format!("{rounded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_one_metric_are_adjacent_so_each_family_is_written_once() {
        let mut seen: Vec<&str> = Vec::new();
        for f in FIGURES {
            if seen.last() != Some(&f.metric) {
                assert!(!seen.contains(&f.metric), "{} split", f.metric);
                seen.push(f.metric);
            }
        }
    }

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(number(95.0 * 0.001), "0.095");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(-3.0), "-3");
    }
}
