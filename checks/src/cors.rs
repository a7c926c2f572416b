//! `cors`: attacker origins from every nuclei family, derived from the target host and from
//! each allowed origin, sent as a simple GET and as a preflight; reflections are graded.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::http::check_http_url;
use crate::outcome::{Outcome, Status};
use crate::page::{self, Page};
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// The attacker's registered domain (reserved `.test` TLD: never resolves).
const ATTACKER: &str = "attacker.test";
/// At most this many `allowed_origins`: with 14 attack origins per base, two requests per
/// origin plus two per allowed origin, an item sends at most 2 × (2 + 14 × 6) + 2 × 5 = 182 requests.
const MAX_ALLOWED: usize = 5;
/// Requests in flight at once.
const PARALLEL: usize = 8;

/// Parameters of `check: { cors: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorsProbe {
    /// The endpoint whose CORS answers are checked (an API URL).
    pub url: String,
    /// Origins that must be allowed (`https://app.example`); every other origin must not be.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// PEM bundle added to the trusted roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// nuclei's origin families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Foreign,
    HostAsPrefix,
    GluedToDomain,
    UnescapedDot,
    Subdomain,
    HttpDowngrade,
    Null,
    SpecialChar,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Foreign => "foreign domain",
            Family::HostAsPrefix => "host as prefix",
            Family::GluedToDomain => "glued to the registered domain",
            Family::UnescapedDot => "unescaped dot",
            Family::Subdomain => "arbitrary subdomain",
            Family::HttpDowngrade => "HTTP downgrade",
            Family::Null => "null origin",
            Family::SpecialChar => "special character in a label",
        }
    }

    /// Verdict and severity when this family is reflected together with credentials.
    fn with_credentials(self) -> (Status, &'static str) {
        match self {
            Family::Foreign => (Status::Fail, "critical"),
            Family::Subdomain | Family::HttpDowngrade => (Status::Warn, "medium"),
            _ => (Status::Fail, "high"),
        }
    }
}

/// One origin to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attack {
    pub origin: String,
    pub family: Family,
}

/// The registered domain, approximated without the public-suffix list (`a.b.example.co.uk` →
/// `example.co.uk`); `None` for IP addresses and single labels.
pub fn registered_domain(host: &str) -> Option<String> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    if n < 2 {
        return None;
    }
    let short_sld = n >= 3 && labels[n - 1].len() == 2 && labels[n - 2].len() <= 3;
    let keep = if short_sld { 3 } else { 2 };
    Some(labels[n - keep..].join("."))
}

/// Every attack origin, derived from the target and from each allowed origin; the target's own
/// origin and the allowed origins themselves are never sent as attacks.
pub fn attack_origins(target: &Url, allowed: &[Url]) -> Vec<Attack> {
    let mut out = vec![
        Attack {
            origin: format!("https://{ATTACKER}"),
            family: Family::Foreign,
        },
        Attack {
            origin: "null".into(),
            family: Family::Null,
        },
    ];
    let bases = std::iter::once(target).chain(allowed.iter());
    for (i, base) in bases.enumerate() {
        let Some(host) = base.host_str() else {
            continue;
        };
        // Target-derived attackers come over HTTPS; allowed-derived ones keep the allowed scheme.
        let s = if i == 0 { "https" } else { base.scheme() };
        let port = base.port().map(|p| format!(":{p}")).unwrap_or_default();
        let mut add = |origin: String, family| out.push(Attack { origin, family });
        add(format!("{s}://{host}.{ATTACKER}"), Family::HostAsPrefix);
        add(format!("{s}://{host}{ATTACKER}"), Family::HostAsPrefix);
        let domain = registered_domain(host);
        let root = domain.clone().unwrap_or_else(|| host.to_string());
        add(format!("{s}://attacker{root}"), Family::GluedToDomain);
        add(format!("{s}://{root}{ATTACKER}"), Family::GluedToDomain);
        if host.contains('.') {
            add(
                format!("{s}://{}{port}", host.replace('.', "a")),
                Family::UnescapedDot,
            );
        }
        if let Some(d) = &domain {
            add(format!("https://attacker.{d}"), Family::Subdomain);
            add(format!("http://attacker.{d}"), Family::HttpDowngrade);
        }
        if base.scheme() == "https" {
            add(format!("http://{host}{port}"), Family::HttpDowngrade);
        }
        for c in ["$", "+", "~", "!"] {
            add(format!("{s}://{host}.{c}.{ATTACKER}"), Family::SpecialChar);
        }
        add(format!("{s}://{host}_.{ATTACKER}"), Family::SpecialChar);
        add(format!("{s}://{host}%60.{ATTACKER}"), Family::SpecialChar);
    }
    let own = target.origin().ascii_serialization();
    let mut skip: BTreeSet<String> = allowed
        .iter()
        .map(|u| u.origin().ascii_serialization())
        .collect();
    skip.insert(own);
    out.retain(|a| skip.insert(a.origin.to_ascii_lowercase()));
    out
}

/// A problem found in one response, or `None` when the response is fine.
pub fn classify(
    attack: &Attack,
    acao: Option<&str>,
    credentials: bool,
) -> Option<(Status, &'static str, String)> {
    let acao = acao?.trim();
    if acao == "*" {
        return credentials.then(|| {
            (Status::Warn, "info", "answers `Access-Control-Allow-Origin: *` with `Allow-Credentials: true`, which browsers reject (broken config); allow specific origins".to_string())
        });
    }
    if !acao.eq_ignore_ascii_case(&attack.origin) {
        return None;
    }
    let family = attack.family.name();
    if credentials {
        let (status, severity) = attack.family.with_credentials();
        Some((
            status,
            severity,
            format!(
                "{severity}: reflects origin `{}` ({family}) with credentials allowed, so that site can read authenticated responses; allow a fixed list of origins",
                attack.origin
            ),
        ))
    } else {
        Some((
            Status::Warn,
            "low",
            format!(
                "low: reflects origin `{}` ({family}) without credentials; allow a fixed list of origins",
                attack.origin
            ),
        ))
    }
}

fn acao(p: &Page) -> Option<&str> {
    p.first("access-control-allow-origin")
        .map(|v| v.get(..256).unwrap_or(v))
}

fn credentials(p: &Page) -> bool {
    p.first("access-control-allow-credentials")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn varies_on_origin(p: &Page) -> bool {
    p.all("vary").iter().any(|v| {
        v.split(',')
            .any(|t| matches!(t.trim().to_ascii_lowercase().as_str(), "origin" | "*"))
    })
}

#[async_trait]
impl Probe for CorsProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues: Vec<ParamIssue> = check_http_url("url", &self.url).into_iter().collect();
        for o in &self.allowed_origins {
            match Url::parse(o) {
                Ok(u)
                    if matches!(u.scheme(), "http" | "https")
                        && u.host().is_some()
                        && u.path() == "/"
                        && !o.ends_with('/') => {}
                _ => issues.push(
                    ParamIssue::new("allowed_origins", format!("`{o}` is not an origin")).hint(
                        "write scheme://host[:port] with no path, like `https://app.example`",
                    ),
                ),
            }
        }
        if self.allowed_origins.len() > MAX_ALLOWED {
            issues.push(ParamIssue::new(
                "allowed_origins",
                format!(
                    "{} origins, more than the cap of {MAX_ALLOWED} (each adds 30 requests)",
                    self.allowed_origins.len()
                ),
            ));
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let client = match page::client(ctx.timeout, &ctx.user_agent, &self.ca_file, None) {
            Ok(c) => c,
            Err(e) => return Outcome::error(e),
        };
        let Ok(target) = Url::parse(&self.url) else {
            return Outcome::error(format!("invalid URL `{}`", self.url));
        };
        let allowed: Vec<Url> = self
            .allowed_origins
            .iter()
            .filter_map(|o| Url::parse(o).ok())
            .collect();
        let attacks = attack_origins(&target, &allowed);
        // (origin, attack index or None for an allowed origin, method)
        let mut jobs: Vec<(String, Option<usize>, Method)> = Vec::new();
        for (i, a) in attacks.iter().enumerate() {
            jobs.push((a.origin.clone(), Some(i), Method::GET));
            jobs.push((a.origin.clone(), Some(i), Method::OPTIONS));
        }
        for o in &self.allowed_origins {
            jobs.push((o.clone(), None, Method::GET));
            jobs.push((o.clone(), None, Method::OPTIONS));
        }
        let deadline = tokio::time::Instant::now() + ctx.timeout;
        let gate = Arc::new(Semaphore::new(PARALLEL));
        let mut set = JoinSet::new();
        for (n, (origin, _, method)) in jobs.iter().enumerate() {
            let (client, gate, url, origin, method) = (
                client.clone(),
                gate.clone(),
                self.url.clone(),
                origin.clone(),
                method.clone(),
            );
            set.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let mut headers = vec![("Origin", origin.as_str())];
                if method == Method::OPTIONS {
                    headers.push(("Access-Control-Request-Method", "GET"));
                }
                (
                    n,
                    page::fetch(&client, method, &url, &headers, 4096, left).await,
                )
            });
        }
        let mut pages: Vec<Option<Result<Page, String>>> = vec![None; jobs.len()];
        while let Some(joined) = set.join_next().await {
            if let Ok((n, result)) = joined
                && let Some(slot) = pages.get_mut(n)
            {
                *slot = Some(result);
            }
        }

        let mut findings: Vec<(Status, String, Value)> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        let mut allowed_report = Vec::new();
        let mut acao_values: BTreeSet<Option<String>> = BTreeSet::new();
        let mut reflected = false;
        let mut missing_vary = false;
        for ((origin, attack, method), page) in jobs.iter().zip(&pages) {
            let page = match page {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    errors.push(e.clone());
                    continue;
                }
                None => {
                    errors.push(format!("{method} with Origin `{origin}` did not finish"));
                    continue;
                }
            };
            let value = acao(page);
            if *method == Method::GET {
                acao_values.insert(value.map(str::to_string));
            }
            if value.is_some_and(|v| v.trim() != "*") && !varies_on_origin(page) {
                missing_vary = true;
            }
            match attack {
                Some(i) => {
                    let Some(a) = attacks.get(*i) else { continue };
                    reflected |= value.is_some_and(|v| v.trim().eq_ignore_ascii_case(&a.origin));
                    if let Some((status, severity, message)) = classify(a, value, credentials(page))
                    {
                        let ev = json!({"origin": a.origin, "family": a.family.name(), "method": method.as_str(), "acao": value, "credentials": credentials(page), "severity": severity, "status": status.as_str()});
                        findings.push((status, format!("{message} [{method}]"), ev));
                    }
                }
                None => {
                    let ok = value
                        .is_some_and(|v| v.trim() == "*" || v.trim().eq_ignore_ascii_case(origin));
                    allowed_report.push(json!({"origin": origin, "method": method.as_str(), "acao": value, "allowed": ok}));
                    if !ok {
                        let (status, why) = if *method == Method::GET {
                            (Status::Fail, "so the browser blocks its reads")
                        } else {
                            (
                                Status::Warn,
                                "in the preflight, so non-simple requests (JSON POST, custom headers) fail",
                            )
                        };
                        let got = value
                            .map(|v| format!("`{v}`"))
                            .unwrap_or_else(|| "no Access-Control-Allow-Origin".into());
                        findings.push((status, format!("allowed origin `{origin}` is refused: {method} got {got}, {why}"), json!({"origin": origin, "method": method.as_str(), "acao": value, "status": status.as_str()})));
                    }
                }
            }
        }
        if (reflected || acao_values.len() > 1) && missing_vary {
            findings.push((Status::Warn, "Access-Control-Allow-Origin depends on the Origin but `Vary: Origin` is missing, so caches can serve one origin's answer to another; add `Vary: Origin`".into(), json!({"vary_origin_missing": true})));
        }
        findings.sort_by_key(|(s, _, _)| {
            std::cmp::Reverse(match s {
                Status::Fail => 2,
                Status::Warn => 1,
                _ => 0,
            })
        });
        let requests = jobs.len();
        let worst = findings
            .iter()
            .fold(Status::Pass, |w, (s, _, _)| w.worst(*s));
        let (status, message) = if let Some((_, first, _)) = findings.first() {
            let more = if findings.len() > 1 {
                format!(" (and {} more)", findings.len() - 1)
            } else {
                String::new()
            };
            (worst, format!("{}: {first}{more}", self.url))
        } else if !errors.is_empty() {
            (
                Status::Error,
                format!(
                    "{}: {} of {requests} requests failed: {}",
                    self.url,
                    errors.len(),
                    errors[0]
                ),
            )
        } else {
            (
                Status::Pass,
                format!(
                    "{}: none of {} attacker origins is allowed ({requests} requests){}",
                    self.url,
                    attacks.len(),
                    if allowed.is_empty() {
                        String::new()
                    } else {
                        format!("; the {} allowed origin(s) work", allowed.len())
                    }
                ),
            )
        };
        let mut outcome = Outcome::new(status, message)
            .with("url", self.url.as_str())
            .with("requests", requests)
            .with("origins_tested", attacks.len())
            .with(
                "findings",
                json!(
                    findings
                        .iter()
                        .map(|(_, m, ev)| {
                            let mut ev = ev.clone();
                            if let Some(o) = ev.as_object_mut() {
                                o.insert("message".into(), json!(m));
                            }
                            ev
                        })
                        .collect::<Vec<_>>()
                ),
            );
        if !allowed_report.is_empty() {
            outcome = outcome.with("allowed_origins", json!(allowed_report));
        }
        if !errors.is_empty() {
            outcome = outcome
                .with("errors", json!(errors.iter().take(5).collect::<Vec<_>>()))
                .with("error_count", errors.len());
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap_or_else(|_| {
            Url::parse("https://invalid.example").unwrap_or_else(|_| unreachable!())
        })
    }

    #[test]
    fn origins_cover_every_family_for_target_and_allowed() {
        let attacks = attack_origins(
            &url("https://api.example.com/v1"),
            &[url("https://app.example")],
        );
        let has = |o: &str| attacks.iter().any(|a| a.origin == o);
        for o in [
            "https://attacker.test",
            "null",
            "https://api.example.com.attacker.test",
            "https://api.example.comattacker.test",
            "https://attackerexample.com",
            "https://apiaexampleacom",
            "https://attacker.example.com",
            "http://attacker.example.com",
            "http://api.example.com",
            "https://api.example.com.$.attacker.test",
            "https://api.example.com%60.attacker.test",
            // The issue's case: an allow-list regex without its end anchor.
            "https://app.example.attacker.test",
            "http://app.example",
        ] {
            assert!(has(o), "missing {o}");
        }
        assert!(!has("https://api.example.com") && !has("https://app.example"));
        assert!(attacks.len() <= 2 + 14 * 2);
    }

    #[test]
    fn registered_domains() {
        assert_eq!(
            registered_domain("a.b.example.com").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            registered_domain("shop.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(registered_domain("127.0.0.1"), None);
        assert_eq!(registered_domain("localhost"), None);
    }

    #[test]
    fn severities() {
        let foreign = Attack {
            origin: "https://attacker.test".into(),
            family: Family::Foreign,
        };
        let sub = Attack {
            origin: "https://attacker.example.com".into(),
            family: Family::Subdomain,
        };
        assert_eq!(
            classify(&foreign, Some("https://attacker.test"), true).map(|c| (c.0, c.1)),
            Some((Status::Fail, "critical"))
        );
        assert_eq!(
            classify(&foreign, Some("https://attacker.test"), false).map(|c| c.0),
            Some(Status::Warn)
        );
        assert_eq!(
            classify(&sub, Some("https://attacker.example.com"), true).map(|c| c.1),
            Some("medium")
        );
        assert_eq!(
            classify(&foreign, Some("*"), true).map(|c| c.0),
            Some(Status::Warn)
        );
        assert_eq!(classify(&foreign, Some("*"), false), None);
        assert_eq!(classify(&foreign, Some("https://app.example"), true), None);
        assert_eq!(classify(&foreign, None, true), None);
    }
}
