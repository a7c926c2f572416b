//! A scrape's answer: the textfile report's families (same names, plus an `env` label) and the
//! per-item numbers a dashboard wants, read from each item's typed figures (`checks::figures`) where the probe gave them.

use checks::Evidence;
use checks::figures::{
    CertExpiry, DiskFree, Figures, FileAge, HeaderGrade, LatencyFigures, Percentiles, ResponseTime,
};

use crate::report::exposition::{Exposition, run_families};
use crate::report::{ItemReport, Report};

/// One number taken from evidence (a number, or an RFC 3339 time as Unix seconds).
struct Figure {
    metric: &'static str,
    help: &'static str,
    kind: &'static str,
    /// The number, read from the item's typed figures.
    read: fn(&Evidence) -> Option<f64>,
    /// Multiplies the evidence value (milliseconds → seconds, percent → ratio).
    scale: f64,
    label: Option<(&'static str, &'static str)>,
}

const FIGURES: &[Figure] = &[
    Figure {
        metric: "prodcheck_certificate_expiry_timestamp_seconds",
        help: "Unix time the earliest-expiring certificate of the chain expires (tls items).",
        kind: "tls",
        read: expiry,
        scale: 1.0,
        label: None,
    },
    Figure {
        metric: "prodcheck_security_headers_score",
        help: "Observatory-style score of the response headers (security_headers items).",
        kind: "security_headers",
        read: score,
        scale: 1.0,
        label: None,
    },
    Figure {
        metric: "prodcheck_latency_seconds",
        help: "Latency percentiles of the last run's samples (latency items).",
        kind: "latency",
        read: p50,
        scale: 0.001,
        label: Some(("quantile", "0.5")),
    },
    Figure {
        metric: "prodcheck_latency_seconds",
        help: "",
        kind: "latency",
        read: p95,
        scale: 0.001,
        label: Some(("quantile", "0.95")),
    },
    Figure {
        metric: "prodcheck_latency_seconds",
        help: "",
        kind: "latency",
        read: p99,
        scale: 0.001,
        label: Some(("quantile", "0.99")),
    },
    Figure {
        metric: "prodcheck_latency_max_seconds",
        help: "Slowest sample (latency items).",
        kind: "latency",
        read: slowest,
        scale: 0.001,
        label: None,
    },
    Figure {
        metric: "prodcheck_latency_error_ratio",
        help: "Share of samples that were errors, 0 to 1 (latency items).",
        kind: "latency",
        read: error_rate,
        scale: 0.01,
        label: None,
    },
    Figure {
        metric: "prodcheck_http_response_seconds",
        help: "Time to the response of the last request (http items).",
        kind: "http",
        read: response_time,
        scale: 0.001,
        label: None,
    },
    Figure {
        metric: "prodcheck_disk_free_ratio",
        help: "Free share of the filesystem, 0 to 1 (disk items).",
        kind: "disk",
        read: free_percent,
        scale: 0.01,
        label: None,
    },
    Figure {
        metric: "prodcheck_file_age_seconds",
        help: "Age of the newest matching file (file items).",
        kind: "file",
        read: file_age,
        scale: 1.0,
        label: None,
    },
];

/// Renders the scrape's report; `env` joins `checklist` on every sample.
#[cfg(test)]
pub fn render(report: &Report, env: Option<&str>) -> String {
    let labels: Vec<(&str, &str)> = env.map(|e| ("env", e)).into_iter().collect();
    render_with(report, &labels)
}

/// Renders the scrape's report; `labels` (`env`, `target` and the target's own) follow
/// `checklist` on every sample.
pub fn render_with(report: &Report, labels: &[(&str, &str)]) -> String {
    let mut run_labels = vec![("checklist", report.checklist.as_str())];
    run_labels.extend_from_slice(labels);
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
            // Percentiles carry `quantile`, which Prometheus reserves for summaries.
            let kind = if figure.label.is_some_and(|(k, _)| k == "quantile") {
                "summary"
            } else {
                "gauge"
            };
            page.family(figure.metric, kind, help);
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
    (figure.read)(&item.evidence).map(|v| v * figure.scale)
}

fn expiry(ev: &Evidence) -> Option<f64> {
    CertExpiry::read(ev)?.expires_at()
}

fn score(ev: &Evidence) -> Option<f64> {
    HeaderGrade::read(ev).map(|g| g.score as f64)
}

fn p50(ev: &Evidence) -> Option<f64> {
    Percentiles::read(ev)?.p50_ms
}

fn p95(ev: &Evidence) -> Option<f64> {
    Percentiles::read(ev)?.p95_ms
}

fn p99(ev: &Evidence) -> Option<f64> {
    Percentiles::read(ev)?.p99_ms
}

fn slowest(ev: &Evidence) -> Option<f64> {
    Percentiles::read(ev)?.max_ms
}

fn error_rate(ev: &Evidence) -> Option<f64> {
    LatencyFigures::read(ev).map(|l| l.error_rate)
}

fn response_time(ev: &Evidence) -> Option<f64> {
    ResponseTime::read(ev).map(|t| t.latency_ms as f64)
}

fn free_percent(ev: &Evidence) -> Option<f64> {
    DiskFree::read(ev).map(|d| d.free_percent)
}

fn file_age(ev: &Evidence) -> Option<f64> {
    FileAge::read(ev).map(|f| f.age_s as f64)
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

    fn report() -> Report {
        let mut evidence = checks::Evidence::new();
        evidence.insert(
            "earliest_expiring".into(),
            serde_json::json!({ "not_after": "2027-01-15T12:00:00Z" }),
        );
        evidence.insert(
            "not_after".into(),
            serde_json::json!("2030-01-01T00:00:00Z"),
        );
        let item = ItemReport {
            title: "Certificate".into(),
            message: "expires soon".into(),
            evidence,
            duration: std::time::Duration::from_millis(42),
            ..crate::report::fixture::item("cert", "tls", crate::status::Status::Fail)
        };
        Report {
            environment: Some("production".into()),
            started_at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000),
            duration: std::time::Duration::from_millis(1500),
            ..crate::report::fixture::report("maintenance", vec![item])
        }
    }

    #[test]
    fn a_scrape_without_env_starts_with_the_textfile_report_byte_for_byte() {
        use crate::report::Reporter;
        let r = report();
        let textfile = crate::report::PrometheusReporter.render(&r);
        assert!(render(&r, None).starts_with(&textfile));
    }

    #[test]
    fn the_earliest_expiring_certificate_counts_and_env_labels_every_sample() {
        let page = render(&report(), Some("production"));
        assert!(page.contains(
            "prodcheck_certificate_expiry_timestamp_seconds{checklist=\"maintenance\",env=\"production\",item=\"cert\"} 1800014400\n"
        ), "{page}");
        assert!(page.contains(
            "prodcheck_item_duration_seconds{checklist=\"maintenance\",env=\"production\",item=\"cert\"} 0.042\n"
        ), "{page}");
        assert!(
            page.contains(
                "prodcheck_run_exit_code{checklist=\"maintenance\",env=\"production\"} 1\n"
            ),
            "{page}"
        );
        assert!(
            !page.contains("prodcheck_latency"),
            "no family without a value: {page}"
        );
    }
}
