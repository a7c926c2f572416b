//! `latency`: N timed requests, then p50/p95/p99/max and the error rate against the item's
//! SLO thresholds (the seeds' rollback triggers). Bounded by `samples` and the item timeout.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, json};
use tokio::task::JoinSet;

use crate::figures::{Figures, LatencyFigures, Percentiles};
use crate::limit::{Limit, Percent};
use crate::net::NetParams;
use crate::net::http::Reach;
use crate::net::http::page::{Fetcher, NoPage};
use crate::net::http::request::{RequestSpec, check_request};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::params::DurationParam;
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::traffic::percentile::Summary;

/// Validation refuses more samples than this.
pub const MAX_SAMPLES: u32 = 1000;
/// Validation refuses more requests in flight than this.
pub const MAX_CONCURRENCY: u32 = 64;
/// Validation refuses more warm-up requests than this.
pub const MAX_WARMUP: u32 = 100;
/// Each body is read (and timed) up to this much.
const BODY_CAP: u64 = 1024 * 1024;
/// Fewer real (unthrottled) samples than this, after any was throttled, judge nothing.
pub const MIN_REAL: u32 = 5;

/// Parameters of `check: { latency: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyProbe {
    /// The URL to sample (`http://` or `https://`).
    pub url: String,
    /// HTTP method; `GET` by default.
    #[serde(default = "default_method")]
    pub method: String,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
    /// Timed requests (default 20, at most 1000).
    #[serde(default = "default_samples")]
    pub samples: u32,
    /// Requests in flight at once (default 1).
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// Untimed requests first, to open connections and warm caches (default 1).
    #[serde(default = "default_warmup")]
    pub warmup: u32,
    /// Upper bound for the median: `300ms`, or `{ fail: 300ms, warn: 250ms }`.
    pub p50: Option<Limit<DurationParam>>,
    /// Upper bound for the 95th percentile: `300ms`, or `{ fail: 300ms, warn: 250ms }`.
    pub p95: Option<Limit<DurationParam>>,
    /// Upper bound for the 99th percentile: `300ms`, or `{ fail: 300ms, warn: 250ms }`.
    pub p99: Option<Limit<DurationParam>>,
    /// Upper bound for the slowest sample: `300ms`, or `{ fail: 300ms, warn: 250ms }`.
    pub max: Option<Limit<DurationParam>>,
    /// Highest acceptable share of errors (a 5xx or a transport failure, or a status other
    /// than `expect_status` when it is given), in percent; `{ fail: 5, warn: 1 }` warns first.
    pub max_error_rate: Option<Limit<Percent>>,
    /// The status a sample must answer to count as a success (`200`): a fast 401 or 404 is
    /// not a fast success. Without `max_error_rate`, any other status fails the item.
    pub expect_status: Option<u16>,
}

fn default_method() -> String {
    "GET".to_string()
}
fn default_samples() -> u32 {
    20
}
fn default_concurrency() -> u32 {
    1
}
fn default_warmup() -> u32 {
    1
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

fn ms_value(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// What one sample observed.
enum Sample {
    /// A real answer: its status and the time from sending to the end of the body.
    Answer(u16, Duration),
    /// A limiter's answer (429, or 503 with a retry hint), or no slot because of one.
    Throttled(String),
    /// No answer at all.
    Failed(NoPage),
}

async fn sample(fetcher: Fetcher, spec: Arc<RequestSpec>) -> Sample {
    match fetcher.once(&spec, BODY_CAP).await {
        Ok(page) => match page.throttle() {
            Some(t) => Sample::Throttled(t.describe()),
            None => Sample::Answer(page.status, page.elapsed),
        },
        Err(e) if e.why == NoAnswer::Throttled => Sample::Throttled(e.message),
        Err(e) => Sample::Failed(e),
    }
}

/// Whether throttled samples leave too little to judge: more than half of those taken were
/// throttled, or fewer than `MIN_REAL` (or all requested, if fewer) real answers remain.
pub fn too_throttled(throttled: u32, real: u32, requested: u32) -> bool {
    throttled > 0 && (throttled * 2 > throttled + real || real < MIN_REAL.min(requested))
}

impl LatencyProbe {
    /// The failing levels.
    fn thresholds(&self) -> [(&'static str, Option<DurationParam>); 4] {
        self.levels().map(|(n, l)| (n, l.and_then(|l| l.fail)))
    }

    /// The failing and warn levels.
    fn levels(&self) -> [(&'static str, Option<Limit<DurationParam>>); 4] {
        [
            ("p50", self.p50),
            ("p95", self.p95),
            ("p99", self.p99),
            ("max", self.max),
        ]
    }
}

#[async_trait]
impl Probe for LatencyProbe {
    fn planned_requests(&self) -> Vec<(String, u32)> {
        let n = self.samples;
        crate::politeness::requests_to(&self.url, n)
    }

    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = check_request(&self.url, &self.method, &self.headers);
        if self.samples == 0 || self.samples > MAX_SAMPLES {
            issues.push(
                ParamIssue::new(
                    "samples",
                    format!(
                        "`samples` is {}; it must be between 1 and {MAX_SAMPLES}",
                        self.samples
                    ),
                )
                .hint("a latency check samples an endpoint; it is not a load test"),
            );
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            issues.push(ParamIssue::new(
                "concurrency",
                format!(
                    "`concurrency` is {}; it must be between 1 and {MAX_CONCURRENCY}",
                    self.concurrency
                ),
            ));
        }
        if let Some(status) = self.expect_status
            && !(100..=599).contains(&status)
        {
            issues.push(
                ParamIssue::new(
                    "expect_status",
                    format!("`expect_status` is {status}; an HTTP status is between 100 and 599"),
                )
                .hint("write the status a healthy answer has, usually `200`"),
            );
        }
        if self.warmup > MAX_WARMUP {
            issues.push(ParamIssue::new(
                "warmup",
                format!("`warmup` is {}; at most {MAX_WARMUP}", self.warmup),
            ));
        }
        let rates = self.max_error_rate.iter().flat_map(|l| [l.fail, l.warn]);
        for Percent(r) in rates.flatten() {
            if !(0.0..=100.0).contains(&r) {
                issues.push(
                    ParamIssue::new(
                        "max_error_rate",
                        format!("`max_error_rate` is {r}; it is a percentage between 0 and 100"),
                    )
                    .hint("write `5` for 5%"),
                );
            }
        }
        if let Some(why) = self.max_error_rate.and_then(|l| l.warn_below_fail()) {
            issues.push(ParamIssue::new(
                "max_error_rate",
                format!("`max_error_rate`: {why}"),
            ));
        }
        for (name, level) in self.levels() {
            if let Some(why) = level.and_then(|l| l.warn_below_fail()) {
                issues.push(ParamIssue::new(name, format!("`{name}`: {why}")));
            }
        }
        let set: Vec<(&str, Duration)> = self
            .thresholds()
            .into_iter()
            .filter_map(|(n, t)| Some((n, t?.get())))
            .collect();
        for pair in set.windows(2) {
            if pair[1].1 < pair[0].1 {
                issues.push(ParamIssue::new(
                    pair[1].0,
                    format!(
                        "`{}` ({}) is below `{}` ({}): a higher percentile cannot be faster",
                        pair[1].0,
                        ms(pair[1].1),
                        pair[0].0,
                        ms(pair[0].1)
                    ),
                ));
            }
        }
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        Reach::new(&self.url, &self.ca_file, net).check()
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let reach = Reach::new(&self.url, &self.ca_file, &ctx.net);
        let (spec, client) = match reach.request(ctx, &self.method, &self.headers) {
            Ok((spec, client)) => (Arc::new(spec), client),
            Err(e) => return Outcome::error(e),
        };
        // `samples` and `concurrency` are the item's own load; the host's pace, the per-host
        // limit and any Retry-After the host sent still apply, and time queued on them is not
        // charged to the item's timeout (`Fetcher::within`).
        let fetcher = Fetcher::with_client(ctx, client);
        let target = format!("{} {}", spec.method, self.url);
        let job = || sample(fetcher.clone(), spec.clone());

        let mut timed_out = false;
        for _ in 0..self.warmup {
            if fetcher.within(job()).await.is_none() {
                timed_out = true;
                break;
            }
        }

        let mut latencies: Vec<Duration> = Vec::new();
        let mut statuses: BTreeMap<u16, u32> = BTreeMap::new();
        let (mut sent, mut done, mut errors, mut throttled) = (0u32, 0u32, 0u32, 0u32);
        let mut first_error: Option<String> = None;
        // Answers with another status than `expect_status`.
        let mut wrong_status = 0u32;
        let mut first_failure: Option<NoPage> = None;
        let mut first_throttle: Option<String> = None;
        let mut set: JoinSet<Sample> = JoinSet::new();
        while !timed_out {
            while sent < self.samples && set.len() < self.concurrency.max(1) as usize {
                sent += 1;
                set.spawn(job());
            }
            let joined = match fetcher.within(set.join_next()).await {
                None => {
                    timed_out = true;
                    break;
                }
                Some(None) => break,
                Some(Some(j)) => j,
            };
            done += 1;
            match joined {
                Ok(Sample::Answer(status, took)) => {
                    *statuses.entry(status).or_default() += 1;
                    latencies.push(took);
                    match self.expect_status {
                        Some(want) if status != want => {
                            errors += 1;
                            wrong_status += 1;
                            first_error
                                .get_or_insert_with(|| format!("status {status}, expected {want}"));
                        }
                        Some(_) => {}
                        None if status >= 500 => {
                            errors += 1;
                            first_error.get_or_insert_with(|| format!("status {status}"));
                        }
                        None => {}
                    }
                }
                Ok(Sample::Throttled(why)) => {
                    throttled += 1;
                    first_throttle.get_or_insert(why);
                }
                Ok(Sample::Failed(e)) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| e.message.clone());
                    first_failure.get_or_insert(e);
                }
                Err(e) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| format!("internal error: {e}"));
                }
            }
        }
        set.abort_all();
        // Throttled samples timed the limiter, not the service: they are left out entirely.
        let real = done - throttled;
        let summary = Summary::of(&latencies);
        let error_rate = if real == 0 {
            0.0
        } else {
            f64::from(errors) * 100.0 / f64::from(real)
        };
        let mut ev = Map::new();
        ev.insert("throttled".into(), json!(throttled));
        ev.insert("samples_requested".into(), json!(self.samples));
        // The run's per-host limit caps requests in flight, whatever `concurrency` asks.
        let in_flight = self
            .concurrency
            .max(1)
            .min(ctx.politeness.per_host() as u32);
        ev.insert("concurrency".into(), json!(in_flight));
        ev.insert("warmup".into(), json!(self.warmup));
        let percentiles = match summary {
            Some(s) => Percentiles {
                p50_ms: Some(ms_value(s.p50)),
                p95_ms: Some(ms_value(s.p95)),
                p99_ms: Some(ms_value(s.p99)),
                max_ms: Some(ms_value(s.max)),
            },
            None => Percentiles::default(),
        };
        // The item's bounds beside the figures, so a report can draw one against the other.
        let [p50, p95, p99, max] = self.thresholds().map(|(_, l)| l.map(|l| ms_value(l.get())));
        let limits = Percentiles {
            p50_ms: p50,
            p95_ms: p95,
            p99_ms: p99,
            max_ms: max,
        };
        if let Some(rate) = self.max_error_rate {
            ev.insert("max_error_rate".into(), json!(rate));
        }
        ev.insert("errors".into(), json!(errors));
        LatencyFigures {
            url: self.url.clone(),
            sample_count: real as u64,
            percentiles,
            limits: (limits != Percentiles::default()).then_some(limits),
            error_rate: (error_rate * 100.0).round() / 100.0,
        }
        .write(&mut ev);
        let hist: Map<_, _> = statuses
            .iter()
            .map(|(s, n)| (s.to_string(), json!(n)))
            .collect();
        ev.insert("statuses".into(), json!(hist));
        if let Some(e) = &first_error {
            ev.insert("first_error".into(), json!(e));
        }
        if let Some(t) = &first_throttle {
            ev.insert("first_throttled".into(), json!(t));
        }
        let throttled_note = if throttled > 0 {
            format!(", {throttled} throttled sample(s) left out")
        } else {
            String::new()
        };
        let figures = match summary {
            Some(s) => format!(
                "{real} samples, p50 {}, p95 {}, p99 {}, max {}, error rate {error_rate:.1}%{throttled_note}",
                ms(s.p50),
                ms(s.p95),
                ms(s.p99),
                ms(s.max)
            ),
            None => format!(
                "{real} samples, none answered, error rate {error_rate:.1}%{throttled_note}"
            ),
        };

        if timed_out {
            ev.insert("timed_out".into(), json!(true));
            return Outcome::error(format!(
                "{target}: the {} item timeout ran out after {done} of {} samples ({figures} so far); raise `timeout` or lower `samples`",
                humantime::format_duration(ctx.timeout),
                self.samples
            ))
            .with_evidence(ev);
        }

        if too_throttled(throttled, real, self.samples) {
            ev.insert("no_answer".into(), json!(NoAnswer::Throttled.as_str()));
            let why = first_throttle.unwrap_or_default();
            return Outcome::new(
                NoAnswer::Throttled.status(Property::Content),
                format!(
                    "{target}: throttled by the target: {throttled} of {done} samples were throttled ({why}), so the timings would measure the limiter; run it when the host is quiet or raise its limit for prodcheck ({figures})"
                ),
            )
            .with_evidence(ev);
        }
        if real > 0
            && errors == real
            && latencies.is_empty()
            && let Some(e) = first_failure
        {
            // No sample got any answer: the no-answer rule decides (refused fails, silence errs).
            return e
                .outcome(Property::Content, &format!("{target}: no sample answered"))
                .with_evidence(ev);
        }

        let mut crossed: Vec<String> = Vec::new();
        let mut degraded: Vec<String> = Vec::new();
        let mut unanswerable = false;
        for (name, limit) in self.levels() {
            let Some(limit) = limit else { continue };
            let Some(s) = summary else {
                unanswerable = true;
                continue;
            };
            let value = match name {
                "p50" => s.p50,
                "p95" => s.p95,
                "p99" => s.p99,
                _ => s.max,
            };
            match limit.ceiling(name, value.as_secs_f64()) {
                (Status::Fail, _) => {
                    let fail = limit.fail.map(|f| f.get()).unwrap_or_default();
                    crossed.push(format!("{name} {} over {}", ms(value), ms(fail)));
                }
                (Status::Warn, Some(words)) => degraded.push(words),
                _ => {}
            }
        }
        if let Some(limit) = self.max_error_rate {
            match limit.ceiling("error rate", error_rate) {
                (Status::Fail, _) => crossed.push(format!(
                    "error rate {error_rate:.1}% over {}%",
                    limit.fail.map(|f| f.0).unwrap_or_default()
                )),
                (Status::Warn, Some(words)) => degraded.push(words),
                _ => {}
            }
        }
        let cause = first_error
            .map(|e| format!(", first error: {e}"))
            .unwrap_or_default();
        if let Some(want) = self.expect_status
            && wrong_status > 0
            && self.max_error_rate.is_none()
        {
            crossed.push(format!(
                "{wrong_status} of {done} samples answered another status than {want}"
            ));
        }
        let outcome = if !crossed.is_empty() {
            Outcome::fail(format!(
                "{target}: {} ({figures}{cause})",
                crossed.join("; ")
            ))
        } else if unanswerable {
            Outcome::error(format!(
                "{target}: no sample answered, so no percentile can be computed ({figures}{cause})"
            ))
        } else if !degraded.is_empty() {
            Outcome::warn(format!(
                "{target}: degraded: {} ({figures}{cause})",
                degraded.join("; ")
            ))
        } else if errors > 0 && self.max_error_rate.is_none() {
            Outcome::warn(format!(
                "{target}: {errors} of {done} samples were errors and no `max_error_rate` is set ({figures}{cause})"
            ))
        } else {
            Outcome::new(Status::Pass, format!("{target}: {figures}"))
        };
        outcome.with_evidence(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_samples_decide_only_when_they_dominate() {
        assert!(!too_throttled(0, 0, 20));
        assert!(!too_throttled(2, 18, 20));
        assert!(!too_throttled(10, 10, 20));
        assert!(too_throttled(11, 9, 20));
        // Too few real samples left, however few were throttled.
        assert!(too_throttled(1, 4, 20));
        assert!(!too_throttled(1, 5, 6));
        // With few samples requested, every one of them must be real.
        assert!(too_throttled(1, 2, 3));
    }
}
