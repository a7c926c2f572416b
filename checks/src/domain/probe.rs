//! `domain`: asks the registry over RDAP when the domain expires and whether it is on hold or
//! being deleted: one bootstrap lookup (cached a day) and one request per domain, capped.

use async_trait::async_trait;
use reqwest::header::{ACCEPT, HeaderValue};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::domain::bootstrap;
use crate::domain::rdap::{self, normalize};
use crate::net::http::Reach;
use crate::net::http::page::Fetcher;
use crate::net::http::request::RequestSpec;
use crate::no_answer::Property;
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// A domain object is a few KiB; anything past this is not one.
const MAX_ANSWER: u64 = 512 * 1024;

/// Parameters of `check: { domain: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainProbe {
    /// The registered domain (`example.com`, not `www.example.com`).
    pub domain: String,
    /// Warn when the registration expires in fewer days (default 30).
    #[serde(default = "default_warn")]
    pub warn_days: i64,
    /// Fail when it expires in fewer days (default 7).
    #[serde(default = "default_fail")]
    pub fail_days: i64,
    /// Registry statuses that fail the item, in EPP (`clientHold`) or RDAP (`client hold`)
    /// spelling. Default: the ones that take the name out of DNS or are deleting it:
    /// clientHold, serverHold, pendingDelete, redemptionPeriod, inactive.
    #[serde(default = "default_fail_statuses")]
    pub fail_statuses: Vec<String>,
    /// The RDAP base URL to ask (`https://rdap.example/v1/`) instead of the one the
    /// bootstrap registry names for the TLD.
    pub rdap_server: Option<String>,
    /// Where the IANA bootstrap registry is read (cached on disk for a day).
    #[serde(default = "default_bootstrap")]
    pub bootstrap_url: String,
}

fn default_warn() -> i64 {
    30
}
fn default_fail() -> i64 {
    7
}
fn default_fail_statuses() -> Vec<String> {
    [
        "clientHold",
        "serverHold",
        "pendingDelete",
        "redemptionPeriod",
        "inactive",
    ]
    .map(String::from)
    .to_vec()
}
fn default_bootstrap() -> String {
    "https://data.iana.org/rdap/dns.json".into()
}

#[async_trait]
impl Probe for DomainProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        let d = self.domain.trim().trim_end_matches('.');
        if d.is_empty() || !d.contains('.') || d.contains('/') || d.contains(':') {
            issues.push(
                ParamIssue::new("domain", format!("`{}` is not a domain name", self.domain))
                    .hint("write the registered name alone, e.g. `example.com`"),
            );
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
                .hint("warn before failing, e.g. `warn_days: 30, fail_days: 7`"),
            );
        }
        for (key, url) in [
            ("rdap_server", self.rdap_server.as_deref()),
            ("bootstrap_url", Some(self.bootstrap_url.as_str())),
        ] {
            if let Some(url) = url
                && RequestSpec::get(url).is_err()
            {
                issues.push(ParamIssue::new(
                    key,
                    format!("`{url}` is not an http(s) URL"),
                ));
            }
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let domain = self
            .domain
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let fetcher = |url: &str| {
            Fetcher::new(ctx, &Reach::new(url, &None, &ctx.net), None).map(Fetcher::one_shot)
        };
        let mut ev = serde_json::Map::new();
        ev.insert("domain".into(), json!(domain));
        let base = match &self.rdap_server {
            Some(s) => s.clone(),
            None => {
                let f = match fetcher(&self.bootstrap_url) {
                    Ok(f) => f,
                    Err(e) => return Outcome::error(e),
                };
                let (doc, cached) = match bootstrap::load(&f, &self.bootstrap_url).await {
                    Ok(d) => d,
                    Err(e) => return Outcome::error(e).with("domain", domain),
                };
                ev.insert("bootstrap_cached".into(), json!(cached));
                match rdap::server_for(&doc, &domain) {
                    Some(s) => s,
                    None => {
                        return Outcome::error(format!(
                            "the RDAP bootstrap registry names no server for `{domain}`'s TLD: set `rdap_server` to the registry's RDAP URL"
                        ))
                        .with("domain", domain);
                    }
                }
            }
        };
        let url = rdap::domain_url(&base, &domain);
        ev.insert("rdap_url".into(), json!(url));
        let f = match fetcher(&url) {
            Ok(f) => f,
            Err(e) => return Outcome::error(e),
        };
        let mut spec = match RequestSpec::get(&url) {
            Ok(s) => s,
            Err(e) => return Outcome::error(e),
        };
        spec.headers
            .insert(ACCEPT, HeaderValue::from_static("application/rdap+json"));
        let page = match f.once(&spec, MAX_ANSWER).await {
            Ok(p) => p,
            Err(e) => {
                return Outcome::new(e.why.status(Property::Instrument), e.message)
                    .with_evidence(e.evidence)
                    .with_evidence(ev);
            }
        };
        ev.insert("http_status".into(), json!(page.status));
        if page.status == 404 {
            return Outcome::fail(format!(
                "{domain}: the registry ({url}) has no such domain: it is not registered, or has lapsed and been deleted"
            ))
            .with_evidence(ev);
        }
        if page.status != 200 || page.body.truncated {
            let why = if page.body.truncated {
                format!("an answer larger than {MAX_ANSWER} bytes")
            } else {
                format!("HTTP {}", page.status)
            };
            return Outcome::error(format!("{domain}: the RDAP server {url} answered {why}"))
                .with_evidence(ev);
        }
        let reg = match serde_json::from_slice::<Value>(&page.body.bytes)
            .map_err(|e| format!("not JSON ({e})"))
            .and_then(|doc| rdap::registration(&doc))
        {
            Ok(r) => r,
            Err(e) => {
                return Outcome::error(format!("{domain}: the RDAP answer from {url} is {e}"))
                    .with_evidence(ev);
            }
        };
        self.judge(&domain, reg, ev)
    }
}

impl DomainProbe {
    fn judge(
        &self,
        domain: &str,
        reg: rdap::Registration,
        mut ev: serde_json::Map<String, Value>,
    ) -> Outcome {
        ev.insert("status".into(), json!(reg.statuses));
        if let Some(r) = &reg.registrar {
            ev.insert("registrar".into(), json!(r));
        }
        let mut status = Status::Pass;
        let mut problems = Vec::new();
        let bad: Vec<&String> = reg
            .statuses
            .iter()
            .filter(|s| {
                self.fail_statuses
                    .iter()
                    .any(|f| normalize(f) == normalize(s))
            })
            .collect();
        if !bad.is_empty() {
            status = Status::Fail;
            let list: Vec<&str> = bad.iter().map(|s| s.as_str()).collect();
            problems.push(format!(
                "the registry lists it as `{}`: {}",
                list.join("`, `"),
                explain(&list)
            ));
        }
        let expiry = match reg.expires {
            Some(at) => {
                let days = (at - OffsetDateTime::now_utc()).whole_days();
                let date = at.date().to_string();
                ev.insert("expires".into(), json!(date));
                ev.insert("days_left".into(), json!(days));
                if days < 0 {
                    status = Status::Fail;
                    problems.push(format!(
                        "the registration expired {} days ago ({date})",
                        -days
                    ));
                } else if days < self.fail_days {
                    status = Status::Fail;
                    problems.push(format!(
                        "the registration expires in {days} days ({date}; fail threshold {})",
                        self.fail_days
                    ));
                } else if days < self.warn_days {
                    status = status.worst(Status::Warn);
                    problems.push(format!(
                        "the registration expires in {days} days ({date}; warn threshold {})",
                        self.warn_days
                    ));
                }
                format!("registered until {date} ({days} days)")
            }
            None => {
                ev.insert("expires".into(), Value::Null);
                status = status.worst(Status::Warn);
                problems.push(
                    "the registry publishes no expiration date: check it with the registrar".into(),
                );
                "registered".into()
            }
        };
        let message = if problems.is_empty() {
            let statuses = match reg.statuses.is_empty() {
                true => String::new(),
                false => format!(", status {}", reg.statuses.join(", ")),
            };
            format!("{domain}: {expiry}{statuses}")
        } else {
            format!("{domain}: {}", problems.join("; "))
        };
        Outcome::new(status, message).with_evidence(ev)
    }
}

/// What the failing statuses mean for the site, and who can lift them.
fn explain(statuses: &[&str]) -> &'static str {
    let has = |s: &str| statuses.iter().any(|x| normalize(x) == normalize(s));
    if has("pendingDelete") || has("redemptionPeriod") {
        "the registry is deleting the name; restore it with the registrar now"
    } else if has("clientHold") || has("serverHold") {
        "the name is withheld from DNS, so nothing under it resolves; ask the registrar why"
    } else {
        "the name is not active at the registry; ask the registrar"
    }
}
