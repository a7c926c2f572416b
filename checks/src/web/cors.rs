//! `cors`: attacker origins from every nuclei family, derived from the target host and from
//! each allowed origin, sent as a simple GET and as a preflight; reflections are graded.

use std::collections::BTreeSet;
use std::path::PathBuf;

use async_trait::async_trait;
use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::net::NetParams;
use crate::net::http::page::Page;
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::web::cors_origins::{attack_origins, classify, groups};
use crate::web::observatory;
use crate::web::page_target::PageTarget;

mod rounds;

/// Who can read the response when `public` of `answers` attacker GETs got a bare `*`.
fn public_access(public: usize, answers: usize) -> Option<String> {
    match public {
        0 => None,
        n if n == answers => Some("every origin".into()),
        n => Some(format!("{n} of {answers} attacker origins")),
    }
}

/// At most this many `allowed_origins`: with 14 attack origins per base, a GET per origin,
/// an OPTIONS per family and two per allowed origin, an item sends at most
/// (2 + 14 × 6) + (2 + 6 × 6) + 2 × 5 = 134 requests, and against an allow-list that lets no
/// attacker through, one GET per family, two OPTIONS and two per allowed origin (10 with none).
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
    pub ca_file: Option<PathBuf>,
    /// Extra request headers, e.g. `Authorization: "Basic ${env:STAGING_AUTH}"` for a staging
    /// site behind basic auth (values from `${env:…}` are redacted).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
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
    fn planned_requests(&self) -> Vec<(String, u32)> {
        // Against an allow-list that holds: one GET per family, two OPTIONS, two per allowed.
        let (Ok(target), allowed) = (
            Url::parse(&self.url),
            self.allowed_origins
                .iter()
                .filter_map(|o| Url::parse(o).ok())
                .collect::<Vec<_>>(),
        ) else {
            return Vec::new();
        };
        let families = groups(&attack_origins(&target, &allowed)).len();
        let n = families + 2 + 2 * self.allowed_origins.len();
        crate::politeness::requests_to(&self.url, n as u32)
    }

    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = self.page().check_params();
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

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        self.page().check_net(net)
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        // Paced: up to 134 requests to one host must not trip its limiter (see `Politeness`).
        let fetcher = match self.page().fetcher(ctx, None) {
            Ok(f) => f.paced(),
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
        let (jobs, pages) =
            match rounds::ask(&fetcher, &self.url, &attacks, &self.allowed_origins).await {
                Ok(asked) => asked,
                Err(e) => {
                    return e
                        .outcome(Property::Content, "cannot check CORS")
                        .with("url", self.url.as_str());
                }
            };
        let observatory = match pages.first() {
            Some(Some(Ok(p))) => observatory::cors::evaluate(
                acao(p),
                jobs.first().map(|(o, _, _)| o.as_str()),
                p.first("access-control-allow-credentials"),
            ),
            _ => return Outcome::error("no origin to test"),
        };

        let mut findings: Vec<(Status, String, Value)> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        let (mut error_status, mut error_why) = (Status::Error, NoAnswer::Other);
        let mut allowed_report = Vec::new();
        let mut acao_values: BTreeSet<Option<String>> = BTreeSet::new();
        let mut reflected = false;
        let mut missing_vary = false;
        // Attacker GETs answered, and how many of them got `*` without credentials.
        let (mut attack_answers, mut public) = (0usize, 0usize);
        for ((origin, attack, method), page) in jobs.iter().zip(&pages) {
            let page = match page {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    if errors.is_empty() {
                        error_status = e.status(Property::Content);
                        error_why = e.why.clone();
                    }
                    errors.push(e.message.clone());
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
                    if *method == Method::GET {
                        attack_answers += 1;
                        if value.is_some_and(|v| v.trim() == "*") && !credentials(page) {
                            public += 1;
                        }
                    }
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
        let everyone = public_access(public, attack_answers);
        if let Some(who) = &everyone
            && !allowed.is_empty()
        {
            // First among equals: it is the headline.
            findings.insert(0, (Status::Warn, format!("you listed allowed origins, yet everyone is allowed: `Access-Control-Allow-Origin: *` lets {who} read the response (without credentials); answer only the allowed origins"), json!({"public_access": public, "attack_requests": attack_answers})));
        }
        // The same answer to many origins (`*` with credentials) is one finding, not dozens.
        let mut seen = BTreeSet::new();
        findings.retain(|(_, m, _)| seen.insert(m.clone()));
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
                error_status,
                format!(
                    "{}: {} of {requests} requests failed: {}",
                    self.url,
                    errors.len(),
                    errors[0]
                ),
            )
        } else if let Some(who) = &everyone {
            (
                Status::Pass,
                format!(
                    "{}: `Access-Control-Allow-Origin: *` lets {who} read the response without credentials (public data only; no origin is reflected, {requests} requests)",
                    self.url
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
            .with("result", observatory.result.as_str())
            .with("modifier", observatory.modifier)
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
                .with("error_count", errors.len())
                .with("no_answer", error_why.as_str());
        }
        outcome
    }
}

impl CorsProbe {
    /// The page this item reads.
    fn page(&self) -> PageTarget<'_> {
        PageTarget::new("url", &self.url, &self.ca_file, &self.headers)
    }
}
