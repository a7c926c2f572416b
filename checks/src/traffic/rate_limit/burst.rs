//! The burst itself: requests sent under the concurrency bound until the first throttled
//! answer, the limit headers read from the answers, and the wait for the limiter to recover.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Client;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::net::http;
use crate::net::http::page;
use crate::net::http::rate_limit_headers::{self as rl, Parsed};
use crate::net::http::request::RequestSpec;
use crate::no_answer::NoAnswer;
use crate::outcome::Status;
use crate::politeness::Politeness;

use super::{BODY_CAP, MAX_CONCURRENCY, RateLimitProbe};

/// Capitalised the way the specs write it, for messages.
pub(super) fn display_name(name: &str) -> String {
    name.split('-')
        .map(|part| match part {
            "ratelimit" => "RateLimit".to_string(),
            "x" => "X".to_string(),
            p => {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The rate-limit headers present in `headers`, parsed.
pub(super) fn limit_headers(headers: &HeaderMap) -> BTreeMap<&'static str, Parsed> {
    let now = SystemTime::now();
    rl::NAMES
        .iter()
        .filter_map(|&n| {
            let v = headers.get(n)?;
            Some((n, rl::parse(n, &http::header_text(v), now)))
        })
        .collect()
}

pub(super) fn headers_json(parsed: &BTreeMap<&'static str, Parsed>) -> Value {
    Value::Object(
        parsed
            .iter()
            .map(|(k, p)| ((*k).to_string(), p.to_json()))
            .collect::<Map<_, _>>(),
    )
}

pub(super) fn histogram_text(h: &BTreeMap<u16, u32>) -> String {
    h.iter()
        .map(|(s, n)| format!("{s}×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One request of the burst: its 1-based index and what came back.
type Reply = (u32, Result<(u16, HeaderMap), (NoAnswer, String)>);

pub(super) async fn send_one(
    client: Client,
    spec: Arc<RequestSpec>,
    index: u32,
    via_proxy: bool,
) -> Reply {
    let req = client
        .request(spec.method.clone(), spec.url.clone())
        .headers(spec.headers.clone());
    let result = match req.send().await {
        Err(e) => Err((page::classify(&e, via_proxy), http::describe(&e))),
        Ok(resp) => {
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            // Drain (capped) so the connection goes back to the pool; the body is not judged.
            let _ = http::read_capped(resp, BODY_CAP).await;
            Ok((status, headers))
        }
    };
    (index, result)
}

/// What the burst observed.
#[derive(Default)]
pub(super) struct Burst {
    pub(super) sent: u32,
    pub(super) answered: u32,
    pub(super) statuses: BTreeMap<u16, u32>,
    pub(super) transport_errors: u32,
    pub(super) first_transport_error: Option<String>,
    pub(super) first_no_answer: Option<NoAnswer>,
    /// Lowest index throttled, its status and headers.
    pub(super) throttled: Option<(u32, u16, HeaderMap)>,
    /// Headers of the latest non-throttled response that carried rate-limit headers.
    pub(super) before: Option<HeaderMap>,
    /// Requests with index ≤ `expect_limited_within` answered without throttling.
    pub(super) unthrottled_within: u32,
    pub(super) timed_out: bool,
    pub(super) elapsed: Duration,
}

impl RateLimitProbe {
    pub(super) fn is_throttle(&self, status: u16) -> bool {
        self.limited_status.contains(&status) || status == 503
    }

    pub(super) async fn burst(
        &self,
        client: &Client,
        spec: &Arc<RequestSpec>,
        politeness: &Politeness,
        deadline: Instant,
        via_proxy: bool,
    ) -> Burst {
        let started = Instant::now();
        let host = spec.host();
        let concurrency = self.concurrency.clamp(1, MAX_CONCURRENCY) as usize;
        let within = self.expect_limited_within.unwrap_or(0);
        let mut b = Burst::default();
        let mut set: JoinSet<Reply> = JoinSet::new();
        loop {
            // Stop sending at the first throttled response, at the cap, or when the target is
            // unreachable (nothing answered and a transport error came back).
            let unreachable = b.answered == 0 && b.transport_errors > 0;
            while b.throttled.is_none()
                && !unreachable
                && b.sent < self.max_requests
                && set.len() < concurrency
            {
                b.sent += 1;
                politeness.sent(&host);
                set.spawn(send_one(client.clone(), spec.clone(), b.sent, via_proxy));
            }
            let joined = match tokio::time::timeout_at(deadline, set.join_next()).await {
                Err(_) => {
                    b.timed_out = true;
                    break;
                }
                Ok(None) => break,
                Ok(Some(j)) => j,
            };
            match joined {
                Err(e) => {
                    b.transport_errors += 1;
                    b.first_transport_error
                        .get_or_insert_with(|| format!("internal error: {e}"));
                }
                Ok((_, Err((why, e)))) => {
                    b.transport_errors += 1;
                    b.first_transport_error.get_or_insert(e);
                    b.first_no_answer.get_or_insert(why);
                }
                Ok((index, Ok((status, headers)))) => {
                    b.answered += 1;
                    *b.statuses.entry(status).or_default() += 1;
                    if self.is_throttle(status) {
                        if b.throttled.as_ref().is_none_or(|(i, _, _)| index < *i) {
                            b.throttled = Some((index, status, headers));
                        }
                    } else {
                        if index <= within {
                            b.unthrottled_within += 1;
                        }
                        if rl::NAMES.iter().any(|n| headers.contains_key(*n)) {
                            b.before = Some(headers);
                        }
                    }
                }
            }
        }
        set.abort_all();
        b.elapsed = started.elapsed();
        b
    }

    /// Waits the advertised `Retry-After` (capped) and sends one request, which must succeed.
    pub(super) async fn recover(
        &self,
        client: &Client,
        spec: &Arc<RequestSpec>,
        wait: Duration,
        deadline: Instant,
        via_proxy: bool,
    ) -> (Status, String, Value) {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if wait + Duration::from_millis(100) > remaining {
            return (
                Status::Error,
                format!(
                    "recovery needs a {}s wait but only {} ms of the item timeout remain; raise `timeout`",
                    wait.as_secs_f64(),
                    remaining.as_millis()
                ),
                json!({ "wait_ms": wait.as_millis() as u64, "sent": false }),
            );
        }
        tokio::time::sleep(wait).await;
        let left = deadline.saturating_duration_since(Instant::now());
        let send = send_one(client.clone(), spec.clone(), 0, via_proxy);
        let waited = format!("{}s", wait.as_secs_f64());
        let wait_ms = wait.as_millis() as u64;
        match tokio::time::timeout(left, send).await {
            Err(_) => (
                Status::Fail,
                format!("recovery request after {waited}: the item timeout ran out"),
                json!({ "wait_ms": wait_ms }),
            ),
            Ok((_, Err((_, e)))) => (
                Status::Fail,
                format!("recovery request after {waited} failed: {e}"),
                json!({ "wait_ms": wait_ms }),
            ),
            Ok((_, Ok((s, _)))) if s < 400 => (
                Status::Pass,
                String::new(),
                json!({ "wait_ms": wait_ms, "status": s }),
            ),
            Ok((_, Ok((s, _)))) => (
                Status::Fail,
                format!("still {s} after waiting {waited} (recovery)"),
                json!({ "wait_ms": wait_ms, "status": s }),
            ),
        }
    }
}
