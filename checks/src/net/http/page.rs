//! The one fetch path of the HTTP-based probes: politeness (per-host slots, pace, Retry-After),
//! throttled answers waited out and retried, and "no answer" classified once, by `no_answer`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Method};
use serde_json::json;
use tokio::time::Instant;

use crate::net::http::request::RequestSpec;
use crate::net::http::throttle::{self, Throttle};
use crate::net::http::{self, CappedBody};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Evidence, Outcome, Status};
use crate::politeness::{NoSlot, Politeness};
use crate::probe::ProbeContext;

/// Requests of one fetch at most (the first and the retries after throttled answers).
pub const MAX_TRIES: u32 = 4;

/// A response as observed.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: String,
    pub status: u16,
    /// (lowercased name, value) in the order received.
    pub headers: Vec<(String, String)>,
    pub body: CappedBody,
    /// Time from sending the request to the end of the body (waits excluded).
    pub elapsed: Duration,
    /// Throttled answers waited out before this one.
    pub throttled_before: u32,
    /// The address that answered (`None` through a proxy, which picked it).
    pub remote: Option<std::net::SocketAddr>,
    /// The server's certificate (DER), when the client keeps it (`ClientOptions::tls_info`).
    pub peer_certificate: Option<Vec<u8>>,
}

impl Page {
    pub fn https(&self) -> bool {
        self.url.starts_with("https://")
    }

    pub fn first(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The throttle this answer signals, if it is a limiter's answer.
    pub fn throttle(&self) -> Option<Throttle> {
        throttle::detect(self.status, &self.headers)
    }
}

/// Why a fetch produced no page to judge, classified once for the fail/error rule.
#[derive(Debug, Clone)]
pub struct NoPage {
    pub why: NoAnswer,
    /// `GET https://x/: connection failed: Connection refused (os error 111)`.
    pub message: String,
    pub evidence: Evidence,
}

impl NoPage {
    fn new(why: NoAnswer, message: String) -> Self {
        let mut evidence = Evidence::new();
        evidence.insert("no_answer".into(), json!(why.as_str()));
        NoPage {
            why,
            message,
            evidence,
        }
    }

    /// The status under the rule in `no_answer.rs`.
    pub fn status(&self, property: Property) -> Status {
        self.why.status(property)
    }

    /// The item's outcome: `{context}: {message}` with the evidence (`no_answer`, throttle).
    pub fn outcome(&self, property: Property, context: &str) -> Outcome {
        Outcome::new(
            self.status(property),
            format!("{context}: {}", self.message),
        )
        .with_evidence(self.evidence.clone())
    }
}

/// The class of a transport error. Only its causes are classified: the outer error's text
/// names the URL, and a path such as `/timeout` must not decide the class.
///
/// `via_proxy`: the request went through a proxy, so a failure to connect is the proxy's
/// (`NoAnswer::Proxy`, always `error`), never the target's refusal or silence.
pub fn classify(err: &reqwest::Error, via_proxy: bool) -> NoAnswer {
    if via_proxy && err.is_connect() {
        return NoAnswer::Proxy;
    }
    if err.is_redirect() {
        return NoAnswer::RedirectLoop;
    }
    if err.is_timeout() {
        return NoAnswer::Timeout;
    }
    match std::error::Error::source(err) {
        Some(cause) => NoAnswer::classify(cause),
        None => NoAnswer::Other,
    }
}

/// Sends requests for one probe attempt under the run's politeness and the item's budget.
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub client: Client,
    politeness: Arc<Politeness>,
    /// The item's network parameters with the proxy setting in force: a connection that
    /// fails to a proxy is the proxy's failure.
    net: crate::net::NetParams,
    /// The item's own `headers`, sent with every request unless the probe sets the same one.
    extra: reqwest::header::HeaderMap,
    /// The item's network budget, from `started`; time queued on the run's own limits
    /// (`queue`) moves the deadline, up to the run's queue limit.
    started: Instant,
    budget: Duration,
    queue: Arc<crate::politeness::QueueClock>,
    paced: bool,
    /// One request and done: ask the server to close the connection after it (no idle
    /// connection held per host), as blackbox_exporter does.
    one_shot: bool,
}

impl Fetcher {
    /// A fetcher with the web probes' client: the item's `reach` (`ca_file` trusted, its
    /// family and addresses), redirects only when asked.
    pub fn new(
        ctx: &ProbeContext,
        reach: &http::Reach<'_>,
        max_redirects: Option<usize>,
    ) -> Result<Fetcher, String> {
        let mut opts = reach.options(ctx)?;
        opts.max_redirects = max_redirects;
        Ok(Self::with_client(ctx, http::client(&opts)?))
    }

    /// A fetcher around an existing client (an `http` item's own options).
    pub fn with_client(ctx: &ProbeContext, client: Client) -> Fetcher {
        Fetcher {
            client,
            politeness: ctx.politeness.clone(),
            net: ctx.net.clone(),
            extra: reqwest::header::HeaderMap::new(),
            started: Instant::now(),
            budget: ctx.timeout,
            queue: ctx.queue.clone(),
            // Every request to a host takes a token of its pace: a limiter counts single
            // requests (`http`, `security_headers`) as much as a `cors` item's.
            paced: true,
            one_shot: false,
        }
    }

    /// Sends the item's `headers` (validated by `check_headers`) with every request.
    pub fn with_headers(mut self, headers: &std::collections::BTreeMap<String, String>) -> Self {
        if let Ok(spec) = RequestSpec::parse("http://headers.check/", "GET", headers) {
            self.extra = spec.headers;
        }
        self
    }

    /// Probes that send one request (`http`, `security_headers`) close its connection after
    /// the answer (`Connection: close`, unless the item sets `Connection` itself): in a fleet
    /// of thousands of hosts, each kept connection is memory held for nothing.
    pub fn one_shot(mut self) -> Self {
        self.one_shot = true;
        self
    }

    /// Multi-request probes keep to the host's pace (see `Politeness`).
    pub fn paced(mut self) -> Self {
        self.paced = true;
        self
    }

    /// When the item's network budget runs out: its timeout plus the time it spent queued
    /// behind the run's own limits.
    pub fn deadline(&self) -> Instant {
        self.started + self.budget + self.queue.total()
    }

    /// Runs `fut` until the item's deadline, which moves while the item's requests are queued
    /// on the run's own limits; `None` when the deadline passed first.
    pub async fn within<F: std::future::Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = std::pin::pin!(fut);
        // Bounded: each round returns, or the deadline moved (bounded by the queue limit).
        loop {
            match tokio::time::timeout_at(self.deadline(), &mut fut).await {
                Ok(out) => return Some(out),
                Err(_) if Instant::now() >= self.deadline() => return None,
                Err(_) => {}
            }
        }
    }

    /// The latest a request may still wait for its turn: the run's queue limit past the
    /// budget. Past it the request is given up as prodcheck's doing (`NoAnswer::OwnLimit`).
    fn queue_deadline(&self) -> Instant {
        self.started + self.budget + self.politeness.queue_limit()
    }

    pub fn politeness(&self) -> &Politeness {
        &self.politeness
    }

    /// A GET of `url` with `headers`, read up to `cap` (the web security probes).
    pub async fn get(
        &self,
        url: &str,
        headers: &[(&'static str, &str)],
        cap: u64,
    ) -> Result<Page, NoPage> {
        self.method(Method::GET, url, headers, cap).await
    }

    /// As `get`, with another method.
    pub async fn method(
        &self,
        method: Method,
        url: &str,
        headers: &[(&'static str, &str)],
        cap: u64,
    ) -> Result<Page, NoPage> {
        let mut spec = match RequestSpec::get(url) {
            Ok(s) => s.method(method),
            Err(e) => return Err(NoPage::new(NoAnswer::Other, e)),
        };
        for (name, value) in headers {
            spec = spec.header(name, value);
        }
        self.fetch(&spec, cap).await
    }

    /// Sends `spec`; a throttled answer is waited out (its advertised wait, within the budget)
    /// and asked again, at most `MAX_TRIES` times; still throttled, it is a `Throttled` no-page.
    pub async fn fetch(&self, spec: &RequestSpec, cap: u64) -> Result<Page, NoPage> {
        let mut tries = 0;
        loop {
            tries += 1;
            let mut page = self.once(spec, cap).await?;
            page.throttled_before = tries - 1;
            let Some(t) = page.throttle() else {
                return Ok(page);
            };
            let wait = t.wait(throttle::DEFAULT_WAIT * 2u32.pow(tries - 1));
            self.politeness.throttled(&spec.host(), wait, &t.describe());
            // Waiting out the target's hint is queue time, not network time: back off and
            // finish, within the run's queue limit.
            if tries >= MAX_TRIES || Instant::now() + wait >= self.queue_deadline() {
                return Err(throttled(spec, &t, tries, wait));
            }
        }
    }

    /// One exchange: a politeness slot, the request, the capped body, within the budget.
    /// Throttled answers are recorded (the host is left alone for the wait) and returned.
    pub async fn once(&self, spec: &RequestSpec, cap: u64) -> Result<Page, NoPage> {
        let target = spec.target();
        let host = spec.host();
        let wait = self
            .politeness
            .slot(&host, self.paced, self.queue_deadline());
        let slot = self.queue.waiting_for(wait, Result::is_ok).await;
        let _slot = match slot {
            Ok(s) => s,
            Err(why) => return Err(no_slot(why, &self.politeness, &host, &target)),
        };
        let _on_network = OnNetwork(&self.queue);
        let deadline = self.deadline();
        let started = Instant::now();
        let mut headers = spec.headers.clone();
        for (name, value) in &self.extra {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        if self.one_shot && !headers.contains_key(reqwest::header::CONNECTION) {
            headers.insert(
                reqwest::header::CONNECTION,
                reqwest::header::HeaderValue::from_static("close"),
            );
        }
        let mut req = self
            .client
            .request(spec.method.clone(), spec.url.clone())
            .headers(headers);
        if let Some(body) = &spec.body {
            req = req.body(body.clone());
        }
        // The deadline bounds both steps; each says what it was doing when it ran out.
        let elapsed_ms = || started.elapsed().as_millis();
        let resp = match tokio::time::timeout_at(deadline, req.send()).await {
            Err(_) => {
                let message = format!("{target}: timed out after {} ms", elapsed_ms());
                return Err(NoPage::new(NoAnswer::Timeout, message));
            }
            Ok(Err(e)) => {
                let proxy = self.net.proxy_setting().used_for(spec.url.as_str());
                let why = classify(&e, proxy.is_some());
                let message = match (&why, proxy) {
                    (NoAnswer::Proxy, Some(proxy)) => format!(
                        "{target}: the proxy {proxy} could not be used: {}",
                        http::describe(&e)
                    ),
                    _ => format!("{target}: {}", http::describe(&e)),
                };
                return Err(NoPage::new(why, message));
            }
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        let remote = resp.remote_addr();
        let peer_certificate = resp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|i| i.peer_certificate())
            .map(<[u8]>::to_vec);
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_ascii_lowercase(), http::header_text(v)))
            .collect();
        let body = match tokio::time::timeout_at(deadline, http::read_capped(resp, cap)).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => {
                let why = match NoAnswer::from_message(&e) {
                    NoAnswer::Timeout => NoAnswer::Timeout,
                    _ => NoAnswer::Dropped,
                };
                let message = format!("{target}: status {status}, then {e}");
                return Err(NoPage::new(why, message));
            }
            Err(_) => {
                let message = format!(
                    "{target}: status {status}, then the body timed out after {} ms",
                    elapsed_ms()
                );
                return Err(NoPage::new(NoAnswer::Timeout, message));
            }
        };
        let page = Page {
            url,
            status,
            headers,
            body,
            elapsed: started.elapsed(),
            throttled_before: 0,
            remote,
            peer_certificate,
        };
        if let Some(t) = page.throttle() {
            self.politeness
                .throttled(&host, t.wait(throttle::DEFAULT_WAIT), &t.describe());
        }
        Ok(page)
    }
}

/// Marks a request as on the network until dropped (see `QueueClock`).
struct OnNetwork<'a>(&'a crate::politeness::QueueClock);

impl Drop for OnNetwork<'_> {
    fn drop(&mut self) {
        self.0.done();
    }
}

fn throttled(spec: &RequestSpec, t: &Throttle, tries: u32, wait: Duration) -> NoPage {
    let mut np = NoPage::new(
        NoAnswer::Throttled,
        format!(
            "{}: throttled by the target ({}) on {tries} attempt(s); the item's timeout does not leave room to wait again",
            spec.target(),
            t.describe()
        ),
    );
    np.evidence
        .insert("throttled_status".into(), json!(t.status));
    np.evidence.insert("attempts".into(), json!(tries));
    np.evidence
        .insert("wait_ms".into(), json!(wait.as_millis() as u64));
    if let Some((d, header)) = t.advertised {
        np.evidence.insert(
            "retry_hint".into(),
            json!({ "header": header, "seconds": d.as_secs_f64() }),
        );
    }
    np
}

fn no_slot(why: NoSlot, p: &Politeness, host: &str, target: &str) -> NoPage {
    let (class, message) = match why {
        NoSlot::Blocked(wait) => (
            NoAnswer::Throttled,
            format!(
                "{target}: throttled by the target ({}); it asked to wait {} s more, longer than the item's timeout leaves",
                p.last_throttle(host).unwrap_or_else(|| "429".into()),
                wait.as_secs_f64().ceil()
            ),
        ),
        NoSlot::Paced {
            throttled_before: true,
        } => (
            NoAnswer::Throttled,
            format!(
                "{target}: throttled by the target earlier in the run ({}); the slowed pace to {host} leaves no turn within the item's timeout",
                p.last_throttle(host).unwrap_or_else(|| "429".into())
            ),
        ),
        // prodcheck's own limits: nothing was asked of the target, so never its failure.
        NoSlot::Paced {
            throttled_before: false,
        } => (
            NoAnswer::OwnLimit,
            format!(
                "{target}: not sent: prodcheck's own pacing to {host} ({} requests/s, `--pace`) gave no turn within the run's queue limit ({} s); lower the number of items on this host or raise `--pace`",
                p.pace().0,
                p.queue_limit().as_secs()
            ),
        ),
        NoSlot::Busy => (
            NoAnswer::OwnLimit,
            format!(
                "{target}: not sent: prodcheck's own per-host limit (`--per-host {}`) gave no turn to {host} within the run's queue limit ({} s); the slots were held by slower requests to the same host",
                p.per_host(),
                p.queue_limit().as_secs()
            ),
        ),
    };
    let mut np = NoPage::new(class, message);
    if let Some(wait) = p.largest_retry_after(host) {
        np.evidence
            .insert("largest_retry_after_s".into(), json!(wait.as_secs()));
    }
    np
}

/// The web probes' client (kept for callers that only need a client).
pub fn client(
    timeout: Duration,
    user_agent: &str,
    ca_file: &Option<PathBuf>,
    max_redirects: Option<usize>,
) -> Result<Client, String> {
    let mut opts = http::ClientOptions::new(timeout, user_agent);
    opts.ca_file = ca_file.clone();
    opts.max_redirects = max_redirects;
    http::client(&opts)
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
