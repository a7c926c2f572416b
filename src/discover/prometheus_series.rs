//! The series of the API's job beyond its request counter: the latency histogram and its
//! unit, the version metric and label, and the exporters' jobs (node, postgres, redis,
//! kube-state-metrics), each named only when Prometheus shows it.

use std::collections::{BTreeMap, BTreeSet};

use super::conventions::{self as conv, Convention};
use super::finding::{Finding, Learned, short};
use super::prometheus_api::Api;

/// The exporter jobs: variable, the series that mark them, what they are.
const EXPORTERS: [(&str, &[&str], &str); 4] = [
    (
        "node_job",
        &["node_cpu_seconds_total", "node_exporter_build_info"],
        "node_exporter",
    ),
    (
        "postgres_exporter_job",
        &["pg_up", "postgres_exporter_build_info"],
        "postgres_exporter",
    ),
    (
        "redis_exporter_job",
        &["redis_up", "redis_exporter_build_info"],
        "redis_exporter",
    ),
    (
        "kube_state_metrics_job",
        &["kube_deployment_spec_replicas", "kube_pod_info"],
        "kube-state-metrics",
    ),
];

/// `latency_histogram` and `latency_unit_seconds` from the job's `_bucket` series.
pub(super) fn latency(learned: &mut Learned, names: &BTreeSet<String>, job: &str, c: &Convention) {
    let buckets: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_suffix("_bucket"))
        .filter(|n| !conv::NOT_THE_API.iter().any(|p| n.starts_with(p)))
        .collect();
    let chosen = buckets
        .iter()
        .find(|b| **b == c.latency_histogram)
        .or_else(|| {
            buckets.iter().find(|b| {
                b.contains("request") && (b.contains("duration") || b.contains("latency"))
            })
        });
    let Some(hist) = chosen else {
        learned.push(Finding::needed(
            "latency_histogram",
            format!("job `{job}` exposes no request-duration histogram (`*_bucket`)"),
        ));
        return;
    };
    learned.push(
        Finding::found(
            "latency_histogram",
            hist,
            format!("job `{job}` exposes `{hist}_bucket`"),
        )
        .standard(*hist == c.latency_histogram),
    );
    let unit = if hist.ends_with("_milliseconds") {
        0.001
    } else {
        1.0
    };
    let text = if unit < 1.0 { "0.001" } else { "1" };
    learned.push(
        Finding::found_yaml(
            "latency_unit_seconds",
            text,
            format!(
                "`{hist}` is in {}",
                if unit < 1.0 {
                    "milliseconds"
                } else {
                    "seconds"
                }
            ),
        )
        .standard(unit == c.latency_unit_seconds),
    );
}

/// `version_metric` and `version_label`: a `*_build_info` of the job, else `target_info`, else
/// a version label on the request series itself.
pub(super) async fn version(
    api: &Api<'_>,
    learned: &mut Learned,
    names: &BTreeSet<String>,
    job: &str,
    request_labels: &[String],
    request_metric: &str,
    c: &Convention,
) {
    let exporter =
        |n: &&String| n.ends_with("_exporter_build_info") || n.as_str() == "go_build_info";
    let info = names
        .iter()
        .filter(|n| n.ends_with("_build_info"))
        .find(|n| !exporter(n))
        .or_else(|| names.get("target_info"))
        .or_else(|| names.get("go_build_info"));
    let (metric, label) = match info {
        Some(metric) => {
            let labels = api.labels(&format!("{metric}{{job=\"{job}\"}}")).await;
            let label = conv::VERSION_LABELS
                .iter()
                .find(|l| labels.iter().any(|x| x == *l));
            match label {
                Some(l) => (metric.clone(), l.to_string()),
                None => {
                    learned.push(Finding::needed(
                        "version_metric",
                        format!(
                            "`{metric}` of job `{job}` has no version label ({})",
                            short(&labels.join(", "), 80)
                        ),
                    ));
                    return;
                }
            }
        }
        None => match ["destination_version", "version", "service_version"]
            .iter()
            .find(|l| request_labels.iter().any(|x| x == *l))
        {
            Some(l) => (request_metric.to_string(), l.to_string()),
            None => {
                learned.push(Finding::needed(
                    "version_metric",
                    format!("job `{job}` exposes no `*_build_info` or `target_info` and its request series carry no version label"),
                ));
                return;
            }
        },
    };
    learned.push(
        Finding::found(
            "version_metric",
            &metric,
            format!("job `{job}` exposes `{metric}{{{label}}}`"),
        )
        .standard(metric == c.version_metric),
    );
    learned.push(
        Finding::found("version_label", &label, format!("a label of `{metric}`"))
            .standard(label == c.version_label),
    );
}

/// The exporters' jobs, each from the series that mark it.
pub(super) fn exporters(learned: &mut Learned, names: &BTreeMap<String, BTreeSet<String>>) {
    for (var, marks, what) in EXPORTERS {
        let found = names
            .iter()
            .find(|(_, n)| marks.iter().any(|m| n.contains(*m)));
        match found {
            Some((job, n)) => {
                let mark = marks.iter().find(|m| n.contains(**m)).unwrap_or(&marks[0]);
                learned.push(Finding::found(
                    var,
                    job,
                    format!("job `{job}` exposes `{mark}` ({what})"),
                ));
            }
            None => learned.push(Finding::needed(
                var,
                format!("no job exposes `{}` ({what} is not scraped)", marks[0]),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    fn written(l: &Learned) -> Vec<(String, Option<String>, bool)> {
        l.findings
            .iter()
            .map(|f| (f.var.clone(), f.value.clone(), f.standard))
            .collect()
    }

    #[test]
    fn a_standard_histogram_is_marked_standard_and_an_app_one_in_ms_is_not() {
        let mut l = Learned::default();
        latency(
            &mut l,
            &names(&["http_server_duration_milliseconds_bucket"]),
            "shop",
            &conv::OTEL_LEGACY,
        );
        assert_eq!(
            written(&l),
            [
                (
                    "latency_histogram".into(),
                    Some("http_server_duration_milliseconds".into()),
                    true
                ),
                ("latency_unit_seconds".into(), Some("0.001".into()), true),
            ]
        );
        let mut l = Learned::default();
        let app = names(&[
            "go_gc_duration_seconds_bucket",
            "shop_request_latency_milliseconds_bucket",
        ]);
        latency(&mut l, &app, "shop", &conv::PROMETHEUS);
        assert_eq!(
            written(&l),
            [
                (
                    "latency_histogram".into(),
                    Some("shop_request_latency_milliseconds".into()),
                    false
                ),
                ("latency_unit_seconds".into(), Some("0.001".into()), false),
            ]
        );
        let mut l = Learned::default();
        latency(
            &mut l,
            &names(&["go_gc_duration_seconds_bucket"]),
            "shop",
            &conv::PROMETHEUS,
        );
        assert_eq!(
            l.findings[0].evidence,
            "job `shop` exposes no request-duration histogram (`*_bucket`)"
        );
    }

    #[test]
    fn exporters_are_found_by_their_own_series() {
        let by_job: BTreeMap<String, BTreeSet<String>> = [
            ("pg".to_string(), names(&["pg_up"])),
            ("ksm".to_string(), names(&["kube_pod_info"])),
        ]
        .into();
        let mut l = Learned::default();
        exporters(&mut l, &by_job);
        let got: Vec<(String, Option<String>)> = l
            .findings
            .iter()
            .map(|f| (f.var.clone(), f.value.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("node_job".into(), None),
                ("postgres_exporter_job".into(), Some("pg".into())),
                ("redis_exporter_job".into(), None),
                ("kube_state_metrics_job".into(), Some("ksm".into())),
            ]
        );
    }
}
