//! `http`: one request, then status, body text, JSON values, headers and latency are
//! compared with what the item expects. Serves health endpoints and API smoke checks.

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::assert::{Assertions, Subject};
use crate::figures::{Figures, ResponseTime};
use crate::limit::Limit;
use crate::net::NetParams;
use crate::net::http::page::Fetcher;
use crate::net::http::request::RequestSpec;
use crate::net::http::{self, Reach};
use crate::no_answer::Property;
use crate::outcome::{Outcome, Status};
use crate::params::{DurationParam, SizeParam, StatusExpect};
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Parameters of `check: { http: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpProbe {
    /// The URL to request (`http://` or `https://`).
    pub url: String,
    /// HTTP method; `GET` by default.
    #[serde(default = "default_method")]
    pub method: String,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body.
    pub body: Option<String>,
    /// What the response must look like; by default any 2xx status.
    #[serde(default)]
    pub expect: HttpExpect,
    /// Assertions on the answer: `/checks/db/latency_ms < 50`, `header Server absent`,
    /// `status == 200`, `body matches ^ok`, `time < 2s warn 1500ms` (see the README).
    #[serde(default)]
    pub assert: Assertions,
    /// Follow redirects (default true), at most `max_redirects` of them.
    #[serde(default = "default_true")]
    pub follow_redirects: bool,
    #[serde(default = "default_max_redirects")]
    pub max_redirects: usize,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification (never in a production gate).
    #[serde(default)]
    pub insecure: bool,
    /// Ask every address family the host resolves to (IPv4 and IPv6) and fail when their
    /// answers differ (status, outcome, certificate).
    #[serde(default)]
    pub dual_stack: bool,
    /// Read at most this much of the body (default 1MiB).
    #[serde(default = "default_max_body")]
    pub max_body: SizeParam,
    /// Fail unless the response advertises HTTP/3 (`Alt-Svc` offering `h3`). Whether it
    /// does is reported in the evidence (`h3`) either way.
    #[serde(default)]
    pub require_h3: bool,
}

/// The `expect:` block of an `http` item.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    /// Accepted status: a code, a class (`2xx`) or a list; default `2xx`.
    #[serde(default)]
    pub status: StatusExpect,
    /// Text the body must contain.
    pub body_contains: Option<String>,
    /// JSON pointer (`/status`) → the value found there.
    #[serde(default)]
    pub json: BTreeMap<String, Value>,
    /// Header name → text its value must contain.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Upper bound for the whole exchange (headers and body): `2s`, or
    /// `{ fail: 2s, warn: 1500ms }` to report a slow answer as `warn` before it fails.
    pub max_latency: Option<Limit<DurationParam>>,
}

fn default_method() -> String {
    "GET".to_string()
}
fn default_true() -> bool {
    true
}
fn default_max_redirects() -> usize {
    10
}
fn default_max_body() -> SizeParam {
    SizeParam(1024 * 1024)
}

pub use crate::net::http::request::{check_http_url, check_request};

/// What `http` assertions can select.
const SELECTS: &[&str] = &["pointer", "status", "header", "body", "time"];

fn json_equal(found: &Value, expected: &Value) -> bool {
    match (found, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => found == expected,
    }
}

#[async_trait]
impl Probe for HttpProbe {
    fn planned_requests(&self) -> Vec<(String, u32)> {
        crate::politeness::requests_to(&self.url, 1)
    }

    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = check_request(&self.url, &self.method, &self.headers);
        issues.extend(self.assert.check("assert", SELECTS));
        if let Some(why) = self.expect.max_latency.and_then(|l| l.warn_below_fail()) {
            issues.push(ParamIssue::new("expect", format!("`max_latency`: {why}")));
        }
        for pointer in self.expect.json.keys() {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                issues.push(
                    ParamIssue::new("expect", format!("`{pointer}` is not a JSON pointer"))
                        .hint(format!("JSON pointers start with `/`: write `/{pointer}`")),
                );
            }
        }
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        let mut issues = Reach::new(&self.url, &self.ca_file, net).check();
        issues.extend(crate::net::dual_stack::check(
            self.dual_stack,
            url::Url::parse(&self.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .as_deref(),
            net.ip_family,
        ));
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        if self.dual_stack {
            return crate::web::http_dual::run(self, ctx).await;
        }
        let started = std::time::Instant::now();
        let (outcome, page) = self.exchange(ctx, ctx.net.ip_family, false).await;
        let left = ctx.timeout.saturating_sub(started.elapsed());
        let status = page.as_ref().map(|p| p.status);
        let reach = Reach::new(&self.url, &self.ca_file, &ctx.net);
        let mut outcome = http::client_auth::explain(ctx, &reach, outcome, status, left).await;
        if ctx.keep_answer
            && let Some(page) = page
        {
            outcome.answer = Some(Box::new(crate::capture::Answer {
                headers: page.headers,
                body: page.body.bytes,
            }));
        }
        outcome
    }
}

impl HttpProbe {
    /// One request over `family` (`keep_cert`: keep the server's certificate on the page);
    /// the outcome, and the page when an answer came back.
    pub(crate) async fn exchange(
        &self,
        ctx: &ProbeContext,
        family: crate::net::IpFamily,
        keep_cert: bool,
    ) -> (Outcome, Option<crate::net::http::page::Page>) {
        let mut spec = match RequestSpec::parse_text(&self.url, &self.method, &self.headers) {
            Ok(s) => s,
            Err(e) => return (Outcome::error(e), None),
        };
        spec.body = self.body.clone();
        let method = spec.method.clone();
        let net = NetParams {
            ip_family: family,
            ..ctx.net.clone()
        };
        let reach = Reach::new(&self.url, &self.ca_file, &net);
        let mut opts = match reach.options(ctx) {
            Ok(o) => o,
            Err(e) => return (Outcome::error(e), None),
        };
        opts.insecure = self.insecure;
        opts.max_redirects = self.follow_redirects.then_some(self.max_redirects);
        opts.tls_info = keep_cert;
        let client = match http::client(&opts) {
            Ok(c) => c,
            Err(e) => return (Outcome::error(e), None),
        };
        let fetcher = Fetcher::with_client(ctx, client).one_shot();
        // An item that expects a limiter's status judges it; any other waits a throttle out.
        let exchange = if self.expect.status.matches(429) {
            fetcher.once(&spec, self.max_body.0).await
        } else {
            fetcher.fetch(&spec, self.max_body.0).await
        };
        let page = match exchange {
            Ok(p) => p,
            Err(e) => {
                let outcome = Outcome::new(e.status(Property::Reachability), e.message.clone())
                    .with_evidence(e.evidence)
                    .with("url", self.url.as_str());
                return (outcome, None);
            }
        };
        let status = page.status;
        let final_url = page.url.clone();
        let asked_host = spec.url.host_str().map(str::to_string);
        let other_host = url::Url::parse(&final_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .filter(|h| Some(h.as_str()) != asked_host.as_deref());
        let body = &page.body;
        let elapsed = page.elapsed;

        let mut problems: Vec<String> = Vec::new();
        if !self.expect.status.matches(status) {
            problems.push(format!(
                "expected status {}, got {status}",
                self.expect.status
            ));
        }
        let text = body.text();
        let encoding = page
            .first("content-encoding")
            .filter(|e| !e.eq_ignore_ascii_case("identity"));
        if let Some(needle) = &self.expect.body_contains
            && !text.contains(needle.as_str())
        {
            let cut = if body.truncated {
                " (body truncated at max_body)"
            } else {
                ""
            };
            let coded = match &encoding {
                Some(e) => format!(" (body is {e}-encoded; prodcheck does not decompress)"),
                None => String::new(),
            };
            problems.push(format!("body does not contain `{needle}`{cut}{coded}"));
        }
        if let Some(host) = &other_host {
            problems.push(format!("redirected to another host `{host}` ({final_url})"));
        }
        if !self.expect.json.is_empty() {
            match serde_json::from_slice::<Value>(&body.bytes) {
                Err(e) => problems.push(format!("body is not JSON ({e})")),
                Ok(doc) => {
                    for (pointer, expected) in &self.expect.json {
                        match doc.pointer(pointer) {
                            None => problems.push(format!("JSON pointer `{pointer}` not found")),
                            Some(found) if !json_equal(found, expected) => problems
                                .push(format!("`{pointer}` is {found}, expected {expected}")),
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        for (name, want) in &self.expect.headers {
            match page.first(&name.to_ascii_lowercase()) {
                None => problems.push(format!("header `{name}` missing")),
                Some(v) if !v.contains(want.as_str()) => problems.push(format!(
                    "header `{name}` is `{v}`, expected it to contain `{want}`"
                )),
                Some(_) => {}
            }
        }
        let alt_svc = page.all("alt-svc");
        let (h3, h3_evidence) = http::alt_svc::h3(&alt_svc);
        if self.require_h3 && !h3 {
            problems.push(http::alt_svc::missing(&alt_svc));
        }
        let mut warnings: Vec<String> = Vec::new();
        if let Some(limit) = self.expect.max_latency {
            match limit.ceiling("took", elapsed.as_secs_f64()) {
                (Status::Fail, _) => problems.push(format!(
                    "took {} ms, over max_latency {} ms",
                    elapsed.as_millis(),
                    limit.fail.map(|f| f.0.as_millis()).unwrap_or_default()
                )),
                (Status::Warn, Some(words)) => warnings.push(words),
                _ => {}
            }
        }
        let subject = || Subject {
            status: Some(status),
            headers: Some(page.headers.clone()),
            body: Some(text.to_string()),
            doc: Some(
                serde_json::from_slice::<Value>(&body.bytes)
                    .map_err(|e| format!("the body is not JSON ({e})")),
            ),
            time: Some(elapsed),
        };
        let verdicts = if self.assert.is_empty() {
            self.assert.evaluate(&Subject::default())
        } else {
            self.assert.evaluate(&subject())
        };
        match verdicts.status {
            Status::Warn => warnings.extend(verdicts.messages.iter().cloned()),
            Status::Pass => {}
            _ => problems.extend(verdicts.messages.iter().cloned()),
        }

        let mut evidence = serde_json::Map::new();
        evidence.insert("url".into(), json!(self.url));
        if final_url != self.url && final_url != spec.url.as_str() {
            evidence.insert("final_url".into(), json!(final_url));
        }
        evidence.insert("status".into(), json!(status));
        // Reported when there is something to say: an Alt-Svc header, or h3 required.
        if self.require_h3 || !alt_svc.is_empty() {
            evidence.insert("h3".into(), h3_evidence);
        }
        if let Some(addr) = page.remote {
            evidence.insert("address".into(), json!(addr.to_string()));
        }
        if page.throttled_before > 0 {
            evidence.insert("throttled_before".into(), json!(page.throttled_before));
        }
        ResponseTime {
            latency_ms: elapsed.as_millis() as u64,
        }
        .write(&mut evidence);
        evidence.insert("body_bytes".into(), json!(body.bytes.len()));
        if body.truncated {
            evidence.insert("body_truncated".into(), json!(true));
        }
        if let Some(host) = &other_host {
            evidence.insert("redirected_host".into(), json!(host));
        }
        verdicts.write(&mut evidence);
        if !problems.is_empty() {
            let snippet: String = text.chars().take(200).collect();
            evidence.insert("body_start".into(), json!(snippet));
            let message = format!("{method} {}: {}", self.url, problems.join("; "));
            // An assertion that could not be evaluated errs, unless something else failed.
            let status =
                if verdicts.status == Status::Error && problems.len() == verdicts.messages.len() {
                    Status::Error
                } else {
                    Status::Fail
                };
            return (
                Outcome::new(status, message).with_evidence(evidence),
                Some(page),
            );
        }
        let truncated = if body.truncated {
            " (body read up to max_body only)"
        } else {
            ""
        };
        if !warnings.is_empty() {
            let message = format!(
                "{method} {} answered {status}, degraded: {}{truncated}",
                self.url,
                warnings.join("; ")
            );
            return (Outcome::warn(message).with_evidence(evidence), Some(page));
        }
        let outcome = Outcome::pass(format!(
            "{method} {} answered {status} in {} ms{truncated}",
            self.url,
            elapsed.as_millis()
        ))
        .with_evidence(evidence);
        (outcome, Some(page))
    }
}
