//! `prometheus`: one PromQL instant query, every returned sample held against `expect`.
//! Serves "error rate below threshold", "metrics being recorded" and "alerts functioning".

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::assert::{Assertions, Subject};
use crate::compare::{CompareParam, Comparison, redact_url};
use crate::figures::{QuerySample, QueryValues};
use crate::limit::Limit;
use crate::net::NetParams;
use crate::net::dial::{unanswered, within};
use crate::net::http::request::check_http_url;
use crate::net::http::{self, Reach};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Answers bigger than this are refused: a gate query should return a handful of series.
const MAX_ANSWER: u64 = 4 * 1024 * 1024;
/// Violating series named in the message (all of them, up to 20, go to the evidence).
const SHOWN_SERIES: usize = 3;

/// Parameters of `check: { prometheus: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusProbe {
    /// The server's base URL (`http://prometheus:9090`); `/api/v1/query` is appended.
    pub url: String,
    /// A PromQL instant query (`sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))`).
    pub query: String,
    /// What every returned value must satisfy: `< 0.05`, `== 1`, `>= 3`; or
    /// `{ fail: "< 0.05", warn: "< 0.01" }` to report `warn` (and how close the value came)
    /// before it fails. Without it, any non-empty answer passes.
    pub expect: Option<Limit<CompareParam>>,
    /// Assertions on the answer, a list of `{metric: {labels}, value}` samples:
    /// `/0/metric/job == api`, `. every /value < 0.05`, `. any /metric/instance matches ^db` (see the README).
    #[serde(default)]
    pub assert: Assertions,
    /// What an empty answer (no series) means; `fail` by default.
    #[serde(default)]
    pub empty: EmptyMeans,
    /// What an empty answer means in words, said first when the query returns no series:
    /// which metric is not recorded and which convention expected it (`http_requests_total`
    /// is not recorded for `job="api"`; `metrics_convention: prometheus` expects it).
    pub missing: Option<String>,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
}

/// The status an empty answer gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EmptyMeans {
    Pass,
    Warn,
    #[default]
    Fail,
    Error,
}

impl EmptyMeans {
    fn status(self) -> Status {
        match self {
            EmptyMeans::Pass => Status::Pass,
            EmptyMeans::Warn => Status::Warn,
            EmptyMeans::Fail => Status::Fail,
            EmptyMeans::Error => Status::Error,
        }
    }
}

/// One sample: its labels as PromQL prints them, and its value as Prometheus wrote it.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    labels: String,
    /// The labels as Prometheus sent them (with `__name__`), for assertions.
    metric: Value,
    value: String,
}

fn labels(metric: Option<&Map<String, Value>>) -> String {
    let Some(metric) = metric else {
        return String::new();
    };
    let name = metric.get("__name__").and_then(Value::as_str).unwrap_or("");
    let pairs: Vec<String> = metric
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_str().map(|s| format!("{s:?}")).unwrap_or_default()
            )
        })
        .collect();
    if pairs.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", pairs.join(","))
    }
}

/// The samples of an instant-query answer (`/api/v1/query` JSON), or why it is unusable.
fn samples(doc: &Value) -> Result<Vec<Sample>, String> {
    if doc["status"] != "success" {
        let kind = doc["errorType"].as_str().unwrap_or("unknown");
        let why = doc["error"].as_str().unwrap_or("no error text");
        return Err(format!("Prometheus refused the query ({kind}): {why}"));
    }
    let value_of = |pair: &Value| -> Result<String, String> {
        pair.get(1)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("sample `{pair}` has no value"))
    };
    let data = &doc["data"];
    match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .ok_or("`data.result` is not a list")?
            .iter()
            .map(|s| {
                Ok(Sample {
                    labels: labels(s["metric"].as_object()),
                    metric: s["metric"].clone(),
                    value: value_of(&s["value"])?,
                })
            })
            .collect(),
        Some("scalar") | Some("string") => Ok(vec![Sample {
            labels: String::new(),
            metric: json!({}),
            value: value_of(&data["result"])?,
        }]),
        Some("matrix") => Err(
            "the query returns a range vector; gate on an instant value, e.g. wrap it in `rate(…)` or `max_over_time(…)`"
                .to_string(),
        ),
        other => Err(format!("unknown resultType {other:?}")),
    }
}

/// Splits samples into those violating `cmp`; `Err` when a value cannot be compared.
fn violations<'a>(cmp: &Comparison, all: &'a [Sample]) -> Result<Vec<&'a Sample>, String> {
    let mut bad = Vec::new();
    for s in all {
        match cmp.holds(&s.value) {
            Ok(true) => {}
            Ok(false) => bad.push(s),
            Err(e) => return Err(format!("{} value {e}", shown(s))),
        }
    }
    Ok(bad)
}

fn shown(s: &Sample) -> String {
    if s.labels.is_empty() {
        s.value.clone()
    } else {
        format!("{} = {}", s.labels, s.value)
    }
}

/// Prometheus could not be asked: always `error` (it is the instrument, not the system under
/// test), with what happened in words.
fn instrument_down(base: &str, why: &NoAnswer, budget: Duration, detail: &str) -> Outcome {
    let said = match why {
        NoAnswer::Timeout => format!(
            "Prometheus at {base} did not answer within {}",
            within(budget)
        ),
        NoAnswer::Refused => format!("Prometheus at {base} refused the connection"),
        NoAnswer::NameNotFound => format!("Prometheus at {base}: its host name does not resolve"),
        NoAnswer::Throttled => format!("Prometheus at {base} throttled the query"),
        other => format!("Prometheus at {base}: {other}"),
    };
    let detail = match why {
        NoAnswer::Timeout | NoAnswer::Refused => String::new(),
        _ => format!(" ({detail})"),
    };
    unanswered(
        why,
        Property::Instrument,
        format!("{said}: the query could not be evaluated{detail}"),
    )
}

#[async_trait]
impl Probe for PrometheusProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues: Vec<ParamIssue> = check_http_url("url", &self.url).into_iter().collect();
        if self.query.trim().is_empty() {
            issues.push(
                ParamIssue::new("query", "`query` is empty")
                    .hint("write a PromQL expression such as `up{job=\"api\"}`"),
            );
        }
        let levels = self.expect.as_ref();
        let mut parsed = Vec::new();
        for level in [
            levels.and_then(|l| l.fail.as_ref()),
            levels.and_then(|l| l.warn.as_ref()),
        ] {
            match level.map(|e| e.parse()) {
                Some(Err(msg)) => issues.push(
                    ParamIssue::new("expect", msg)
                        .hint("write a comparison such as `< 0.05`, `== 1` or `>= 3`"),
                ),
                Some(Ok(c)) if matches!(c.operand, crate::compare::Operand::Text(_)) => issues
                    .push(
                        ParamIssue::new(
                            "expect",
                            "Prometheus samples are numbers; `expect` compares with text",
                        )
                        .hint("write a comparison such as `< 0.05`, `== 1` or `>= 3`"),
                    ),
                Some(Ok(c)) => parsed.push(c),
                None => {}
            }
        }
        if let (Some(Some(Ok(fail))), Some(Some(Ok(warn)))) = (
            levels.map(|l| l.fail.as_ref().map(CompareParam::parse)),
            levels.map(|l| l.warn.as_ref().map(CompareParam::parse)),
        ) && let Err(why) = Comparison::check_levels(&fail, &warn)
        {
            issues.push(ParamIssue::new("expect", why));
        }
        issues.extend(self.assert.check("assert", &["pointer"]));
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        Reach::new(&self.url, &self.ca_file, net).check()
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let started = std::time::Instant::now();
        let base = redact_url(&self.url);
        let endpoint = format!("{}/api/v1/query", self.url.trim_end_matches('/'));
        let client = match Reach::new(&self.url, &self.ca_file, &ctx.net).client(ctx) {
            Ok(c) => c,
            Err(e) => return Outcome::error(e),
        };
        let q = &self.query;
        let mut endpoint = match url::Url::parse(&endpoint) {
            Ok(u) => u,
            Err(e) => return Outcome::error(format!("{base}: invalid URL: {e}")),
        };
        endpoint.query_pairs_mut().append_pair("query", q);
        let resp = match client.get(endpoint).timeout(ctx.timeout).send().await {
            Ok(r) => r,
            Err(e) => {
                let why = if e.is_timeout() {
                    NoAnswer::Timeout
                } else {
                    NoAnswer::classify(&e)
                };
                let detail = http::describe(&e.without_url());
                let down = instrument_down(&base, &why, ctx.timeout, &detail)
                    .with("url", base.as_str())
                    .with("query", q.as_str());
                let left = ctx.timeout.saturating_sub(started.elapsed());
                let reach = Reach::new(&self.url, &self.ca_file, &ctx.net);
                return http::client_auth::explain(ctx, &reach, down, None, left).await;
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp.headers().contains_key("retry-after");
        let remote = resp.remote_addr();
        let evidence = |o: Outcome| {
            let o = o
                .with("url", base.as_str())
                .with("query", q.as_str())
                .with("http_status", status);
            match remote {
                Some(addr) => o.with("address", addr.to_string()),
                None => o,
            }
        };
        if status == 429 || (status == 503 && retry_after) {
            return evidence(instrument_down(
                &base,
                &NoAnswer::Throttled,
                ctx.timeout,
                &format!("it answered HTTP {status}"),
            ));
        }
        let body = match http::read_capped(resp, MAX_ANSWER).await {
            Ok(b) => b,
            Err(e) => {
                let why = NoAnswer::from_message(&e);
                return evidence(instrument_down(&base, &why, ctx.timeout, &e));
            }
        };
        if body.truncated {
            return evidence(Outcome::error(format!(
                "{base}: the answer to `{q}` is over {} MiB; aggregate it (`sum`, `max`) to a few series",
                MAX_ANSWER >> 20
            )));
        }
        let doc: Value = match serde_json::from_slice(&body.bytes) {
            Ok(d) => d,
            Err(_) if status >= 500 => {
                return evidence(unanswered(
                    &NoAnswer::Other,
                    Property::Instrument,
                    format!(
                        "Prometheus at {base} answered HTTP {status}: the query could not be evaluated"
                    ),
                ));
            }
            Err(e) => {
                let start: String = body.text().chars().take(200).collect();
                return evidence(unanswered(
                    &NoAnswer::Other,
                    Property::Instrument,
                    format!(
                        "{base}: HTTP {status} answer is not Prometheus JSON ({e}): the query could not be evaluated"
                    ),
                ))
                .with("body_start", start);
            }
        };
        // Prometheus is the instrument: a query it rejects (bad PromQL) or cannot evaluate
        // (its own timeout, an execution error) is `error`, never a verdict on the system.
        let all = match samples(&doc) {
            Ok(s) => s,
            Err(e) => {
                let kind = doc["errorType"].as_str().unwrap_or("");
                let why = if kind == "timeout" {
                    NoAnswer::Timeout
                } else {
                    NoAnswer::Other
                };
                return evidence(unanswered(
                    &why,
                    Property::Instrument,
                    format!("{base}: `{q}`: {e}; the query could not be evaluated"),
                ));
            }
        };
        if all.is_empty() {
            let st = self.empty.status();
            let what = match self.empty {
                EmptyMeans::Fail | EmptyMeans::Error => " (no series: is the metric recorded?)",
                _ => "",
            };
            let message = match self.missing.as_deref().map(str::trim) {
                Some(said) if !said.is_empty() => format!(
                    "{said} (`{q}` returned no series; `empty: {}`)",
                    st.as_str()
                ),
                _ => format!("`{q}` returned no series{what}; `empty: {}`", st.as_str()),
            };
            return evidence(Outcome::new(st, message)).with("series", 0);
        }
        let values = QueryValues {
            values: all
                .iter()
                .take(20)
                .map(|s| QuerySample {
                    series: json!(s.labels),
                    value: json!(s.value),
                })
                .collect(),
        };
        let verdicts = self.assert.evaluate(&Subject {
            doc: Some(Ok(document(&all))),
            ..Subject::default()
        });
        let judged = |o: Outcome| {
            let mut o = evidence(o).with("series", all.len()).with_figures(&values);
            verdicts.write(&mut o.evidence);
            verdicts.fold(o)
        };
        let level = |l: Option<&CompareParam>| l.map(CompareParam::parse).transpose();
        let (fail, warn) = match (
            level(self.expect.as_ref().and_then(|l| l.fail.as_ref())),
            level(self.expect.as_ref().and_then(|l| l.warn.as_ref())),
        ) {
            (Ok(f), Ok(w)) => (f, w),
            (Err(e), _) | (_, Err(e)) => return Outcome::error(e),
        };
        let Some(cmp) = fail.or(warn.clone()) else {
            return judged(Outcome::pass(format!(
                "`{q}` returned {} series, first {}",
                all.len(),
                shown(&all[0])
            )));
        };
        let failing = self.expect.as_ref().is_some_and(|l| l.fail.is_some());
        let bad = match failing.then(|| violations(&cmp, &all)).transpose() {
            Ok(b) => b.unwrap_or_default(),
            Err(e) => {
                return evidence(Outcome::error(format!(
                    "`{q}`: {e}, cannot compare with {cmp}"
                )));
            }
        };
        let warned = match (bad.is_empty(), &warn) {
            (true, Some(w)) => violations(w, &all).unwrap_or_default(),
            _ => Vec::new(),
        };
        let outcome = if let (false, Some(w)) = (warned.is_empty(), &warn) {
            let first = warned[0];
            let near = match (failing, first.value.trim().parse::<f64>()) {
                (true, Ok(v)) => cmp.closeness(v),
                _ => first.value.clone(),
            };
            let series = if first.labels.is_empty() {
                String::new()
            } else {
                format!("{} ", first.labels)
            };
            Outcome::warn(format!(
                "`{q}`: {series}{near} (warn level {w}; {} of {} series)",
                warned.len(),
                all.len()
            ))
        } else if bad.is_empty() {
            let found = if all.len() == 1 {
                format!("is {}", shown(&all[0]))
            } else {
                format!("returned {} series, all", all.len())
            };
            Outcome::pass(format!("`{q}` {found} {cmp}"))
        } else {
            let listed: Vec<String> = bad.iter().take(SHOWN_SERIES).map(|s| shown(s)).collect();
            let more = if bad.len() > SHOWN_SERIES {
                format!(" and {} more", bad.len() - SHOWN_SERIES)
            } else {
                String::new()
            };
            Outcome::fail(format!(
                "`{q}`: expected {cmp}, found {}{more} ({} of {} series violate)",
                listed.join(", "),
                bad.len(),
                all.len()
            ))
        };
        judged(outcome)
    }
}

/// The answer as the document assertions point into: `[{metric: {labels}, value}]`, values
/// as numbers where they are finite.
fn document(all: &[Sample]) -> Value {
    Value::Array(
        all.iter()
            .map(|s| {
                let value = s
                    .value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(|v| json!(v))
                    .unwrap_or_else(|| json!(s.value));
                json!({"metric": s.metric.clone(), "value": value})
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_scalars_and_errors_are_read() {
        let vector = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "api", "instance": "a:1"}, "value": [1.5, "1"]},
            {"metric": {"job": "api"}, "value": [1.5, "0"]}
        ]}});
        let got = samples(&vector).expect("samples");
        assert_eq!(got[0].labels, r#"up{instance="a:1",job="api"}"#);
        assert_eq!(got[1].value, "0");
        let cmp = Comparison::parse("== 1").expect("cmp");
        let bad = violations(&cmp, &got).expect("comparable");
        assert_eq!(bad.len(), 1);
        assert_eq!(shown(bad[0]), r#"{job="api"} = 0"#);

        let scalar =
            json!({"status": "success", "data": {"resultType": "scalar", "result": [1.5, "0.01"]}});
        assert_eq!(samples(&scalar).expect("scalar")[0].value, "0.01");

        let refused = json!({"status": "error", "errorType": "bad_data", "error": "parse error"});
        assert!(samples(&refused).is_err_and(|e| e.contains("bad_data")));
        let matrix = json!({"status": "success", "data": {"resultType": "matrix", "result": []}});
        assert!(samples(&matrix).is_err_and(|e| e.contains("range vector")));
    }

    #[test]
    fn special_values_compare() {
        let cmp = Comparison::parse("< 0.05").expect("cmp");
        let nan = [Sample {
            labels: String::new(),
            metric: json!({}),
            value: "NaN".into(),
        }];
        assert_eq!(violations(&cmp, &nan).map(|b| b.len()), Ok(1));
        let inf = [Sample {
            labels: String::new(),
            metric: json!({}),
            value: "+Inf".into(),
        }];
        assert_eq!(violations(&cmp, &inf).map(|b| b.len()), Ok(1));
    }
}
