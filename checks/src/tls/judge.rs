//! Judging a certificate chain the `tls` probe obtained (from rustls or its own hello): trust,
//! name, expiry over the verified path, extra certificates, key, signature, lifetime.

use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::{Map, Value, json};

use crate::outcome::{Outcome, Status};
use crate::tls::chain::{self, RecordingVerifier};
use crate::tls::explain;
use crate::tls::facts::{CertFacts, date, rfc3339};
use crate::tls::params::Threshold;

/// Findings collected while judging, folded into one outcome at the end.
#[derive(Default)]
pub struct Report {
    pub status: Option<Status>,
    pub problems: Vec<String>,
    pub summary: Option<String>,
}

impl Report {
    pub fn add(&mut self, status: Status, message: impl Into<String>) {
        self.status = Some(self.status.map_or(status, |s| s.worst(status)));
        self.problems.push(message.into());
    }

    pub fn failed(&self) -> bool {
        self.status == Some(Status::Fail)
    }

    /// `negotiated` is the suffix for a passing message (", TLSv1.3 TLS13_… (x25519)").
    pub fn finish(self, target: &str, negotiated: &str, ev: Map<String, Value>) -> Outcome {
        let message = match self.status {
            Some(_) => format!("{target}: {}", self.problems.join("; ")),
            None => {
                let summary = self.summary.unwrap_or_else(|| "certificate valid".into());
                format!("{target}: {summary}, chain verified{negotiated}")
            }
        };
        Outcome::new(self.status.unwrap_or(Status::Pass), message).with_evidence(ev)
    }
}

/// What the chain judge needs from the item's parameters.
pub struct ChainRules<'a> {
    pub warn: Threshold,
    pub fail: Threshold,
    pub min_key_bits: crate::tls::params::KeyBits,
    pub max_lifetime_days: Option<i64>,
    pub name: &'a ServerName<'static>,
}

/// Indices (into `chain`) of the certificates on the path that verifies to a trusted root
/// now, leaf included; `None` when no path verifies now.
fn verified_path(
    chain: &[CertificateDer<'static>],
    roots: &RootCertStore,
    now: i64,
) -> Option<Vec<usize>> {
    let (leaf, rest) = chain.split_first()?;
    let ee = webpki::EndEntityCert::try_from(leaf).ok()?;
    let algs = rustls::crypto::ring::default_provider()
        .signature_verification_algorithms
        .all;
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.max(0) as u64));
    let path = ee
        .verify_for_usage(
            algs,
            &roots.roots,
            rest,
            at,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .ok()?;
    let mut on_path = vec![0];
    for cert in path.intermediate_certificates() {
        if let Some(i) = rest.iter().position(|c| c.as_ref() == cert.der().as_ref()) {
            on_path.push(i + 1);
        }
    }
    Some(on_path)
}

/// Judges `chain` (leaf first) into `report` and `ev`.
pub fn judge_chain(
    rules: &ChainRules<'_>,
    chain: &[CertificateDer<'static>],
    verifier: &RecordingVerifier,
    roots: &RootCertStore,
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
    if facts.is_empty() {
        report.add(Status::Fail, "server presented no certificate");
        return;
    }
    // A chain served in reverse starts with a CA: judge the server's own certificate anyway.
    let leaf_idx = match facts.iter().position(|f| !f.is_ca) {
        Some(i) if facts[0].is_ca => i,
        _ => 0,
    };
    let leaf = &facts[leaf_idx];
    if let Value::Object(leaf_ev) = leaf.evidence(now) {
        ev.extend(leaf_ev);
    }
    ev.insert("chain_length".into(), json!(facts.len()));
    ev.insert(
        "chain".into(),
        Value::Array(
            facts
                .iter()
                .map(|f| with_thresholds(f.evidence(now), rules, f))
                .collect(),
        ),
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
    let at_time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.max(0) as u64));
    let mut signature_reported = false;
    match verifier.verify_at(chain, rules.name, at_time) {
        Ok(()) => {
            ev.insert("chain_verified".into(), json!(true));
        }
        Err(e) if chain::is_time_or_name(&e) => {
            ev.insert("chain_verified".into(), json!(true));
        }
        Err(e) => {
            ev.insert("chain_verified".into(), json!(false));
            let oversized = chain.iter().zip(&facts).find(|(c, _)| c.len() > 0xffff);
            let why = match &e {
                _ if oversized.is_some() => {
                    let (der, f) = oversized.unwrap_or((&chain[0], leaf));
                    format!(
                        "`{}` is {} KB, and WebPKI verifiers (rustls and others) refuse certificates over 64 KB",
                        f.label(),
                        der.len().div_ceil(1024)
                    )
                }
                _ if chain::is_unknown_issuer(&e) => chain::chain_break(&facts, roots),
                rustls::Error::InvalidCertificate(ce) => {
                    signature_reported = matches!(
                        ce,
                        rustls::CertificateError::UnsupportedSignatureAlgorithmContext { .. }
                    );
                    explain::certificate_error(ce, &facts)
                }
                other => explain::handshake_error(other, Some(&facts)),
            };
            ev.insert("chain_error".into(), json!(why));
            report.add(Status::Fail, format!("chain does not verify: {why}"));
        }
    }

    // Name, checked on its own so that an expired certificate for the wrong host says both.
    // A certificate WebPKI cannot parse (e.g. oversized) is matched on its parsed SANs.
    let name_ok = match rustls::server::ParsedCertificate::try_from(&chain[leaf_idx]) {
        Ok(p) => rustls::client::verify_server_name(&p, rules.name).is_ok(),
        Err(_) => leaf
            .sans
            .iter()
            .any(|s| s.eq_ignore_ascii_case(rules.name.to_str().as_ref())),
    };
    ev.insert("hostname_match".into(), json!(name_ok));
    if !name_ok {
        let sans = match leaf.sans.len() {
            0 => "none".to_string(),
            1..=5 => leaf.sans.join(", "),
            n => format!("{} … {n} in all", leaf.sans[..5].join(", ")),
        };
        report.add(
            Status::Fail,
            format!(
                "certificate does not match `{}` (SANs: {sans})",
                rules.name.to_str()
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

    // Expiry over the path that verifies; certificates off that path are extras.
    let path = verified_path(chain, roots, now);
    let on_path: Vec<usize> = path.clone().unwrap_or_else(|| (0..facts.len()).collect());
    ev.insert(
        "verified_path".into(),
        json!(
            path.as_ref()
                .map(|p| p.iter().map(|i| i + 1).collect::<Vec<_>>())
        ),
    );
    let served = Served {
        facts: &facts,
        on_path: &on_path,
        now,
    };
    served.expiry(rules, report, ev);
    if path.is_some() {
        served.extras(rules, report, ev);
    }

    if let Some(floor) = rules.min_key_bits.floor(&leaf.key_type)
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
        if f.weak_signature() && !(f.self_signed() && i > 0) && !signature_reported {
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
    if let Some(max) = rules.max_lifetime_days
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

/// Adds the warn and fail thresholds resolved for this certificate's lifetime, in whole days
/// (`warn_days`, `fail_days`): what a picture of days left is drawn against.
fn with_thresholds(mut evidence: Value, rules: &ChainRules<'_>, f: &CertFacts) -> Value {
    let lifetime = f.not_after - f.not_before;
    if let Value::Object(map) = &mut evidence {
        for (key, threshold) in [("warn_days", &rules.warn), ("fail_days", &rules.fail)] {
            let (seconds, _) = threshold.resolve(lifetime);
            map.insert(key.into(), json!(seconds.div_euclid(86_400)));
        }
    }
    evidence
}

fn which(idx: usize, f: &CertFacts) -> String {
    if idx == 0 {
        format!("certificate for {}", f.label())
    } else {
        format!("chain certificate #{} `{}`", idx + 1, f.subject)
    }
}

/// The certificates the server sent, which of them the verified path uses, and the time they
/// are judged at: what the expiry judgements read.
struct Served<'a> {
    facts: &'a [CertFacts],
    on_path: &'a [usize],
    now: i64,
}

impl Served<'_> {
    /// The earliest expiry on the verified path, against the warn and fail thresholds.
    fn expiry(&self, rules: &ChainRules<'_>, report: &mut Report, ev: &mut Map<String, Value>) {
        let Some(&idx) = self
            .on_path
            .iter()
            .min_by_key(|i| self.facts[**i].not_after)
        else {
            return;
        };
        let soonest = &self.facts[idx];
        let which = which(idx, soonest);
        let days = soonest.days_left(self.now);
        let when = date(soonest.not_after);
        let lifetime = soonest.not_after - soonest.not_before;
        let left = soonest.not_after - self.now;
        ev.insert(
        "earliest_expiring".into(),
        json!({"position": idx + 1, "subject": soonest.subject, "not_after": rfc3339(soonest.not_after), "days_left": days}),
    );
        let (fail_at, fail_text) = rules.fail.resolve(lifetime);
        let (warn_at, warn_text) = rules.warn.resolve(lifetime);
        if left <= 0 {
            report.add(
                Status::Fail,
                format!(
                    "{which} expired {} days ago ({when})",
                    (self.now - soonest.not_after).div_euclid(86_400)
                ),
            );
        } else if left < fail_at {
            report.add(
                Status::Fail,
                format!("{which} expires in {days} days ({when}), fail threshold {fail_text}"),
            );
        } else if left < warn_at {
            report.add(
                Status::Warn,
                format!("{which} expires in {days} days ({when}), warn threshold {warn_text}"),
            );
        } else {
            report.summary = Some(format!("{which} valid for {days} more days ({when})"));
        }
    }

    /// Certificates the server sends that the verified path does not use (a cross-signed root,
    /// an old intermediate): an expired or expiring one is a warning, not the chain's expiry.
    fn extras(&self, rules: &ChainRules<'_>, report: &mut Report, ev: &mut Map<String, Value>) {
        let mut extras = Vec::new();
        for (i, f) in self.facts.iter().enumerate().skip(1) {
            if self.on_path.contains(&i) {
                continue;
            }
            extras.push(json!({"position": i + 1, "subject": f.subject, "issuer": f.issuer, "not_after": rfc3339(f.not_after)}));
            let (warn_at, _) = rules.warn.resolve(f.not_after - f.not_before);
            let state = if f.not_after <= self.now {
                format!("expired {}", date(f.not_after))
            } else if f.not_after - self.now < warn_at {
                format!("expires {}", date(f.not_after))
            } else {
                continue;
            };
            report.add(
            Status::Warn,
            format!(
                "the server also sends #{} `{}` (issued by `{}`), which {state}; the verified path does not need it, but some clients may build their path through it: remove it from the served chain",
                i + 1,
                f.subject,
                f.issuer
            ),
        );
        }
        ev.insert("extra_certificates".into(), Value::Array(extras));
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
