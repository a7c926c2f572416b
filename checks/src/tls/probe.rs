//! `tls`: what testssl.sh would say about one endpoint — chain, host name, expiry of the
//! earliest-expiring certificate, protocol, cipher, legacy versions, key and signature strength.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::service::dial::{dial, within};
use crate::tls::chain::{self, RecordingVerifier};
use crate::tls::facts::{CertFacts, date};
use crate::tls::legacy::{self, LegacyAnswer, LegacyVersion};
use crate::tls::params::{KeyBits, TlsVersion};
use crate::tls::roots;

/// Parameters of `check: { tls: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsProbe {
    /// Host name or IP address to connect to.
    pub host: String,
    /// TCP port; 443 by default.
    #[serde(default = "default_port")]
    pub port: u16,
    /// SNI and the name the certificate must match; defaults to `host`.
    #[serde(default)]
    pub server_name: Option<String>,
    /// PEM bundle added to the system roots (internal CAs).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Warn when the earliest-expiring certificate has fewer days left (default 30).
    #[serde(default = "default_warn_days")]
    pub warn_days: i64,
    /// Fail when the earliest-expiring certificate has fewer days left (default 14).
    #[serde(default = "default_fail_days")]
    pub fail_days: i64,
    /// Lowest acceptable negotiated version: `1.2` (default) or `1.3`.
    #[serde(default)]
    pub min_version: TlsVersion,
    /// Accept servers that still speak TLS 1.0 / 1.1 (default false: that fails).
    #[serde(default)]
    pub allow_legacy: bool,
    /// Smallest acceptable key: a number (RSA bits) or `{ rsa: 3072, ec: 384 }`;
    /// RSA 2048 and EC 256 by default.
    #[serde(default)]
    pub min_key_bits: KeyBits,
    /// Fail when the leaf's total lifetime exceeds this many days (Mozilla intermediate: 366).
    #[serde(default)]
    pub max_lifetime_days: Option<i64>,
}

fn default_port() -> u16 {
    443
}
fn default_warn_days() -> i64 {
    30
}
fn default_fail_days() -> i64 {
    14
}

/// What one handshake attempt produced.
struct Handshake {
    addr: SocketAddr,
    chain: Option<Vec<CertificateDer<'static>>>,
    /// `(version, cipher)` when the handshake completed.
    negotiated: Option<(String, String)>,
    error: Option<rustls::Error>,
    other_error: Option<String>,
    /// Why the handshake did not complete (none when it did).
    why: Option<NoAnswer>,
}

#[async_trait]
impl Probe for TlsProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        if self.host.trim().is_empty() {
            issues.push(ParamIssue::new("host", "`host` is empty"));
        }
        if self.port == 0 {
            issues.push(ParamIssue::new("port", "port 0 cannot be connected to"));
        }
        if self.fail_days < 0 || self.warn_days < 0 {
            issues.push(ParamIssue::new(
                "warn_days",
                "day thresholds cannot be negative",
            ));
        }
        if self.fail_days > self.warn_days {
            issues.push(
                ParamIssue::new(
                    "fail_days",
                    format!(
                        "`fail_days` ({}) is above `warn_days` ({}): the warning would never show",
                        self.fail_days, self.warn_days
                    ),
                )
                .hint("warn before failing, e.g. `warn_days: 30, fail_days: 14`"),
            );
        }
        if let Some(name) = &self.server_name
            && ServerName::try_from(name.as_str()).is_err()
        {
            issues.push(ParamIssue::new(
                "server_name",
                format!("`{name}` is not a valid DNS name or IP address"),
            ));
        }
        if matches!(self.max_lifetime_days, Some(d) if d <= 0) {
            issues.push(ParamIssue::new(
                "max_lifetime_days",
                "`max_lifetime_days` must be positive",
            ));
        }
        issues.extend(self.min_key_bits.check());
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let started = Instant::now();
        let left = || ctx.timeout.saturating_sub(started.elapsed());
        let target = format!("{}:{}", self.host, self.port);
        let name_text = self
            .server_name
            .clone()
            .unwrap_or_else(|| self.host.clone());
        let name = match ServerName::try_from(name_text.clone()) {
            Ok(n) => n,
            Err(e) => return Outcome::error(format!("invalid server name `{name_text}`: {e}")),
        };
        let roots = match roots::root_store(self.ca_file.as_deref()) {
            Ok(r) => r,
            Err(e) => return Outcome::error(e),
        };
        let verifier = match RecordingVerifier::new(roots.clone()) {
            Ok(v) => Arc::new(v),
            Err(e) => return Outcome::error(e),
        };
        let hs = match self.handshake(&target, &name, verifier.clone(), ctx).await {
            Ok(hs) => hs,
            Err(outcome) => return outcome,
        };

        // Legacy versions are asked on fresh connections, both at once, within what is left.
        let sni = Some(name_text.as_str());
        let (v10, v11) = tokio::join!(
            legacy::probe(hs.addr, sni, LegacyVersion::Tls10, left()),
            legacy::probe(hs.addr, sni, LegacyVersion::Tls11, left()),
        );

        let mut report = Report::default();
        let mut ev = Map::new();
        ev.insert("host".into(), json!(self.host));
        ev.insert("port".into(), json!(self.port));
        ev.insert("address".into(), json!(hs.addr.to_string()));
        ev.insert("server_name".into(), json!(name_text));

        match &hs.chain {
            Some(chain) => self.judge_chain(chain, &name, &verifier, &roots, &mut report, &mut ev),
            None => {
                let why = hs
                    .other_error
                    .clone()
                    .or_else(|| hs.error.as_ref().map(|e| e.to_string()))
                    .unwrap_or_else(|| "no certificate received".into());
                let no = hs.why.clone().unwrap_or(NoAnswer::TlsRejected);
                report.add(
                    no.status(Property::Reachability),
                    format!("TLS handshake failed: {why}"),
                );
            }
        }
        if let Some((version, cipher)) = &hs.negotiated {
            ev.insert("version".into(), json!(version));
            ev.insert("cipher".into(), json!(cipher));
            if !self.min_version.allows(version) {
                report.add(
                    Status::Fail,
                    format!(
                        "negotiated {version}, below min_version {}",
                        self.min_version.name()
                    ),
                );
            }
        } else {
            ev.insert("version".into(), Value::Null);
            ev.insert("cipher".into(), Value::Null);
        }
        if let Some(err) = &hs.error
            && !report.failed()
        {
            report.add(Status::Fail, format!("TLS handshake failed: {err}"));
        }
        self.judge_legacy(
            &[(LegacyVersion::Tls10, v10), (LegacyVersion::Tls11, v11)],
            &mut report,
            &mut ev,
        );

        // A presented chain is an answer (judged above, e.g. expired); `no_answer` is for
        // handshakes that yielded nothing to judge.
        if let (Some(why), None) = (&hs.why, &hs.chain) {
            ev.insert("no_answer".into(), json!(why.as_str()));
        }
        let elapsed = started.elapsed().as_millis() as u64;
        ev.insert("duration_ms".into(), json!(elapsed));
        report.finish(&target, &hs, ev)
    }
}

impl TlsProbe {
    /// Resolves, connects and shakes hands with the recording verifier. `Err` is a finished
    /// outcome (the target could not be reached at all).
    async fn handshake(
        &self,
        target: &str,
        name: &ServerName<'static>,
        verifier: Arc<RecordingVerifier>,
        ctx: &ProbeContext,
    ) -> Result<Handshake, Outcome> {
        let started = Instant::now();
        let left = || ctx.timeout.saturating_sub(started.elapsed());
        let (stream, addr) = match dial(&self.host, self.port, ctx.timeout).await {
            Ok(c) => c,
            Err(no) => return Err(no.outcome(Property::Reachability).with("target", target)),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .map_err(|e| Outcome::error(format!("cannot configure TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        let connector = TlsConnector::from(Arc::new(config));
        let mut hs = Handshake {
            addr,
            chain: None,
            negotiated: None,
            error: None,
            other_error: None,
            why: None,
        };
        match timeout(left(), connector.connect(name.clone(), stream)).await {
            Err(_) => {
                hs.other_error = Some(format!(
                    "the server accepted the connection but did not finish the handshake within {}",
                    within(ctx.timeout)
                ));
                hs.why = Some(NoAnswer::Timeout);
            }
            Ok(Ok(tls)) => {
                let (_, conn) = tls.get_ref();
                let version = conn
                    .protocol_version()
                    .and_then(|v| v.as_str())
                    .unwrap_or("unknown")
                    .replace("TLSv1_", "TLSv1.");
                let cipher = conn
                    .negotiated_cipher_suite()
                    .and_then(|c| c.suite().as_str())
                    .unwrap_or("unknown")
                    .to_string();
                hs.negotiated = Some((version, cipher));
            }
            Ok(Err(e)) => {
                let why = NoAnswer::from_io(&e);
                let kind = e.kind();
                match e
                    .into_inner()
                    .and_then(|i| i.downcast::<rustls::Error>().ok())
                {
                    Some(tls_err) => hs.error = Some(*tls_err),
                    None => {
                        hs.other_error = Some(format!(
                            "{addr} closed the connection during the handshake ({kind})"
                        ))
                    }
                }
                hs.why = Some(why);
            }
        }
        hs.chain = verifier.seen.lock().ok().and_then(|mut s| s.take());
        Ok(hs)
    }

    /// Judges the presented chain: trust, name, validity dates, key, signature, lifetime.
    fn judge_chain(
        &self,
        chain: &[CertificateDer<'static>],
        name: &ServerName<'static>,
        verifier: &RecordingVerifier,
        roots: &rustls::RootCertStore,
        report: &mut Report,
        ev: &mut Map<String, Value>,
    ) {
        let now = unix_now();
        let facts: Vec<CertFacts> = match chain.iter().map(|c| CertFacts::parse(c)).collect() {
            Ok(f) => f,
            Err(e) => {
                report.add(Status::Fail, format!("server presented an {e}"));
                return;
            }
        };
        let Some(leaf) = facts.first() else {
            report.add(Status::Fail, "server presented no certificate");
            return;
        };
        if let Value::Object(leaf_ev) = leaf.evidence(now) {
            ev.extend(leaf_ev);
        }
        ev.insert("chain_length".into(), json!(facts.len()));
        ev.insert(
            "chain".into(),
            Value::Array(facts.iter().map(|f| f.evidence(now)).collect()),
        );

        // Trust, judged at a moment every certificate is valid so expiry is not mistaken for
        // a broken chain (expiry is judged on its own below).
        let latest_start = facts.iter().map(|f| f.not_before).max().unwrap_or(now);
        let earliest_end = facts.iter().map(|f| f.not_after).min().unwrap_or(now);
        let at = if latest_start < earliest_end {
            latest_start + 1
        } else {
            now
        };
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.max(0) as u64));
        match verifier.verify_at(chain, name, at) {
            Ok(()) => {
                ev.insert("chain_verified".into(), json!(true));
            }
            Err(e) if chain::is_time_or_name(&e) => {
                ev.insert("chain_verified".into(), json!(true));
            }
            Err(e) => {
                ev.insert("chain_verified".into(), json!(false));
                let why = if chain::is_unknown_issuer(&e) {
                    chain::chain_break(&facts, roots)
                } else {
                    e.to_string()
                };
                ev.insert("chain_error".into(), json!(why));
                report.add(Status::Fail, format!("chain does not verify: {why}"));
            }
        }

        // Name, checked on its own so that an expired certificate for the wrong host says both.
        let name_ok = rustls::server::ParsedCertificate::try_from(&chain[0])
            .and_then(|p| rustls::client::verify_server_name(&p, name))
            .is_ok();
        ev.insert("hostname_match".into(), json!(name_ok));
        if !name_ok {
            let sans = if leaf.sans.is_empty() {
                "none".to_string()
            } else {
                leaf.sans.join(", ")
            };
            report.add(
                Status::Fail,
                format!(
                    "certificate does not match `{}` (SANs: {sans})",
                    name.to_str()
                ),
            );
        }

        for f in &facts {
            if f.not_before > now {
                report.add(
                    Status::Fail,
                    format!(
                        "certificate `{}` is not valid until {}",
                        f.label(),
                        date(f.not_before)
                    ),
                );
            }
        }
        if let Some((idx, soonest)) = facts.iter().enumerate().min_by_key(|(_, f)| f.not_after) {
            let which = if idx == 0 {
                format!("certificate for {}", soonest.label())
            } else {
                format!("chain certificate #{} `{}`", idx + 1, soonest.subject)
            };
            let days = soonest.days_left(now);
            let when = date(soonest.not_after);
            ev.insert(
                "earliest_expiring".into(),
                json!({"position": idx + 1, "subject": soonest.subject, "not_after": crate::tls::facts::rfc3339(soonest.not_after), "days_left": days}),
            );
            if soonest.not_after <= now {
                report.add(
                    Status::Fail,
                    format!(
                        "{which} expired {} days ago ({when})",
                        (now - soonest.not_after).div_euclid(86_400)
                    ),
                );
            } else if days < self.fail_days {
                report.add(
                    Status::Fail,
                    format!(
                        "{which} expires in {days} days ({when}), fail threshold {}",
                        self.fail_days
                    ),
                );
            } else if days < self.warn_days {
                report.add(
                    Status::Warn,
                    format!(
                        "{which} expires in {days} days ({when}), warn threshold {}",
                        self.warn_days
                    ),
                );
            } else {
                report.summary = Some(format!("{which} valid for {days} more days ({when})"));
            }
        }

        if let Some(floor) = self.min_key_bits.floor(&leaf.key_type)
            && leaf.key_bits < floor
        {
            report.add(
                Status::Fail,
                format!(
                    "{}-bit {} key, below min_key_bits {floor}",
                    leaf.key_bits, leaf.key_type
                ),
            );
        }
        for (i, f) in facts.iter().enumerate() {
            if f.weak_signature() && !(f.self_signed() && i > 0) {
                report.add(
                    Status::Fail,
                    format!(
                        "`{}` is signed with {} (SHA-1/MD5 are forgeable)",
                        f.label(),
                        f.signature_algorithm
                    ),
                );
            }
        }
        ev.insert("lifetime_days".into(), json!(leaf.lifetime_days()));
        if let Some(max) = self.max_lifetime_days
            && leaf.lifetime_days() > max
        {
            report.add(
                Status::Fail,
                format!(
                    "certificate lifetime {} days exceeds max_lifetime_days {max}",
                    leaf.lifetime_days()
                ),
            );
        }
    }

    fn judge_legacy(
        &self,
        answers: &[(LegacyVersion, LegacyAnswer)],
        report: &mut Report,
        ev: &mut Map<String, Value>,
    ) {
        let mut legacy = Map::new();
        for (version, answer) in answers {
            let text = match answer {
                LegacyAnswer::Accepted => {
                    if !self.allow_legacy {
                        report.add(
                            Status::Fail,
                            format!(
                                "server still accepts {} (allow_legacy is false)",
                                version.name()
                            ),
                        );
                    }
                    "accepted".to_string()
                }
                LegacyAnswer::Refused(why) => format!("refused ({why})"),
                LegacyAnswer::Unknown(why) => format!("unknown ({why})"),
            };
            legacy.insert(version.name().into(), json!(text));
        }
        ev.insert("legacy".into(), Value::Object(legacy));
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Findings collected while judging, folded into one outcome at the end.
#[derive(Default)]
struct Report {
    status: Option<Status>,
    problems: Vec<String>,
    summary: Option<String>,
}

impl Report {
    fn add(&mut self, status: Status, message: impl Into<String>) {
        self.status = Some(self.status.map_or(status, |s| s.worst(status)));
        self.problems.push(message.into());
    }

    fn failed(&self) -> bool {
        self.status == Some(Status::Fail)
    }

    fn finish(self, target: &str, hs: &Handshake, ev: Map<String, Value>) -> Outcome {
        let message = match self.status {
            Some(_) => format!("{target}: {}", self.problems.join("; ")),
            None => {
                let negotiated = hs
                    .negotiated
                    .as_ref()
                    .map(|(v, c)| format!(", {v} {c}"))
                    .unwrap_or_default();
                let summary = self.summary.unwrap_or_else(|| "certificate valid".into());
                format!("{target}: {summary}, chain verified{negotiated}")
            }
        };
        Outcome::new(self.status.unwrap_or(Status::Pass), message).with_evidence(ev)
    }
}
