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
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::outcome::Outcome;
use crate::probe::{ParamIssue, Probe, ProbeContext};
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
        let addrs = match timeout(ctx.timeout, tokio::net::lookup_host(target.as_str())).await {
            Err(_) => return Outcome::fail(format!("resolving `{}` timed out", self.host)),
            Ok(Err(e)) => return Outcome::fail(format!("cannot resolve `{}`: {e}", self.host)),
            Ok(Ok(a)) => a.collect::<Vec<_>>(),
        };
        let mut last_err = format!("`{}` resolved to no address", self.host);
        let mut stream = None;
        for addr in &addrs {
            let left = ctx.timeout.saturating_sub(started.elapsed());
            match timeout(left, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    stream = Some((s, *addr));
                    break;
                }
                Ok(Err(e)) => last_err = format!("connecting to {addr} failed: {e}"),
                Err(_) => {
                    last_err = format!(
                        "connecting to {addr} timed out after {} ms",
                        left.as_millis()
                    )
                }
            }
        }
        let Some((stream, addr)) = stream else {
            return Outcome::fail(last_err).with("target", target);
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
            Err(_) => Outcome::fail(format!("{target}: TLS handshake timed out")),
            Ok(Err(e)) => Outcome::fail(format!("{target}: TLS handshake failed: {e}"))
                .with("address", addr.to_string()),
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
