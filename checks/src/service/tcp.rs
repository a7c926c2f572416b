//! `tcp`: a port accepts connections within the timeout, optionally completing a verified
//! TLS handshake. Serves "database / cache / load balancer reachable" items.

use std::path::PathBuf;
use std::time::Instant;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::net::dial::{endpoint_issues, unanswered, within};
use crate::net::identity;
use crate::net::roots;
use crate::net::tls_client;
use crate::net::tls_client::{client_auth_hint, server_name};
use crate::net::{self, NetParams};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Parameters of `check: { tcp: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpProbe {
    /// Host name or IP address.
    pub host: String,
    pub port: u16,
    /// Complete a TLS handshake after connecting (certificate verified).
    #[serde(default)]
    pub tls: bool,
    /// SNI and certificate name for `tls`; defaults to `host`.
    pub server_name: Option<String>,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
}

#[async_trait]
impl Probe for TcpProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        endpoint_issues(&self.host, self.port)
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        let mut issues = net.check(Some(&self.host));
        if !self.tls && net.client_cert.is_some() {
            issues.push(
                ParamIssue::new("client_cert", "`client_cert` needs `tls: true`")
                    .hint("set `tls: true` for a TLS handshake, or drop them"),
            );
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let target = format!("{}:{}", self.host, self.port);
        // The connection holds one of the host's per-host slots while the item runs.
        let _slot = match ctx.connection_slot(&self.host).await {
            Ok(s) => s,
            Err(outcome) => return outcome.with("target", target),
        };
        let started = Instant::now();
        let (stream, route) =
            match net::dial(&self.host, self.port, "https", &ctx.net, ctx.timeout).await {
                Ok(c) => c,
                Err(no) => return no.outcome(Property::Reachability).with("target", target),
            };
        let connect_ms = started.elapsed().as_millis() as u64;
        let addr = route.describe();
        if !self.tls {
            let via = route
                .proxy()
                .map(|p| format!(" through {p}"))
                .unwrap_or_default();
            return route.evidence(
                Outcome::pass(format!(
                    "{target} accepted a connection{via} in {connect_ms} ms"
                ))
                .with("connect_ms", connect_ms),
            );
        }

        let identity = match identity::load(&ctx.net.client_cert, &ctx.net.client_key) {
            Ok(i) => i,
            Err(e) => return Outcome::error(e),
        };
        let client = match roots::root_store(self.ca_file.as_deref())
            .and_then(|roots| tls_client::client_config(roots, true, identity.as_ref(), &[]))
        {
            Ok(c) => c,
            Err(e) => return Outcome::error(e),
        };
        let name = match server_name(self.server_name.as_deref().unwrap_or(&self.host)) {
            Ok(n) => n,
            Err(e) => return Outcome::error(e),
        };
        let left = ctx.timeout.saturating_sub(started.elapsed());
        let outcome = match timeout(
            left,
            TlsConnector::from(client.config.clone()).connect(name, stream),
        )
        .await
        {
            Err(_) => unanswered(
                &NoAnswer::Timeout,
                Property::Reachability,
                format!(
                    "{addr} accepted the connection but did not finish the TLS handshake within {}",
                    within(ctx.timeout)
                ),
            ),
            Ok(Err(e)) => {
                let why = NoAnswer::from_io(&e);
                let what = match why {
                    NoAnswer::Dropped => "closed the connection during the TLS handshake",
                    NoAnswer::Refused => "reset the connection during the TLS handshake",
                    _ => "rejected the TLS handshake",
                };
                let hint = client_auth_hint(Some(&client), identity.as_ref());
                unanswered(
                    &why,
                    Property::Reachability,
                    format!("{addr} {what}: {e}{hint}"),
                )
            }
            Ok(Ok(tls)) => {
                let (_, conn) = tls.get_ref();
                let version = conn
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default();
                let cipher = conn
                    .negotiated_cipher_suite()
                    .map(|c| format!("{:?}", c.suite()))
                    .unwrap_or_default();
                Outcome::pass(format!(
                    "{target} accepted a verified TLS connection ({version}) in {} ms",
                    started.elapsed().as_millis()
                ))
                .with("connect_ms", connect_ms)
                .with("tls_version", version)
                .with("cipher", cipher)
            }
        };
        let outcome = match (client.auth.asked(), &identity) {
            (Some(req), id) => outcome.with("client_auth", req.evidence(id.as_ref())),
            (None, _) => outcome,
        };
        route.evidence(outcome)
    }
}
