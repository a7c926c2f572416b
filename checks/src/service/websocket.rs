//! `websocket`: the upgrade handshake succeeds (`ws://`, or `wss://` verified with rustls),
//! then optionally one message goes out and a reply containing `expect` comes back in time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{Connector, client_async_tls_with_config};

use crate::compare::redact_url;
use crate::limit::Limit;
use crate::net::dial::{in_words, unanswered};
use crate::net::identity;
use crate::net::roots;
use crate::net::tls_client;
use crate::net::{self, NetParams};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::outcome::Status;
use crate::params::DurationParam;
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Frames and messages larger than this end the probe instead of filling memory.
const MAX_MESSAGE: usize = 1024 * 1024;
/// Control frames and unrelated messages skipped while waiting for the reply.
const MAX_MESSAGES_READ: usize = 64;

/// Parameters of `check: { websocket: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebSocketProbe {
    /// `ws://host/path` or `wss://host/path`.
    pub url: String,
    /// PEM bundle added to the trusted roots (for `wss://`).
    pub ca_file: Option<PathBuf>,
    /// Extra headers on the upgrade request (e.g. `Authorization: "Bearer ${env:WS_TOKEN}"`).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// A text message sent once connected.
    pub send: Option<String>,
    /// Text a reply must contain (the first message the server sends when there is no `send`).
    pub expect: Option<String>,
    /// Send a token made up for this run (`prodcheck-echo-…`) and require a reply containing
    /// it: an echo, not any message that happens to contain a word (a Socket.IO or ActionCable
    /// heartbeat says `ping` on its own). Instead of `send` and `expect`.
    #[serde(default)]
    pub echo: bool,
    /// Upper bound for the round trip (`send` to reply), or for the handshake without `send`;
    /// `{ fail: 500ms, warn: 300ms }` reports a slow socket as `warn` before it fails.
    pub max_latency: Option<Limit<DurationParam>>,
}

/// A token no server sends unprompted: the time in nanoseconds, the process and a counter.
fn echo_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("prodcheck-echo-{nanos:x}-{:x}-{n}", std::process::id())
}

fn describe(err: &WsError) -> String {
    match err {
        WsError::Http(resp) => format!(
            "the server answered HTTP {} instead of switching protocols",
            resp.status()
        ),
        WsError::Io(e) => format!("connection failed: {e}"),
        WsError::Tls(e) => format!("TLS failed: {e}"),
        other => other.to_string(),
    }
}

/// Whether an upgrade answer is a throttle, by the web probes' one rule (`web::throttle`):
/// any 429, or a 503 with a retry hint (`Retry-After`, `RateLimit`, `RateLimit-Reset`, ...).
fn throttled(
    resp: &tokio_tungstenite::tungstenite::handshake::client::Response,
) -> Option<crate::net::http::throttle::Throttle> {
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_ascii_lowercase(), value)
        })
        .collect();
    crate::net::http::throttle::detect(resp.status().as_u16(), &headers)
}

impl WebSocketProbe {
    fn no_answer(&self, shown: &str, why: NoAnswer, ctx: &ProbeContext, detail: &str) -> Outcome {
        let (host, port) = crate::net::dial::url_endpoint(&self.url, 80);
        let words = in_words(&why, &host, port, ctx.timeout, detail);
        unanswered(&why, Property::Reachability, format!("{shown}: {words}"))
    }

    /// A failed upgrade: a throttled answer is `error`, any other HTTP answer a `fail`, and no
    /// answer at all goes by the rule.
    fn handshake_failed(&self, shown: &str, err: &WsError, ctx: &ProbeContext) -> Outcome {
        match err {
            WsError::Http(resp) => match throttled(resp) {
                Some(t) => {
                    let detail = format!(
                        "the upgrade was answered HTTP {}; the WebSocket could not be checked",
                        t.describe()
                    );
                    self.no_answer(shown, NoAnswer::Throttled, ctx, &detail)
                        .with("http_status", resp.status().as_u16())
                }
                None => Outcome::fail(format!("{shown}: handshake failed: {}", describe(err)))
                    .with("http_status", resp.status().as_u16()),
            },
            WsError::Protocol(_) | WsError::HttpFormat(_) => Outcome::fail(format!(
                "{shown}: the server answered something that is not a WebSocket upgrade: {}",
                describe(err)
            )),
            WsError::Io(e) => self.no_answer(shown, NoAnswer::from_io(e), ctx, &e.to_string()),
            WsError::Tls(e) => self.no_answer(shown, NoAnswer::TlsRejected, ctx, &e.to_string()),
            other => {
                let why = NoAnswer::classify(other);
                self.no_answer(shown, why, ctx, &describe(other))
            }
        }
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

#[async_trait]
impl Probe for WebSocketProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = crate::net::http::request::check_headers(&self.headers);
        match url::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "ws" | "wss") && u.host().is_some() => {}
            _ => issues.push(
                ParamIssue::new(
                    "url",
                    format!("`{}` is not a ws:// or wss:// URL", redact_url(&self.url)),
                )
                .hint("write a full URL such as `wss://example.com/socket`"),
            ),
        }
        if self.echo && (self.send.is_some() || self.expect.is_some()) {
            issues.push(
                ParamIssue::new(
                    "echo",
                    "`echo` makes up its own message and reply; it replaces `send` and `expect`",
                )
                .hint("drop `send` and `expect`, or drop `echo`"),
            );
        }
        if self.send.as_ref().is_some_and(|s| s.len() > MAX_MESSAGE) {
            issues.push(ParamIssue::new("send", "`send` is over 1 MiB"));
        }
        if let Some(why) = self.max_latency.and_then(|l| l.warn_below_fail()) {
            issues.push(ParamIssue::new("max_latency", why));
        }
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        let host = url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        let mut issues = net.check(host.as_deref());
        if net.client_cert.is_some() && self.url.starts_with("ws:") {
            issues.push(
                ParamIssue::new("client_cert", "`client_cert` only applies to `wss://` URLs")
                    .hint("use `wss://` for TLS, or drop `client_cert`"),
            );
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let shown = redact_url(&self.url);
        // The connection holds one of the host's per-host slots while the item runs.
        let host = url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let _slot = match ctx.connection_slot(&host).await {
            Ok(s) => s,
            Err(outcome) => return outcome.with("url", shown.as_str()),
        };
        let started = Instant::now();
        let left = || ctx.timeout.saturating_sub(started.elapsed());
        let tls = url::Url::parse(&self.url).is_ok_and(|u| u.scheme() == "wss");
        let identity = match identity::load(&ctx.net.client_cert, &ctx.net.client_key) {
            Ok(i) => i,
            Err(e) => return Outcome::error(e),
        };
        let client = if tls {
            match roots::root_store(self.ca_file.as_deref()).and_then(|roots| {
                tls_client::client_config(roots, true, identity.as_ref(), &[b"http/1.1"])
            }) {
                Ok(c) => Some(c),
                Err(e) => return Outcome::error(e),
            }
        } else {
            None
        };
        let connector = match &client {
            Some(c) => Connector::Rustls(c.config.clone()),
            None => Connector::Plain,
        };
        let limits = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let mut request = match self.url.as_str().into_client_request() {
            Ok(r) => r,
            Err(e) => return Outcome::error(format!("{shown}: {}", describe(&e))),
        };
        for (name, value) in &self.headers {
            // Validated by `check_params`; a value that no longer parses is left out.
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                request.headers_mut().insert(n, v);
            }
        }
        let (host, port) = match url::Url::parse(&self.url) {
            Ok(u) => (
                u.host_str().unwrap_or_default().to_string(),
                u.port_or_known_default().unwrap_or(80),
            ),
            Err(e) => return Outcome::error(format!("{shown}: invalid URL: {e}")),
        };
        // wss:// goes through the HTTPS proxy, ws:// through the HTTP one (curl's rule).
        let scheme = if tls { "https" } else { "http" };
        let (stream, route) = match net::dial(&host, port, scheme, &ctx.net, left()).await {
            Ok(c) => c,
            Err(no) => {
                return no
                    .outcome(Property::Reachability)
                    .with("url", shown.as_str());
            }
        };
        let handshake =
            client_async_tls_with_config(request, stream, Some(limits), Some(connector));
        let mut ws = match tokio::time::timeout(left(), handshake).await {
            Err(_) => {
                return self
                    .no_answer(&shown, NoAnswer::Timeout, ctx, "no upgrade answer")
                    .with("url", shown.as_str());
            }
            Ok(Err(e)) => {
                let mut failed = self.handshake_failed(&shown, &e, ctx);
                failed.message.push_str(&tls_client::client_auth_hint(
                    client.as_ref(),
                    identity.as_ref(),
                ));
                return route.evidence(failed.with("url", shown.as_str()));
            }
            Ok(Ok((ws, _response))) => ws,
        };
        let handshake_time = started.elapsed();
        let mut outcome = route.evidence(
            Outcome::pass("")
                .with("url", shown.as_str())
                .with("handshake_ms", ms(handshake_time)),
        );
        if let Some(req) = client.as_ref().and_then(|c| c.auth.asked()) {
            outcome = outcome.with("client_auth", req.evidence(identity.as_ref()));
        }

        let mut latency = handshake_time;
        let mut what = "handshake";
        let token = self.echo.then(echo_token);
        let send = token.as_ref().or(self.send.as_ref());
        let expect = token.as_ref().or(self.expect.as_ref());
        if send.is_some() || expect.is_some() {
            let sent_at = Instant::now();
            if let Some(text) = send {
                let send = ws.send(Message::text(text.clone()));
                match tokio::time::timeout(left(), send).await {
                    Err(_) => return outcome_fail(outcome, format!("{shown}: sending timed out")),
                    Ok(Err(e)) => {
                        return outcome_fail(
                            outcome,
                            format!("{shown}: sending failed: {}", describe(&e)),
                        );
                    }
                    Ok(Ok(())) => {}
                }
            }
            let mut reply: Option<String> = None;
            let mut last = String::new();
            for _ in 0..MAX_MESSAGES_READ {
                let next = match tokio::time::timeout(left(), ws.next()).await {
                    Err(_) => break,
                    Ok(None) => {
                        last = "the server closed the connection".into();
                        break;
                    }
                    Ok(Some(Err(e))) => {
                        last = describe(&e);
                        break;
                    }
                    Ok(Some(Ok(m))) => m,
                };
                let text = match next {
                    Message::Text(t) => t.to_string(),
                    Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                    Message::Close(_) => {
                        last = "the server closed the connection".into();
                        break;
                    }
                    _ => continue,
                };
                let matched = expect.is_none_or(|e| text.contains(e.as_str()));
                last = text.chars().take(200).collect();
                if matched {
                    reply = Some(text);
                    break;
                }
            }
            latency = sent_at.elapsed();
            what = "round trip";
            let Some(reply) = reply else {
                let wanted = match expect {
                    Some(e) if self.echo => {
                        format!("the token it sent back (`{e}`): the endpoint does not echo")
                    }
                    Some(e) => format!("a reply containing `{e}`"),
                    None => "a reply".to_string(),
                };
                let found = if last.is_empty() {
                    outcome = outcome.with("no_answer", NoAnswer::Timeout.as_str());
                    format!("nothing within {} ms", ms(ctx.timeout))
                } else {
                    format!("`{last}`")
                };
                return outcome_fail(
                    outcome.with("last_message", last.as_str()),
                    format!("{shown}: expected {wanted}, got {found}"),
                );
            };
            outcome = outcome
                .with("round_trip_ms", ms(latency))
                .with("reply", reply.chars().take(200).collect::<String>());
        }
        // A polite close; the server's answer is not waited for long.
        let _ = tokio::time::timeout(Duration::from_millis(200).min(left()), ws.close(None)).await;

        let echo = if what == "round trip" {
            format!(", reply in {} ms", ms(latency))
        } else {
            String::new()
        };
        if let Some(limit) = self.max_latency {
            match limit.ceiling(&format!("{what} took"), latency.as_secs_f64()) {
                (Status::Fail, _) => {
                    return outcome_fail(
                        outcome,
                        format!(
                            "{shown}: {what} took {} ms, expected at most {} ms",
                            ms(latency),
                            limit.fail.map(|f| ms(f.get())).unwrap_or_default()
                        ),
                    );
                }
                (Status::Warn, Some(words)) => {
                    outcome.status = Status::Warn;
                    outcome.message = format!(
                        "{shown}: handshake in {} ms{echo}, degraded: {words}",
                        ms(handshake_time)
                    );
                    return outcome;
                }
                _ => {}
            }
        }
        outcome.message = format!("{shown}: handshake in {} ms{echo}", ms(handshake_time));
        outcome
    }
}

fn outcome_fail(mut outcome: Outcome, message: String) -> Outcome {
    outcome.status = crate::outcome::Status::Fail;
    outcome.message = message;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ws_urls_are_accepted() {
        let probe = |url: &str| WebSocketProbe {
            url: url.into(),
            ca_file: None,
            headers: Default::default(),
            send: None,
            expect: None,
            echo: false,
            max_latency: None,
        };
        assert!(probe("wss://example.com/socket").check_params().is_empty());
        assert!(probe("ws://127.0.0.1:9000").check_params().is_empty());
        let issues = probe("https://u:pw@example.com").check_params();
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("u:***@"));
    }
}
