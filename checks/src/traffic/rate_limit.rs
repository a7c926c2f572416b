//! `rate_limit` (disruptive): a bounded burst must be throttled by request N, with headers a
//! client can act on. Sends at most `max_requests`, stops at the first throttled response.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, json};
use tokio::time::Instant;

use crate::net::NetParams;
use crate::net::http::Reach;
use crate::net::http::rate_limit_headers::{self as rl};
use crate::net::http::request::check_request;
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::params::DurationParam;
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::traffic::quiet;

mod burst;
use burst::{display_name, headers_json, histogram_text, limit_headers};

/// Validation refuses bursts larger than this.
pub const MAX_REQUESTS_CAP: u32 = 10_000;
/// Validation refuses more requests in flight than this.
pub const MAX_CONCURRENCY: u32 = 256;
/// `recovery` never waits longer than this, whatever `Retry-After` says.
pub const RECOVERY_CAP: Duration = Duration::from_secs(60);
/// `recovery` wait when the limiter advertises nothing usable.
const RECOVERY_DEFAULT: Duration = Duration::from_secs(1);
/// How to fix the commonest limiter without `Retry-After`: nginx `limit_req` answers 503 and
/// sends none by default (`always`: `add_header` skips error responses otherwise).
const NGINX_RECIPE: &str =
    "with nginx `limit_req`: `limit_req_status 429;` and `add_header Retry-After 60 always;`";
/// Bodies are drained (so connections are reused) up to this much.
const BODY_CAP: u64 = 64 * 1024;

/// Parameters of `check: { rate_limit: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitProbe {
    /// The URL to send the burst to (`http://` or `https://`).
    pub url: String,
    /// HTTP method; `GET` by default.
    #[serde(default = "default_method")]
    pub method: String,
    /// Request headers (an API key, so the limiter sees one client).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
    /// Hard cap on requests sent, in-flight ones included (default 100, at most 10000).
    #[serde(default = "default_max_requests")]
    pub max_requests: u32,
    /// Some request with index ≤ N (1-based) must be throttled.
    pub expect_limited_within: Option<u32>,
    /// Statuses that mean "throttled" (default `[429]`); an unlisted 503 is a warning.
    #[serde(default = "default_limited_status")]
    pub limited_status: Vec<u16>,
    /// Requests in flight at once (default 8).
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// A throttled response without a valid `Retry-After` fails (default: it warns).
    #[serde(default)]
    pub require_retry_after: bool,
    /// After the advertised `Retry-After` (capped at 60s), one request must succeed.
    #[serde(default)]
    pub recovery: bool,
    /// Quiet time before the burst after other requests of the run to the host (default 2s;
    /// longer when the host sent a longer `Retry-After`), so the limiter's budget is full.
    pub idle: Option<DurationParam>,
}

fn default_method() -> String {
    "GET".to_string()
}
fn default_max_requests() -> u32 {
    100
}
fn default_limited_status() -> Vec<u16> {
    vec![429]
}
fn default_concurrency() -> u32 {
    8
}

#[async_trait]
impl Probe for RateLimitProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = check_request(&self.url, &self.method, &self.headers);
        if self.max_requests == 0 || self.max_requests > MAX_REQUESTS_CAP {
            issues.push(
                ParamIssue::new(
                    "max_requests",
                    format!(
                        "`max_requests` is {}; it must be between 1 and {MAX_REQUESTS_CAP}",
                        self.max_requests
                    ),
                )
                .hint("a rate-limit check needs a burst just past the limit, not a load test"),
            );
        }
        match self.expect_limited_within {
            Some(0) => issues.push(ParamIssue::new(
                "expect_limited_within",
                "`expect_limited_within` counts from 1; 0 can never hold",
            )),
            Some(n) if n > self.max_requests => issues.push(
                ParamIssue::new(
                    "expect_limited_within",
                    format!(
                        "`expect_limited_within` is {n} but at most `max_requests` ({}) are sent",
                        self.max_requests
                    ),
                )
                .hint(format!("raise `max_requests` to at least {n}")),
            ),
            _ => {}
        }
        if self.limited_status.is_empty() {
            issues.push(
                ParamIssue::new(
                    "limited_status",
                    "an empty `limited_status` would never recognise throttling",
                )
                .hint("list the status your limiter sends, usually `[429]`"),
            );
        }
        for s in &self.limited_status {
            if !(400..=599).contains(s) {
                issues.push(ParamIssue::new(
                    "limited_status",
                    format!("{s} is not an error status; throttling is a 4xx or 5xx (usually 429)"),
                ));
            }
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
        issues
    }

    fn disruptive(&self) -> bool {
        true
    }

    fn burst_hosts(&self) -> Vec<String> {
        crate::politeness::host_of(&self.url).into_iter().collect()
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        Reach::new(&self.url, &self.ca_file, net).check()
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let deadline = Instant::now() + ctx.timeout;
        let reach = Reach::new(&self.url, &self.ca_file, &ctx.net);
        let (spec, client) = match reach.request(ctx, &self.method, &self.headers) {
            Ok((spec, client)) => (Arc::new(spec), client),
            Err(e) => return Outcome::error(e),
        };
        let target = format!("{} {}", spec.method, self.url);
        let host = spec.host();
        let p = &ctx.politeness;
        let idle = self.idle.map_or(quiet::DEFAULT_IDLE, |d| d.get());
        let (wait, reason) = quiet::wait(idle, p.largest_retry_after(&host), p.idle_for(&host));
        let quiet_ev = json!({ "wait_ms": wait.as_millis() as u64, "reason": reason.as_str(), "idle_ms": idle.as_millis() as u64 });
        let left = deadline.saturating_duration_since(Instant::now());
        if wait + Duration::from_secs(1) > left && !wait.is_zero() {
            return Outcome::error(format!(
                "{target}: the host needs {} s of quiet before the burst ({}), more than the item's timeout leaves; raise `timeout`",
                wait.as_secs_f64().ceil(),
                reason.as_str()
            ))
            .with("quiet_before_burst", quiet_ev);
        }
        tokio::time::sleep(wait).await;
        // Through a proxy, a failure to connect is the proxy's, not the target's.
        let via_proxy = ctx
            .net
            .proxy_setting()
            .used_for(spec.url.as_str())
            .is_some();
        let b = self.burst(&client, &spec, p, deadline, via_proxy).await;

        let mut ev = Map::new();
        ev.insert("url".into(), json!(self.url));
        ev.insert("max_requests".into(), json!(self.max_requests));
        ev.insert("quiet_before_burst".into(), quiet_ev);
        ev.insert("sent".into(), json!(b.sent));
        ev.insert("answered".into(), json!(b.answered));
        ev.insert(
            "statuses".into(),
            json!(
                b.statuses
                    .iter()
                    .map(|(s, n)| (s.to_string(), json!(n)))
                    .collect::<Map<_, _>>()
            ),
        );
        ev.insert("transport_errors".into(), json!(b.transport_errors));
        if let Some(e) = &b.first_transport_error {
            ev.insert("first_transport_error".into(), json!(e));
        }
        ev.insert(
            "first_throttled_index".into(),
            json!(b.throttled.as_ref().map(|t| t.0)),
        );
        ev.insert("burst_ms".into(), json!(b.elapsed.as_millis() as u64));
        let secs = b.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            f64::from(b.answered + b.transport_errors) / secs
        } else {
            0.0
        };
        ev.insert(
            "requests_per_second".into(),
            json!((rate * 10.0).round() / 10.0),
        );
        if let Some(h) = &b.before {
            ev.insert(
                "rate_limit_headers_before_throttling".into(),
                headers_json(&limit_headers(h)),
            );
        }
        if b.timed_out {
            ev.insert("timed_out".into(), json!(true));
        }

        let mut findings: Vec<(Status, String)> = Vec::new();
        if b.transport_errors > 0 && b.answered > 0 {
            findings.push((
                Status::Warn,
                format!(
                    "{} requests failed in transport ({})",
                    b.transport_errors,
                    b.first_transport_error.as_deref().unwrap_or("unknown")
                ),
            ));
        }
        let Some((index, status, headers)) = &b.throttled else {
            let budget = humantime::format_duration(ctx.timeout);
            let within = self.expect_limited_within;
            let (status, message) = if b.answered == 0 && b.transport_errors > 0 {
                let why = b.first_no_answer.clone().unwrap_or(NoAnswer::Other);
                ev.insert("no_answer".into(), json!(why.as_str()));
                (
                    why.status(Property::Content),
                    format!(
                        "{target}: could not be reached: {}",
                        b.first_transport_error.as_deref().unwrap_or("unknown")
                    ),
                )
            } else if let Some(n) = within.filter(|n| b.unthrottled_within >= *n) {
                (
                    Status::Fail,
                    format!(
                        "{target}: none of the first {n} requests was throttled (expect_limited_within {n}); {} answered: {}",
                        b.answered,
                        histogram_text(&b.statuses)
                    ),
                )
            } else if b.timed_out {
                (
                    Status::Error,
                    format!(
                        "{target}: the {budget} item timeout ran out after {} of {} requests sent ({} answered), none throttled; raise `timeout` or lower `max_requests`",
                        b.sent, self.max_requests, b.answered
                    ),
                )
            } else {
                (
                    Status::Fail,
                    format!(
                        "{target}: not throttled after {} requests (max_requests {}): {}",
                        b.sent,
                        self.max_requests,
                        histogram_text(&b.statuses)
                    ),
                )
            };
            return Outcome::new(status, message).with_evidence(ev);
        };

        let (index, status) = (*index, *status);
        let parsed = limit_headers(headers);
        ev.insert("throttled_status".into(), json!(status));
        ev.insert("rate_limit_headers".into(), headers_json(&parsed));
        if let Some(n) = self.expect_limited_within.filter(|n| index > *n) {
            findings.push((
                Status::Fail,
                format!("first throttled request {index} is past expect_limited_within {n}"),
            ));
        }
        let any_success = b.statuses.keys().any(|s| *s < 400);
        if !self.limited_status.contains(&status) && !any_success {
            findings.push((
                Status::Error,
                format!(
                    "every response was {status}: the service may be down rather than throttling"
                ),
            ));
        } else if !self.limited_status.contains(&status) {
            findings.push((
                Status::Warn,
                format!("throttled with {status}, which clients cannot tell from an outage (send 429, or list {status} in `limited_status`)"),
            ));
        }
        let retry_severity = if self.require_retry_after {
            Status::Fail
        } else {
            Status::Warn
        };
        let retry_after = match parsed.get("retry-after") {
            None => {
                findings.push((
                    retry_severity,
                    format!("no Retry-After on the {status} response ({NGINX_RECIPE})"),
                ));
                None
            }
            Some(p) => match &p.problem {
                Some(problem) => {
                    findings.push((retry_severity, format!("malformed Retry-After: {problem}")));
                    None
                }
                None => rl::retry_after(&p.value, SystemTime::now()).ok(),
            },
        };
        // Later bursts in the run wait for this host's budget to refill (see `quiet`).
        p.throttled(
            &host,
            retry_after.unwrap_or(RECOVERY_DEFAULT).min(RECOVERY_CAP),
            &status.to_string(),
        );
        let before = b.before.as_ref().map(limit_headers).unwrap_or_default();
        for (name, p) in parsed.iter().chain(before.iter()) {
            if *name != "retry-after"
                && let Some(problem) = &p.problem
            {
                findings.push((
                    Status::Warn,
                    format!("malformed {}: {problem}", display_name(name)),
                ));
            }
        }
        if self.recovery {
            let wait = retry_after.unwrap_or(RECOVERY_DEFAULT).min(RECOVERY_CAP);
            let (s, message, evidence) = self
                .recover(&client, &spec, wait, deadline, via_proxy)
                .await;
            ev.insert("recovery".into(), evidence);
            if s != Status::Pass {
                findings.push((s, message));
            }
        }

        let worst = findings
            .iter()
            .fold(Status::Pass, |acc, (s, _)| acc.worst(*s));
        let mut message = format!(
            "{target} throttled at request {index} with {status} ({} sent)",
            b.sent
        );
        if let Some(wait) = retry_after {
            message.push_str(&format!(", Retry-After {}s", wait.as_secs()));
        }
        if self.recovery && worst == Status::Pass {
            message.push_str(", recovered after it");
        }
        for (_, f) in &findings {
            message.push_str("; ");
            message.push_str(f);
        }
        Outcome::new(worst, message).with_evidence(ev)
    }
}
