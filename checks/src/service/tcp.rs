//! `tcp`: a port accepts connections within the timeout, optionally completing a verified
//! TLS handshake. Serves "database / cache / load balancer reachable" items.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::service::dial::{dial, unanswered, within};
use crate::tls::roots;

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
    #[serde(default)]
    pub server_name: Option<String>,
    /// PEM bundle added to the trusted roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

#[async_trait]
impl Probe for TcpProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        if self.host.trim().is_empty() {
            issues.push(ParamIssue::new("host", "`host` is empty"));
        }
        if self.port == 0 {
            issues.push(ParamIssue::new("port", "port 0 cannot be connected to"));
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let target = format!("{}:{}", self.host, self.port);
        let started = Instant::now();
        let (stream, addr) = match dial(&self.host, self.port, ctx.timeout).await {
            Ok(c) => c,
            Err(no) => return no.outcome(Property::Reachability).with("target", target),
        };
        let connect_ms = started.elapsed().as_millis() as u64;
        if !self.tls {
            return Outcome::pass(format!("{target} accepted a connection in {connect_ms} ms"))
                .with("address", addr.to_string())
                .with("connect_ms", connect_ms);
        }

        let roots = match roots::root_store(self.ca_file.as_deref()) {
            Ok(r) => r,
            Err(e) => return Outcome::error(e),
        };
        let config = ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name_text = self
            .server_name
            .clone()
            .unwrap_or_else(|| self.host.clone());
        let name = match ServerName::try_from(name_text.clone()) {
            Ok(n) => n,
            Err(e) => return Outcome::error(format!("invalid server name `{name_text}`: {e}")),
        };
        let left = ctx.timeout.saturating_sub(started.elapsed());
        match timeout(
            left,
            TlsConnector::from(Arc::new(config)).connect(name, stream),
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
            )
            .with("address", addr.to_string()),
            Ok(Err(e)) => {
                let why = NoAnswer::from_io(&e);
                let what = match why {
                    NoAnswer::Dropped => "closed the connection during the TLS handshake",
                    NoAnswer::Refused => "reset the connection during the TLS handshake",
                    _ => "rejected the TLS handshake",
                };
                unanswered(&why, Property::Reachability, format!("{addr} {what}: {e}"))
                    .with("address", addr.to_string())
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
                .with("address", addr.to_string())
                .with("connect_ms", connect_ms)
                .with("tls_version", version)
                .with("cipher", cipher)
            }
        }
    }
}
