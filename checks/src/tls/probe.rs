//! `tls`: what testssl.sh would say about one endpoint — chain, host name, expiry over the
//! verified path, protocol, cipher and key exchange, legacy versions, Mozilla profile, key sizes.

use std::path::PathBuf;

use async_trait::async_trait;
use rustls::pki_types::ServerName;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::net::dial::endpoint_issues;
use crate::net::starttls::StartTls;
use crate::net::{self, NetParams};
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::tls::h3::{self, H3};
use crate::tls::judge::Report;
use crate::tls::legacy::{LegacyAnswer, LegacyVersion};
use crate::tls::params::{KeyBits, Percent, Threshold, TlsVersion};
use crate::tls::profile::{self, Profile};
use crate::tls::staple::StapleRule;

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
    pub server_name: Option<String>,
    /// PEM bundle added to the system roots (internal CAs).
    pub ca_file: Option<PathBuf>,
    /// Warn when the earliest-expiring certificate of the verified path has fewer days left
    /// (default 30 unless `warn_before` is given).
    pub warn_days: Option<i64>,
    /// Fail when it has fewer days left (default 14 unless `fail_before` is given).
    pub fail_days: Option<i64>,
    /// Warn when less than this share of the certificate's lifetime is left (`33%`). With
    /// `warn_days` too, the threshold leaving fewer days wins.
    pub warn_before: Option<Percent>,
    /// Fail when less than this share of the lifetime is left (`10%`). With `fail_days` too,
    /// the threshold leaving fewer days wins.
    pub fail_before: Option<Percent>,
    /// Lowest acceptable negotiated version: `1.2` (default) or `1.3`.
    #[serde(default)]
    pub min_version: TlsVersion,
    /// Servers that still speak TLS 1.0 / 1.1: `false` fails them, `true` accepts them.
    /// Unset, they follow `profile`'s tiers: inside `old` (pass with `profile: old`, a
    /// warning otherwise), with their suites enumerated and judged like TLS 1.2's.
    pub allow_legacy: Option<bool>,
    /// Smallest acceptable key: a number (RSA bits) or `{ rsa: 3072, ec: 384 }`;
    /// RSA 2048 and EC 256 by default.
    #[serde(default)]
    pub min_key_bits: KeyBits,
    /// Fail when the leaf's total lifetime exceeds this many days (Mozilla intermediate: 366).
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
    pub starttls: Option<StartTls>,
    /// Fail unless the server selects the hybrid post-quantum group X25519MLKEM768 when a
    /// client offers it first (as current browsers do). Which group it selects, with and
    /// without the hybrid group offered, is reported either way.
    #[serde(default)]
    pub require_pq: bool,
    /// Look up the host's HTTPS DNS record (type 65; `_PORT._https.host` off port 443) and
    /// `report` whether its `alpn` offers HTTP/3 (`h3`), or `require` it. Off by default.
    pub h3: Option<H3>,
    /// The DNS server (`host:port`) asked for that record; the system's resolver by default.
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
        let mut issues = endpoint_issues(&self.host, self.port);
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
    /// The name the handshake presents and the certificate must match: `server_name`, else `host`.
    pub(crate) fn sni(&self) -> &str {
        self.server_name.as_deref().unwrap_or(&self.host)
    }

    /// `h3` needs a name to look up; `nameserver` must parse and is for `h3` only.
    fn check_h3(&self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        let name = self.sni();
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
            if let Err(e) = crate::net::dns::parse_nameserver(ns) {
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

impl TlsProbe {
    pub(crate) fn warn_threshold(&self) -> Threshold {
        let percent = self.warn_before.map(|p| p.0);
        Threshold {
            days: self.warn_days.or(percent.is_none().then_some(30)),
            percent,
        }
    }

    pub(crate) fn fail_threshold(&self) -> Threshold {
        let percent = self.fail_before.map(|p| p.0);
        Threshold {
            days: self.fail_days.or(percent.is_none().then_some(14)),
            percent,
        }
    }

    pub(crate) fn judge_legacy(
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
