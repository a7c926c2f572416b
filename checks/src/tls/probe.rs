//! `tls`: what testssl.sh would say about one endpoint — chain, host name, expiry over the
//! verified path, protocol, cipher and key exchange, legacy versions, Mozilla profile, key sizes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use futures_util::future::join_all;
use rustls::pki_types::ServerName;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::net::identity;
use crate::net::roots;
use crate::net::starttls::StartTls;
use crate::net::{self, NetParams};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::tls::chain::RecordingVerifier;
use crate::tls::crl;
use crate::tls::diagnose;
use crate::tls::explain;
use crate::tls::h3::{self, H3};
use crate::tls::hello;
use crate::tls::judge::{ChainRules, Report, judge_chain, unix_now};
use crate::tls::legacy::{self, LegacyAnswer, LegacyVersion};
use crate::tls::params::{KeyBits, Percent, Threshold, TlsVersion};
use crate::tls::pq;
use crate::tls::profile::{self, Profile};
use crate::tls::scan;
use crate::tls::staple::{StapleRule, judge_staple};

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
    /// Warn when the earliest-expiring certificate of the verified path has fewer days left
    /// (default 30 unless `warn_before` is given).
    #[serde(default)]
    pub warn_days: Option<i64>,
    /// Fail when it has fewer days left (default 14 unless `fail_before` is given).
    #[serde(default)]
    pub fail_days: Option<i64>,
    /// Warn when less than this share of the certificate's lifetime is left (`33%`). With
    /// `warn_days` too, the threshold leaving fewer days wins.
    #[serde(default)]
    pub warn_before: Option<Percent>,
    /// Fail when less than this share of the lifetime is left (`10%`). With `fail_days` too,
    /// the threshold leaving fewer days wins.
    #[serde(default)]
    pub fail_before: Option<Percent>,
    /// Lowest acceptable negotiated version: `1.2` (default) or `1.3`.
    #[serde(default)]
    pub min_version: TlsVersion,
    /// Servers that still speak TLS 1.0 / 1.1: `false` fails them, `true` accepts them.
    /// Unset, they follow `profile`'s tiers: inside `old` (pass with `profile: old`, a
    /// warning otherwise), with their suites enumerated and judged like TLS 1.2's.
    #[serde(default)]
    pub allow_legacy: Option<bool>,
    /// Smallest acceptable key: a number (RSA bits) or `{ rsa: 3072, ec: 384 }`;
    /// RSA 2048 and EC 256 by default.
    #[serde(default)]
    pub min_key_bits: KeyBits,
    /// Fail when the leaf's total lifetime exceeds this many days (Mozilla intermediate: 366).
    #[serde(default)]
    pub max_lifetime_days: Option<i64>,
    /// Mozilla server-side TLS profile the accepted suites must stay within: `modern`,
    /// `intermediate` (default) or `old`. Judged on what `enumerate` finds.
    #[serde(default)]
    pub profile: Profile,
    /// Enumerate every TLS 1.2 suite the server accepts (one extra handshake per accepted
    /// suite, concurrently per suite family) and judge them against `profile`.
    #[serde(default = "default_enumerate")]
    pub enumerate: bool,
    /// Fetch each presented certificate's CRL from its distribution point (at most 8 MiB,
    /// within the item's timeout), check its signature against the issuer, and fail when the
    /// certificate is on it; a CRL that cannot be had or trusted is `error`.
    #[serde(default)]
    pub check_revocation: bool,
    /// How a stapled OCSP response that is stale (`nextUpdate` passed) or about another
    /// certificate (serial or issuer hashes differ) is judged: `lenient` (warn, default),
    /// `strict` (fail, as for must-staple certificates) or `off`.
    #[serde(default)]
    pub ocsp_staple: StapleRule,
    /// Shake hands over every address family the host resolves to (IPv4 and IPv6) and fail
    /// when they differ (certificate, version, or one failing).
    #[serde(default)]
    pub dual_stack: bool,
    /// Speak this protocol's plain-text upgrade before the handshake (`smtp`, `imap`, `pop3`,
    /// `ldap`, `postgres`) on every connection, so mail, directory and database servers are
    /// judged like any TLS front. Set `port` too (25/587, 143, 110, 389, 5432).
    #[serde(default)]
    pub starttls: Option<StartTls>,
    /// Fail unless the server selects the hybrid post-quantum group X25519MLKEM768 when a
    /// client offers it first (as current browsers do). Which group it selects, with and
    /// without the hybrid group offered, is reported either way.
    #[serde(default)]
    pub require_pq: bool,
    /// Look up the host's HTTPS DNS record (type 65; `_PORT._https.host` off port 443) and
    /// `report` whether its `alpn` offers HTTP/3 (`h3`), or `require` it. Off by default.
    #[serde(default)]
    pub h3: Option<H3>,
    /// The DNS server (`host:port`) asked for that record; the system's resolver by default.
    #[serde(default)]
    pub nameserver: Option<String>,
}

fn default_port() -> u16 {
    443
}
fn default_enumerate() -> bool {
    true
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
        let (warn, fail) = (self.warn_threshold(), self.fail_threshold());
        if warn.days.unwrap_or(0) < 0 || fail.days.unwrap_or(0) < 0 {
            issues.push(ParamIssue::new(
                "warn_days",
                "day thresholds cannot be negative",
            ));
        }
        if let (Some(f), Some(w)) = (fail.days, warn.days)
            && f > w
        {
            issues.push(
                ParamIssue::new(
                    "fail_days",
                    format!(
                        "`fail_days` ({f}) is above `warn_days` ({w}): the warning would never show"
                    ),
                )
                .hint("warn before failing, e.g. `warn_days: 30, fail_days: 14`"),
            );
        }
        if let (Some(f), Some(w)) = (fail.percent, warn.percent)
            && f > w
        {
            issues.push(
                ParamIssue::new(
                    "fail_before",
                    format!("`fail_before` ({f}%) is above `warn_before` ({w}%): the warning would never show"),
                )
                .hint("warn before failing, e.g. `warn_before: 33%, fail_before: 10%`"),
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
        issues.extend(self.check_h3());
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        let mut issues = net.check(Some(&self.host));
        issues.extend(net::dual_stack::check(
            self.dual_stack,
            Some(&self.host),
            net.ip_family,
        ));
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        if self.dual_stack {
            return crate::tls::dual::run(self, ctx).await;
        }
        self.full(ctx).await
    }
}

impl TlsProbe {
    /// The whole judgement over one connection route (the first address that accepts).
    pub(crate) async fn full(&self, ctx: &ProbeContext) -> Outcome {
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
        let client = match identity::load(&ctx.net.client_cert, &ctx.net.client_key) {
            Ok(c) => c,
            Err(e) => return Outcome::error(e),
        };
        let (stream, route) =
            match net::dial(&self.host, self.port, "https", &ctx.net, ctx.timeout).await {
                Ok(c) => c,
                Err(no) => return no.outcome(Property::Reachability).with("target", target),
            };
        let (stream, route) = match crate::tls::starttls::upgrade(self, stream, route, left()).await
        {
            Ok(c) => c,
            Err(outcome) => return outcome.with("target", target),
        };

        // The rustls handshake, the legacy versions and the enumeration all at once, each on
        // its own connection, all within what is left of the item's budget.
        let sni = Some(name_text.as_str());
        let budget = left();
        let parallel = ctx.politeness.per_host();
        // A quarter of the budget stays for the diagnosis when the handshake fails.
        let scan_budget = budget.mul_f64(0.75);
        let enumeration = async {
            match self.enumerate {
                true => Some(scan::enumerate(&route, sni, 0x0303, scan_budget, parallel).await),
                false => None,
            }
        };
        let h3_name = h3::query_name(&name_text, self.port);
        let h3_lookup = async {
            match (self.h3, &h3_name) {
                (Some(_), Some(n)) => Some(h3::lookup(n, self.nameserver.as_deref(), budget).await),
                _ => None,
            }
        };
        let (hs, v10, v11, mut scanned, pq, h3_found) = tokio::join!(
            self.handshake(
                (stream, route.clone()),
                &name,
                verifier.clone(),
                client.as_ref(),
                budget,
                ctx.timeout
            ),
            legacy::probe(&route, sni, LegacyVersion::Tls10, budget),
            legacy::probe(&route, sni, LegacyVersion::Tls11, budget),
            enumeration,
            pq::probe(&route, sni, budget),
            h3_lookup,
        );

        // Tolerated legacy versions (`allow_legacy`) get their own enumeration: the old
        // profile allows TLS 1.0, not RC4 or export suites on it. Otherwise the version fails.
        let legacy_versions: Vec<u16> = [(0x0301, &v10), (0x0302, &v11)]
            .into_iter()
            .filter(|(_, answer)| {
                self.enumerate
                    && self.allow_legacy != Some(false)
                    && **answer == LegacyAnswer::Accepted
            })
            .map(|(version, _)| version)
            .collect();
        let legacy_budget = left().mul_f64(0.75);
        // Both versions at once share the per-host limit.
        let per_version = parallel.div_ceil(legacy_versions.len().max(1));
        let legacy_scans = join_all(
            legacy_versions
                .iter()
                .map(|v| scan::enumerate(&route, sni, *v, legacy_budget, per_version)),
        )
        .await;

        // rustls refused to talk: ask the server by hand what it does speak, and for its chain.
        let diagnosis = if hs.negotiated.is_none()
            && hs.chain.is_none()
            && (hs.error.is_some() || hs.why == Some(NoAnswer::TlsRejected))
        {
            Some(diagnose::diagnose(&route, sni, &mut scanned, left(), parallel).await)
        } else {
            None
        };

        let mut report = Report::default();
        let mut ev = Map::new();
        ev.insert("host".into(), json!(self.host));
        ev.insert("port".into(), json!(self.port));
        match (hs.route.addr(), hs.route.proxy()) {
            (Some(addr), _) => ev.insert("address".into(), json!(addr.to_string())),
            (None, proxy) => ev.insert("proxy".into(), json!(proxy)),
        };
        if let Some(proto) = self.starttls {
            ev.insert("starttls".into(), json!(proto.name()));
        }
        ev.insert("ip_family".into(), json!(ctx.net.ip_family.as_str()));
        ev.insert("server_name".into(), json!(name_text));
        ev.insert("profile".into(), json!(self.profile.name()));

        let rules = ChainRules {
            warn: self.warn_threshold(),
            fail: self.fail_threshold(),
            min_key_bits: self.min_key_bits,
            max_lifetime_days: self.max_lifetime_days,
            name: &name,
        };
        if let Some(d) = &diagnosis {
            d.report(&hs, &mut report, &mut ev);
        }
        let chain = hs
            .chain
            .clone()
            .or_else(|| diagnosis.as_ref().and_then(|d| d.chain()));
        match &chain {
            Some(chain) => {
                judge_chain(&rules, chain, &verifier, &roots, &mut report, &mut ev);
                let staple = hs.staple.as_deref();
                let rule = self.ocsp_staple;
                judge_staple(
                    staple,
                    chain,
                    &roots,
                    rule,
                    unix_now(),
                    &mut report,
                    &mut ev,
                );
            }
            None if diagnosis.is_none() => {
                let why = hs
                    .other_error
                    .clone()
                    .or_else(|| hs.error.as_ref().map(|e| explain::handshake_error(e, None)))
                    .unwrap_or_else(|| "no certificate received".into());
                let no = hs.why.clone().unwrap_or(NoAnswer::TlsRejected);
                report.add(
                    no.status(Property::Reachability),
                    format!("TLS handshake failed: {why}"),
                );
            }
            None => {}
        }
        if self.check_revocation
            && let Some(chain) = &chain
        {
            // The CRL fetches get what is left of the item's budget.
            let mut sub = ctx.clone();
            sub.timeout = left();
            crl::check(&sub, chain, &roots, &mut report, &mut ev).await;
        }
        if let Some((version, cipher)) = &hs.negotiated {
            ev.insert("version".into(), json!(version));
            ev.insert("cipher".into(), json!(cipher));
            ev.insert("key_exchange".into(), json!(hs.group));
            if !self.min_version.allows(version) {
                report.add(
                    Status::Fail,
                    format!(
                        "negotiated {version}, below min_version {}",
                        self.min_version.name()
                    ),
                );
            } else if self.profile == Profile::Modern && version != "TLSv1.3" {
                report.add(
                    Status::Warn,
                    format!(
                        "negotiated {version}, {}",
                        profile::Tier::OldOnly.words(self.profile)
                    ),
                );
            }
        } else if !ev.contains_key("version") {
            ev.insert("version".into(), Value::Null);
            ev.insert("cipher".into(), Value::Null);
        }
        pq::judge(&pq, self.require_pq, &mut report, &mut ev);
        if let (Some(mode), Some(n), Some(found)) = (self.h3, &h3_name, &h3_found) {
            h3::judge(n, found, mode, &mut report, &mut ev);
        }
        let client_note =
            crate::tls::handshake::judge_client_auth(&hs, client.as_ref(), &mut report, &mut ev);
        let mut accepted = Vec::new();
        if let Some(scan) = &scanned {
            ev.insert("tls12_suites".into(), scan.evidence());
            accepted.extend(scan.accepted.iter().copied());
        }
        for (version, scan) in legacy_versions.iter().zip(&legacy_scans) {
            let key = format!(
                "{}_suites",
                hello::version_name(*version)
                    .to_lowercase()
                    .replace(['v', '.'], "")
            );
            ev.insert(key, scan.evidence());
            accepted.extend(scan.accepted.iter().copied());
        }
        // A failed handshake is explained by the diagnosis; the profile adds nothing.
        if diagnosis.is_none() {
            for (status, problem) in profile::judge(self.profile, &accepted) {
                report.add(status, problem);
            }
            // A scan that did not finish cannot vouch for the suites it did not reach.
            let scans = scanned.iter().map(|s| (0x0303, s));
            let legacy = legacy_versions.iter().copied().zip(&legacy_scans);
            for (version, scan) in scans.chain(legacy) {
                if !scan.complete() {
                    report.add(
                        Status::Error,
                        incomplete_scan(version, scan, accepted.len()),
                    );
                }
            }
        }
        self.judge_legacy(
            &[(LegacyVersion::Tls10, v10), (LegacyVersion::Tls11, v11)],
            &mut report,
            &mut ev,
        );

        // A presented chain is an answer (judged above, e.g. expired); `no_answer` is for
        // handshakes that yielded nothing to judge.
        if let (Some(why), None) = (&hs.why, &chain) {
            ev.insert("no_answer".into(), json!(why.as_str()));
        }
        let elapsed = started.elapsed().as_millis() as u64;
        ev.insert("duration_ms".into(), json!(elapsed));
        let negotiated = hs
            .negotiated
            .as_ref()
            .map(|(v, c)| match &hs.group {
                Some(g) => format!(", {v} {c} ({g})"),
                None => format!(", {v} {c}"),
            })
            .unwrap_or_default();
        report.finish(&target, &format!("{negotiated}{client_note}"), ev)
    }
}

impl TlsProbe {
    /// `h3` needs a name to look up; `nameserver` must parse and is for `h3` only.
    fn check_h3(&self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        let name = self.server_name.as_deref().unwrap_or(&self.host);
        if self.h3.is_some() && h3::query_name(name, self.port).is_none() {
            issues.push(
                ParamIssue::new(
                    "h3",
                    format!("`h3` looks up an HTTPS DNS record, and `{name}` is an IP address, which has none"),
                )
                .hint("set `host` (or `server_name`) to the DNS name clients use"),
            );
        }
        if let Some(ns) = &self.nameserver {
            if let Err(e) = crate::dns::lookup::parse_nameserver(ns) {
                issues.push(ParamIssue::new("nameserver", e));
            } else if self.h3.is_none() {
                issues.push(
                    ParamIssue::new("nameserver", "`nameserver` is only used by `h3`")
                        .hint("add `h3: report` or `h3: require`, or remove `nameserver`"),
                );
            }
        }
        issues
    }
}

/// "TLSv1.2 suite enumeration incomplete (…); the profile was judged on the 3 suites found
/// only": what was not checked, so an incomplete scan can never read as a pass.
fn incomplete_scan(version: u16, scan: &scan::Scan, found: usize) -> String {
    format!(
        "{} suite enumeration incomplete ({}): the profile was judged on the {found} suites found only; rerun with a longer `timeout` or check the server's logs",
        hello::version_name(version),
        scan.incomplete.join("; ")
    )
}

impl TlsProbe {
    fn warn_threshold(&self) -> Threshold {
        let percent = self.warn_before.map(|p| p.0);
        Threshold {
            days: self.warn_days.or(percent.is_none().then_some(30)),
            percent,
        }
    }

    fn fail_threshold(&self) -> Threshold {
        let percent = self.fail_before.map(|p| p.0);
        Threshold {
            days: self.fail_days.or(percent.is_none().then_some(14)),
            percent,
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
                    match self.allow_legacy {
                        Some(false) => report.add(
                            Status::Fail,
                            format!(
                                "server still accepts {} (allow_legacy is false)",
                                version.name()
                            ),
                        ),
                        None if self.profile != Profile::Old => report.add(
                            Status::Warn,
                            format!(
                                "server still accepts {}, {}; set `allow_legacy: false` to fail on it",
                                version.name(),
                                profile::Tier::OldOnly.words(self.profile)
                            ),
                        ),
                        _ => {}
                    }
                    "accepted".to_string()
                }
                LegacyAnswer::Refused(why) | LegacyAnswer::Closed(why) => {
                    format!("refused ({why})")
                }
                LegacyAnswer::Unknown(why) => {
                    if self.allow_legacy != Some(true) {
                        report.add(
                            Status::Error,
                            format!(
                                "could not tell whether the server accepts {} ({why}, asked twice): legacy versions not checked",
                                version.name()
                            ),
                        );
                    }
                    format!("unknown ({why})")
                }
            };
            legacy.insert(version.name().into(), json!(text));
        }
        ev.insert("legacy".into(), Value::Object(legacy));
    }
}
