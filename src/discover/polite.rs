//! Every request discovery sends goes through one [`Pacer`]: a stated bound per host, one
//! request at a time at a pace under the common `limit_req` set-ups, a timeout and a body cap
//! each, and a host that throttles (429, or 503 with a retry hint, or 503 twice) is left alone.
//!
//! The HTTP client and fetch path are the probes' own (`checks::web`), so discovery sees a
//! service exactly as the checklist items later will.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checks::net::http::page::{Fetcher, Page};
use checks::net::http::request::RequestSpec;
use checks::politeness::Politeness;
use checks::probe::{Probe, ProbeContext};

/// Requests per second to one host: under nginx `limit_req rate=5r/s` even without a burst.
pub const PACE_PER_SECOND: f64 = 4.0;
/// Requests discovery sends to the web service at most.
pub const WEB_BOUND: usize = 40;
/// Requests discovery sends to Prometheus at most.
pub const PROMETHEUS_BOUND: usize = 12;
/// Requests to another host the service's pages name (a CDN serving the static asset).
pub const OTHER_BOUND: usize = 2;
/// Each request's timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// All of discovery's HTTP requests end within this, however slow the hosts are.
pub const TOTAL_BUDGET: Duration = Duration::from_secs(90);

/// Why a request was not sent or got no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The host's bound is used up.
    Budget(String),
    /// The host throttled earlier: discovery stopped asking it.
    Stopped(String),
    /// Sent, but no answer (refused, timed out, TLS).
    NoAnswer(String),
}

impl Refusal {
    pub fn reason(&self) -> &str {
        match self {
            Refusal::Budget(s) | Refusal::Stopped(s) | Refusal::NoAnswer(s) => s,
        }
    }
}

#[derive(Debug, Default)]
struct HostState {
    sent: usize,
    bound: Option<usize>,
    stopped: Option<String>,
    bare_503: u32,
}

/// Requests sent to one `host:port`, for the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub authority: String,
    pub count: usize,
    pub bound: usize,
}

/// The one path of discovery's requests.
pub struct Pacer {
    politeness: Arc<Politeness>,
    options: checks::net::http::ClientOptions,
    ca_file: Option<PathBuf>,
    hosts: Mutex<BTreeMap<String, HostState>>,
    deadline: tokio::time::Instant,
}

fn authority(url: &url::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Pacer {
    pub fn new(ca_file: Option<PathBuf>) -> Result<Pacer, String> {
        let mut opts = checks::net::http::ClientOptions::new(
            REQUEST_TIMEOUT,
            &format!("prodcheck-discover/{}", env!("CARGO_PKG_VERSION")),
        );
        opts.ca_file = ca_file.clone();
        // Built once here so that a bad `ca_file` is said before anything is sent.
        checks::net::http::client(&opts)?;
        Ok(Pacer {
            politeness: Arc::new(Politeness::with_pace(1, PACE_PER_SECOND, 1.0)),
            options: opts,
            ca_file,
            hosts: Mutex::new(BTreeMap::new()),
            deadline: tokio::time::Instant::now() + TOTAL_BUDGET,
        })
    }

    /// Sets the bound of the host of `url`.
    pub fn bound(&self, url: &str, bound: usize) {
        if let Ok(u) = url::Url::parse(url) {
            self.with(&authority(&u), |h| h.bound = Some(bound));
        }
    }

    fn with<T>(&self, key: &str, f: impl FnOnce(&mut HostState) -> T) -> T {
        let mut map = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        f(map.entry(key.to_string()).or_default())
    }

    /// Counts one request to `url`'s host if its bound and state allow it.
    fn admit(&self, url: &url::Url) -> Result<String, Refusal> {
        let key = authority(url);
        if self.left() < Duration::from_millis(500) {
            return Err(Refusal::Budget(format!(
                "discovery's time budget of {} s is used up",
                TOTAL_BUDGET.as_secs()
            )));
        }
        self.with(&key, |h| {
            if let Some(why) = &h.stopped {
                return Err(Refusal::Stopped(why.clone()));
            }
            let bound = h.bound.unwrap_or(OTHER_BOUND);
            if h.sent >= bound {
                return Err(Refusal::Budget(format!(
                    "the bound of {bound} requests to {key} is used up"
                )));
            }
            h.sent += 1;
            Ok(key.clone())
        })
    }

    /// This request's timeout: the usual one, or what is left of the budget.
    fn left(&self) -> Duration {
        self.deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .min(REQUEST_TIMEOUT)
    }

    /// Whether requests to `url`'s host may still be sent.
    pub fn open(&self, url: &str) -> bool {
        url::Url::parse(url).is_ok_and(|u| {
            let key = authority(&u);
            self.with(&key, |h| {
                h.stopped.is_none() && h.sent < h.bound.unwrap_or(OTHER_BOUND)
            })
        })
    }

    /// Why the host of `url` is no longer asked (`None`: it still is).
    pub fn stopped(&self, url: &str) -> Option<String> {
        let u = url::Url::parse(url).ok()?;
        self.with(&authority(&u), |h| h.stopped.clone())
    }

    /// One GET (no redirect followed, no retry), its body read up to `cap` bytes.
    pub async fn get(
        &self,
        url: &str,
        headers: &[(&'static str, &str)],
        cap: u64,
    ) -> Result<Page, Refusal> {
        let mut spec = RequestSpec::get(url).map_err(Refusal::NoAnswer)?;
        let key = self.admit(&spec.url)?;
        for (name, value) in headers {
            spec = spec.header(name, value);
        }
        let ctx = ProbeContext::with_politeness(self.left(), self.politeness.clone());
        let client = checks::net::http::client(&self.options).map_err(Refusal::NoAnswer)?;
        let fetcher = Fetcher::with_client(&ctx, client).paced();
        let page = fetcher
            .once(&spec, cap)
            .await
            .map_err(|e| Refusal::NoAnswer(e.message))?;
        self.judge(&key, &page);
        Ok(page)
    }

    /// Stops asking a host that throttles: any 429, a 503 with a retry hint, two bare 503s.
    fn judge(&self, key: &str, page: &Page) {
        let throttle = page.throttle();
        self.with(key, |h| {
            if let Some(t) = throttle {
                h.stopped = Some(format!(
                    "{key} throttled discovery ({}); it stopped asking that host",
                    t.describe()
                ));
            } else if page.status == 503 {
                h.bare_503 += 1;
                if h.bare_503 >= 2 {
                    h.stopped = Some(format!(
                        "{key} answered 503 twice in a row (a limiter or an outage); discovery stopped asking it"
                    ));
                }
            } else {
                h.bare_503 = 0;
            }
        });
    }

    /// A WebSocket upgrade of `url` through the `websocket` probe: `Ok(true)` when it switched.
    pub async fn upgrades(&self, url: &str) -> Result<(bool, String), Refusal> {
        let parsed = url::Url::parse(url).map_err(|e| Refusal::NoAnswer(e.to_string()))?;
        let key = self.admit(&parsed)?;
        let probe: checks::service::websocket::WebSocketProbe =
            serde_json::from_value(serde_json::json!({ "url": url, "ca_file": self.ca_file }))
                .map_err(|e| Refusal::NoAnswer(e.to_string()))?;
        let budget = self.left();
        let deadline = tokio::time::Instant::now() + budget;
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        // A paced turn (its token of the pace), let go at once: the probe takes one of the
        // host's slots for its connection itself, and would wait on this one forever.
        drop(
            self.politeness
                .slot(&host, true, deadline)
                .await
                .map_err(|e| Refusal::NoAnswer(format!("no turn to {key}: {e:?}")))?,
        );
        let ctx = ProbeContext::with_politeness(budget, self.politeness.clone());
        let outcome = probe.run(&ctx).await;
        let status = outcome.evidence.get("http_status").and_then(|s| s.as_u64());
        if status == Some(429) {
            self.with(&key, |h| {
                h.stopped = Some(format!(
                    "{key} throttled discovery (429 on a WebSocket upgrade); it stopped asking that host"
                ));
            });
        }
        Ok((
            outcome.status == checks::outcome::Status::Pass,
            outcome.message,
        ))
    }

    /// Requests sent per host, in name order.
    pub fn sent(&self) -> Vec<Sent> {
        let map = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .filter(|(_, h)| h.sent > 0)
            .map(|(k, h)| Sent {
                authority: k.clone(),
                count: h.sent,
                bound: h.bound.unwrap_or(OTHER_BOUND),
            })
            .collect()
    }
}
