//! Discovery from Prometheus's HTTP API (`/api/v1/targets`, `query`, `labels`, label values):
//! which job serves the API, its request metric and status label (hence the convention), its
//! latency histogram, version metric and routes, and the exporters' jobs. Six requests at most.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::conventions::{self as conv, Convention};
use super::finding::{Finding, Learned};
use super::polite::Pacer;
use super::prometheus_api::Api;
use super::prometheus_series as series;

/// Names discovery asks Prometheus about, per job, in one query.
const FAMILIES: &str = ".+_requests_total|.+_requests|http_server_request_duration_seconds_count|http_server_duration_milliseconds_count|http_server_requests_seconds_count|.+_(seconds|milliseconds)_bucket|.+_build_info|target_info|node_cpu_seconds_total|pg_up|redis_up|kube_deployment_spec_replicas|kube_pod_info";

/// Variables this source settles (for "not set" reasons).
pub const VARIABLES: [&str; 6] = [
    "metrics_convention",
    "api_job",
    "node_job",
    "postgres_exporter_job",
    "redis_exporter_job",
    "kube_state_metrics_job",
];

/// What Prometheus said, and the API routes its labels name (for `api_url`).
#[derive(Debug, Default)]
pub struct FromPrometheus {
    pub learned: Learned,
    pub routes: Vec<String>,
}

/// `job` → the `instance` labels of its active targets.
fn targets(data: &Value) -> BTreeMap<String, Vec<String>> {
    let mut jobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in data["activeTargets"].as_array().into_iter().flatten() {
        let job = t["labels"]["job"].as_str().unwrap_or_default().to_string();
        let instance = t["labels"]["instance"].as_str().unwrap_or_default();
        jobs.entry(job).or_default().push(instance.to_string());
    }
    jobs
}

/// `job` → metric names, from `count by (job, __name__) (…)`.
fn names_by_job(data: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in data["result"].as_array().into_iter().flatten() {
        let job = r["metric"]["job"].as_str().unwrap_or_default();
        let name = r["metric"]["__name__"].as_str().unwrap_or_default();
        out.entry(job.to_string())
            .or_default()
            .insert(name.to_string());
    }
    out
}

/// The request series of a job: a known convention's, else the classic counter, else an
/// app-prefixed `*_requests_total`.
fn request_metric(names: &BTreeSet<String>) -> Option<(String, Option<Convention>)> {
    for c in conv::BY_REQUESTS_METRIC {
        if names.contains(c.requests_metric) {
            return Some((c.requests_metric.to_string(), Some(c)));
        }
    }
    if names.contains("http_requests_total") {
        return Some(("http_requests_total".into(), None));
    }
    names
        .iter()
        .filter(|n| n.ends_with("_requests_total"))
        .find(|n| !conv::NOT_THE_API.iter().any(|p| n.starts_with(p)))
        .map(|n| (n.clone(), None))
}

fn authority_of(base_url: &str) -> Option<String> {
    let u = url::Url::parse(base_url).ok()?;
    Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?))
}

/// Learns what Prometheus at `prom_url` says about the service at `base_url`.
pub async fn discover(pacer: &Pacer, prom_url: &str, base_url: Option<&str>) -> FromPrometheus {
    let mut out = FromPrometheus::default();
    let api = Api {
        pacer,
        base: prom_url.trim_end_matches('/').to_string(),
    };
    let jobs = match api.data("/api/v1/targets", &[("state", "active")]).await {
        Ok(d) => targets(&d),
        Err(e) => {
            let why = format!("Prometheus at {prom_url} gave no target list ({e})");
            out.learned.all_needed(&VARIABLES, &why);
            return out;
        }
    };
    let query = format!("count by (job, __name__) ({{__name__=~\"{FAMILIES}\"}})");
    let names = match api.data("/api/v1/query", &[("query", &query)]).await {
        Ok(d) => names_by_job(&d),
        Err(e) => {
            let why = format!("Prometheus at {prom_url} did not answer the query ({e})");
            out.learned.all_needed(&VARIABLES, &why);
            return out;
        }
    };
    series::exporters(&mut out.learned, &names);
    let Some((job, evidence)) = api_job(&jobs, &names, base_url) else {
        let why = format!(
            "no job of the {} Prometheus scrapes exposes HTTP request metrics (http_requests_total, http_server_request_duration_seconds, …)",
            jobs.len()
        );
        out.learned
            .all_needed(&["api_job", "metrics_convention"], &why);
        return out;
    };
    out.learned.push(Finding::found("api_job", &job, evidence));
    let empty = BTreeSet::new();
    let job_names = names.get(&job).unwrap_or(&empty);
    let Some((metric, known)) = request_metric(job_names) else {
        return out;
    };
    let selector = format!("{metric}{{job=\"{job}\"}}");
    let labels = api.labels(&selector).await;
    let status = conv::STATUS_LABELS
        .iter()
        .find(|l| labels.iter().any(|x| x == *l))
        .map(|l| l.to_string());
    let convention = known.unwrap_or_else(|| conv::classic(status.as_deref().unwrap_or("status")));
    let Some(status) = status else {
        out.learned.push(Finding::needed(
            "metrics_convention",
            format!(
                "`{metric}` of job `{job}` has no status label (looked for {}); labels: {}",
                conv::STATUS_LABELS.join(", "),
                labels.join(", ")
            ),
        ));
        return out;
    };
    out.learned.push(Finding::found(
        "metrics_convention",
        convention.name,
        format!("job `{job}` exposes `{metric}` with label `{status}`"),
    ));
    out.learned.push(
        Finding::found(
            "requests_metric",
            &metric,
            format!("job `{job}` exposes it"),
        )
        .standard(metric == convention.requests_metric),
    );
    out.learned.push(
        Finding::found("status_label", &status, format!("a label of `{metric}`"))
            .standard(status == convention.status_label),
    );
    series::latency(&mut out.learned, job_names, &job, &convention);
    series::version(
        &api,
        &mut out.learned,
        job_names,
        &job,
        &labels,
        &metric,
        &convention,
    )
    .await;
    if let Some(route_label) = conv::ROUTE_LABELS
        .iter()
        .find(|l| labels.iter().any(|x| x == *l))
    {
        let path = format!("/api/v1/label/{route_label}/values");
        out.routes = api.strings(&path, &[("match[]", &selector)]).await;
    }
    out
}

/// The job serving the API: the one scraping base_url's host:port, else the one with request
/// metrics (the most conventional when several have them).
fn api_job(
    jobs: &BTreeMap<String, Vec<String>>,
    names: &BTreeMap<String, BTreeSet<String>>,
    base_url: Option<&str>,
) -> Option<(String, String)> {
    if let Some(authority) = base_url.and_then(authority_of) {
        for (job, instances) in jobs {
            if instances.iter().any(|i| i.eq_ignore_ascii_case(&authority))
                && names.get(job).and_then(request_metric).is_some()
            {
                return Some((
                    job.clone(),
                    format!("its targets include {authority}, base_url's host"),
                ));
            }
        }
    }
    let mut with: Vec<(&String, String)> = names
        .iter()
        .filter_map(|(job, n)| request_metric(n).map(|(m, _)| (job, m)))
        .collect();
    // A known convention before an app-prefixed counter; then a job named like an API.
    with.sort_by_key(|(job, m)| {
        (
            !(m.starts_with("http_") || m.starts_with("istio_") || m.starts_with("nginx_")),
            !["api", "app", "web", "backend"]
                .iter()
                .any(|w| job.to_ascii_lowercase().contains(w)),
        )
    });
    let (job, metric) = with.first()?;
    let others: Vec<&str> = with.iter().skip(1).map(|(j, _)| j.as_str()).collect();
    let evidence = if others.is_empty() {
        format!("the only job with HTTP request metrics (`{metric}`)")
    } else {
        format!(
            "has HTTP request metrics (`{metric}`); so do {}",
            others.join(", ")
        )
    };
    Some(((*job).clone(), evidence))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_request_series_says_the_convention_and_ignores_exporters_own_counters() {
        let otel = set(&["http_server_request_duration_seconds_count", "target_info"]);
        assert_eq!(
            request_metric(&otel).map(|(m, c)| (m, c.map(|c| c.name))),
            Some((
                "http_server_request_duration_seconds_count".into(),
                Some("otel")
            ))
        );
        let go = set(&[
            "promhttp_metric_handler_requests_total",
            "http_requests_total",
        ]);
        assert_eq!(
            request_metric(&go).map(|(m, _)| m).as_deref(),
            Some("http_requests_total")
        );
        let prefixed = set(&[
            "promhttp_metric_handler_requests_total",
            "shop_http_requests_total",
        ]);
        assert_eq!(
            request_metric(&prefixed).map(|(m, _)| m).as_deref(),
            Some("shop_http_requests_total")
        );
        let exporter = set(&[
            "promhttp_metric_handler_requests_total",
            "prometheus_http_requests_total",
        ]);
        assert_eq!(request_metric(&exporter), None);
    }

    #[test]
    fn the_api_job_is_the_one_scraping_base_url_else_the_one_with_request_metrics() {
        let names: BTreeMap<String, BTreeSet<String>> = [
            ("web".to_string(), set(&["http_requests_total"])),
            ("worker".to_string(), set(&["jobs_requests_total"])),
            ("node".to_string(), set(&["node_cpu_seconds_total"])),
        ]
        .into();
        let jobs: BTreeMap<String, Vec<String>> = [
            ("web".to_string(), vec!["10.0.0.5:8080".to_string()]),
            ("worker".to_string(), vec!["shop.test:443".to_string()]),
        ]
        .into();
        let (job, why) = api_job(&jobs, &names, Some("https://shop.test")).expect("a job");
        assert_eq!(job, "worker");
        assert_eq!(why, "its targets include shop.test:443, base_url's host");
        let (job, why) = api_job(&jobs, &names, Some("https://other.test")).expect("a job");
        assert_eq!(job, "web");
        assert_eq!(
            why,
            "has HTTP request metrics (`http_requests_total`); so do worker"
        );
        let none: BTreeMap<String, BTreeSet<String>> =
            [("node".to_string(), set(&["node_cpu_seconds_total"]))].into();
        assert_eq!(api_job(&jobs, &none, None), None);
    }

    #[test]
    fn count_by_job_answers_become_names_per_job() {
        let data = serde_json::json!({"resultType": "vector", "result": [
            {"metric": {"job": "shop", "__name__": "http_requests_total"}, "value": [1, "3"]},
            {"metric": {"job": "shop", "__name__": "shop_build_info"}, "value": [1, "1"]},
            {"metric": {"job": "node", "__name__": "node_cpu_seconds_total"}, "value": [1, "8"]}
        ]});
        let names = names_by_job(&data);
        assert_eq!(
            names["shop"],
            set(&["http_requests_total", "shop_build_info"])
        );
        assert_eq!(names["node"], set(&["node_cpu_seconds_total"]));
    }
}
