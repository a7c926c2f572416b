//! `grpc`: the standard health-checking protocol (`grpc.health.v1.Health/Check`) for one
//! service over HTTP/2 (h2c or TLS with ALPN `h2`), the status read from the trailers.

use std::path::PathBuf;
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::time::timeout;

use crate::net::dial::within;
use crate::net::{self, NetParams, NetStream, identity, roots, tls_client};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::service::grpc_wire;

/// A HealthCheckResponse is a few bytes; anything past this is not one.
const MAX_ANSWER: usize = 64 * 1024;

/// Parameters of `check: { grpc: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrpcProbe {
    /// `http://host:port` (HTTP/2 without TLS, h2c) or `https://host:port` (TLS, ALPN h2).
    pub url: String,
    /// The service name to ask about (`package.Service`); empty (default) asks about the
    /// server as a whole.
    #[serde(default)]
    pub service: String,
    /// PEM bundle added to the system roots (internal CAs).
    pub ca_file: Option<PathBuf>,
}

struct Target {
    tls: bool,
    host: String,
    port: u16,
    authority: String,
}

impl GrpcProbe {
    fn target(&self) -> Result<Target, String> {
        let url =
            url::Url::parse(&self.url).map_err(|e| format!("`{}` is not a URL ({e})", self.url))?;
        let tls = match url.scheme() {
            "https" | "grpcs" => true,
            "http" | "grpc" => false,
            other => {
                return Err(format!(
                    "`{}` has scheme `{other}`: use http:// (h2c) or https://",
                    self.url
                ));
            }
        };
        let host = url
            .host_str()
            .ok_or_else(|| format!("`{}` names no host", self.url))?
            .to_string();
        let port = url.port().unwrap_or(if tls { 443 } else { 80 });
        Ok(Target {
            tls,
            authority: format!("{host}:{port}"),
            host,
            port,
        })
    }
}

#[async_trait]
impl Probe for GrpcProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        match self.target() {
            Ok(_) => Vec::new(),
            Err(e) => vec![ParamIssue::new("url", e)],
        }
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        let host = self.target().ok().map(|t| t.host);
        net.check(host.as_deref())
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let target = match self.target() {
            Ok(t) => t,
            Err(e) => return Outcome::error(e),
        };
        // The connection holds one of the host's per-host slots while the item runs.
        let _slot = match ctx.connection_slot(&target.host).await {
            Ok(s) => s,
            Err(outcome) => return outcome.with("url", self.url.as_str()),
        };
        let started = Instant::now();
        let shown = if self.service.is_empty() {
            format!("{} (server health)", target.authority)
        } else {
            format!("{} service `{}`", target.authority, self.service)
        };
        let out = match timeout(ctx.timeout, self.check(ctx, &target)).await {
            Ok(o) => o,
            Err(_) => crate::net::dial::unanswered(
                &NoAnswer::Timeout,
                Property::Reachability,
                format!(
                    "gRPC health of {shown}: no answer within {}",
                    within(ctx.timeout)
                ),
            ),
        };
        out.with("url", self.url.as_str())
            .with("service", self.service.as_str())
            .with("duration_ms", started.elapsed().as_millis() as u64)
    }
}

impl GrpcProbe {
    async fn check(&self, ctx: &ProbeContext, t: &Target) -> Outcome {
        let (stream, _route) =
            match net::dial(&t.host, t.port, "https", &ctx.net, ctx.timeout).await {
                Ok(c) => c,
                Err(no) => return no.outcome(Property::Reachability),
            };
        let uri = format!(
            "{}://{}/grpc.health.v1.Health/Check",
            if t.tls { "https" } else { "http" },
            t.authority
        );
        let answer = if t.tls {
            match self.tls(ctx, t, stream).await {
                Ok(s) => ask(s, &uri, &self.service).await,
                Err(o) => return o,
            }
        } else {
            ask(stream, &uri, &self.service).await
        };
        match answer {
            Ok(a) => self.judge(a),
            Err(e) => e,
        }
    }

    async fn tls(
        &self,
        ctx: &ProbeContext,
        t: &Target,
        stream: NetStream,
    ) -> Result<tokio_rustls::client::TlsStream<NetStream>, Outcome> {
        let roots = roots::root_store(self.ca_file.as_deref()).map_err(Outcome::error)?;
        let id =
            identity::load(&ctx.net.client_cert, &ctx.net.client_key).map_err(Outcome::error)?;
        let client = tls_client::client_config(roots, true, id.as_ref(), &[b"h2"])
            .map_err(Outcome::error)?;
        let name = ServerName::try_from(t.host.clone())
            .map_err(|e| Outcome::error(format!("`{}` is not a server name: {e}", t.host)))?;
        let connector = tokio_rustls::TlsConnector::from(client.config.clone());
        match connector.connect(name, stream).await {
            Ok(s) => {
                if s.get_ref().1.alpn_protocol() != Some(b"h2") {
                    return Err(Outcome::fail(format!(
                        "{}: the TLS server did not agree to HTTP/2 (ALPN h2), which gRPC needs",
                        t.authority
                    )));
                }
                Ok(s)
            }
            Err(e) => Err(crate::net::dial::unanswered(
                &NoAnswer::TlsRejected,
                Property::Reachability,
                format!(
                    "{}: TLS handshake failed: {e}{}",
                    t.authority,
                    tls_client::client_auth_hint(Some(&client), id.as_ref())
                ),
            )),
        }
    }

    fn judge(&self, a: Answer) -> Outcome {
        let who = if self.service.is_empty() {
            "the server".to_string()
        } else {
            format!("service `{}`", self.service)
        };
        let with = |o: Outcome| {
            let o = o.with("http_status", a.http_status);
            match a.grpc_status {
                Some(s) => o.with("grpc_status", s),
                None => o,
            }
        };
        if a.http_status != 200 {
            return with(Outcome::fail(format!(
                "gRPC health check answered HTTP {}, not 200: is this a gRPC server?",
                a.http_status
            )));
        }
        match a.grpc_status {
            None => with(Outcome::fail(
                "the answer carries no `grpc-status` (in trailers or headers): not a gRPC server",
            )),
            Some(0) => match grpc_wire::response_status(&a.body) {
                Ok(1) => with(Outcome::pass(format!("{who} is SERVING"))).with("status", "SERVING"),
                Ok(s) => with(Outcome::fail(format!(
                    "{who} reports {} (grpc.health.v1)",
                    grpc_wire::status_name(s)
                )))
                .with("status", grpc_wire::status_name(s)),
                Err(e) => with(Outcome::fail(format!(
                    "the health answer is unreadable: {e}"
                ))),
            },
            Some(5) => with(Outcome::fail(format!(
                "the server does not know {who} (NOT_FOUND): check `service` against what it registers"
            ))),
            Some(12) => with(Outcome::fail(
                "the server does not implement grpc.health.v1.Health (UNIMPLEMENTED): register the standard health service",
            )),
            Some(code) => with(Outcome::fail(format!(
                "gRPC health check failed with status {code}{}",
                a.message.map(|m| format!(": {m}")).unwrap_or_default()
            ))),
        }
    }
}

struct Answer {
    http_status: u16,
    grpc_status: Option<u32>,
    message: Option<String>,
    body: Bytes,
}

/// One unary call over a fresh HTTP/2 connection on `io`.
async fn ask<S>(io: S, uri: &str, service: &str) -> Result<Answer, Outcome>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let dropped = |what: String| {
        crate::net::dial::unanswered(&NoAnswer::Dropped, Property::Reachability, what)
    };
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .map_err(|e| {
                dropped(format!(
                    "HTTP/2 handshake failed: {e} (is it an HTTP/2 server?)"
                ))
            })?;
    let driver = tokio::spawn(conn);
    let req = hyper::Request::post(uri)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header(
            "user-agent",
            concat!("prodcheck/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(grpc_wire::request(service))))
        .map_err(|e| Outcome::error(format!("cannot build the request: {e}")))?;
    let result = async {
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| dropped(format!("the gRPC call failed: {e}")))?;
        let (parts, body) = resp.into_parts();
        let header = |name: &str, map: &http::HeaderMap| {
            map.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let collected = Limited::new(body, MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| dropped(format!("reading the answer failed: {e}")))?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        // Trailers-only answers (errors) carry the status in the headers.
        let status =
            header("grpc-status", &trailers).or_else(|| header("grpc-status", &parts.headers));
        let message =
            header("grpc-message", &trailers).or_else(|| header("grpc-message", &parts.headers));
        Ok(Answer {
            http_status: parts.status.as_u16(),
            grpc_status: status.and_then(|s| s.trim().parse().ok()),
            message,
            body: collected.to_bytes(),
        })
    }
    .await;
    driver.abort();
    result
}
