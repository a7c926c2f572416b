//! Discovery from Prometheus's HTTP API (`/api/v1/targets`, `query`, `labels`, label values):
//! which job serves the API, its request metric and status label (hence the convention), its
//! latency histogram, version metric and routes, and the exporters' jobs. Six requests at most.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::conventions::{self as conv, Convention};
use super::finding::{Finding, Learned, short};
use super::polite::Pacer;

/// Prometheus answers read up to this size (the target list of a large server is big).
const CAP: u64 = 4 * 1024 * 1024;

/// Names discovery asks Prometheus about, per job, in one query.
const FAMILIES: &str = ".+_requests_total|.+_requests|http_server_request_duration_seconds_count|http_server_duration_milliseconds_count|http_server_requests_seconds_count|.+_(seconds|milliseconds)_bucket|.+_build_info|target_info|node_cpu_seconds_total|pg_up|redis_up|kube_deployment_spec_replicas|kube_pod_info";

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

struct Api<'a> {
    pacer: &'a Pacer,
    base: String,
}

impl Api<'_> {
    fn url(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut u = match url::Url::parse(&format!("{}{path}", self.base)) {
            Ok(u) => u,
            Err(_) => return format!("{}{path}", self.base),
        };
        if !params.is_empty() {
            u.query_pairs_mut().extend_pairs(params);
        }
        u.to_string()
    }

    /// `data` of a successful API answer.
    async fn data(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let url = self.url(path, params);
        let page = self
            .pacer
            .get(&url, &[("accept", "application/json")], CAP)
            .await
            .map_err(|r| r.reason().to_string())?;
        if page.body.truncated {
            return Err(format!(
                "{path}: the answer is larger than {} MiB",
                CAP >> 20
            ));
        }
        let doc: Value = serde_json::from_slice(&page.body.bytes)
            .map_err(|_| format!("{path} answered {} with no JSON", page.status))?;
        if doc["status"] != "success" {
            let why = doc["error"].as_str().unwrap_or("no error text");
            return Err(format!("{path} answered {}: {why}", page.status));
        }
        Ok(doc["data"].clone())
    }

    async fn strings(&self, path: &str, params: &[(&str, &str)]) -> Vec<String> {
        self.data(path, params)
            .await
            .ok()
            .and_then(|d| d.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
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
    exporters(&mut out.learned, &names);
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
    let labels = api
        .strings("/api/v1/labels", &[("match[]", &selector)])
        .await;
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
    latency(&mut out.learned, job_names, &job, &convention);
    version(
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

/// `latency_histogram` and `latency_unit_seconds` from the job's `_bucket` series.
fn latency(learned: &mut Learned, names: &BTreeSet<String>, job: &str, c: &Convention) {
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
async fn version(
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
            let selector = format!("{metric}{{job=\"{job}\"}}");
            let labels = api
                .strings("/api/v1/labels", &[("match[]", &selector)])
                .await;
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
fn exporters(learned: &mut Learned, names: &BTreeMap<String, BTreeSet<String>>) {
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
