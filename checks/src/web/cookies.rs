//! `cookies`: every Set-Cookie of one response judged by the Observatory cookie rules; the
//! worst cookie decides, and each cookie is named in the evidence with its value redacted.

use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::net::NetParams;
use crate::no_answer::Property;
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::web::observatory::{cookies, headers};
use crate::web::page_target::PageTarget;

/// Parameters of `check: { cookies: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CookiesProbe {
    /// The page whose `Set-Cookie` headers are judged (a login page is a good choice).
    pub url: String,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
    /// Extra request headers, e.g. `Authorization: "Basic ${env:STAGING_AUTH}"` for a staging
    /// site behind basic auth (values from `${env:…}` are redacted).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The page must set at least one cookie (a login page that sets none proves nothing:
    /// `fail`). Without it, a page that sets no cookie passes.
    #[serde(default)]
    pub require_cookie: bool,
}

#[async_trait]
impl Probe for CookiesProbe {
    fn planned_requests(&self) -> Vec<(String, u32)> {
        crate::politeness::requests_to(&self.url, 1)
    }

    fn check_params(&self) -> Vec<ParamIssue> {
        self.page().check_params()
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        self.page().check_net(net)
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let fetcher = match self.page().fetcher(ctx, None) {
            Ok(f) => f,
            Err(e) => return Outcome::error(e),
        };
        let page = match fetcher.get(&self.url, &[], 16 * 1024).await {
            Ok(p) => p,
            Err(e) => {
                return e
                    .outcome(Property::Content, "cannot judge cookies")
                    .with("url", self.url.as_str());
            }
        };
        let https = page.https();
        // The Observatory softens the Secure rule when HSTS (at its own threshold) holds.
        let hsts_ok = headers::hsts(&page.headers, https, 15_552_000).modifier >= 0;
        let raw = page.all("set-cookie");
        let parsed: Vec<cookies::Cookie> = raw.iter().filter_map(|s| cookies::parse(s)).collect();
        if parsed.is_empty() && self.require_cookie {
            return Outcome::fail(format!(
                "{}: sets no cookie, so there is no session cookie to judge (require_cookie); point `url` at the page that sets it",
                self.url
            ))
            .with("url", self.url.as_str())
            .with("status", page.status);
        }
        let (finding, verdicts) = cookies::evaluate(&parsed, https, hsts_ok);
        let status = match finding.modifier {
            m if m >= 0 => Status::Pass,
            m if m > -20 => Status::Warn,
            _ => Status::Fail,
        };
        let names: Vec<&str> = parsed.iter().map(|c| c.name.as_str()).collect();
        let message = match (status, parsed.is_empty()) {
            (Status::Pass, true) => format!("{}: sets no cookies", self.url),
            (Status::Pass, false) => format!(
                "{}: {} cookie(s) ({}): {}",
                self.url,
                parsed.len(),
                names.join(", "),
                finding.message
            ),
            _ => format!("{}: {}", self.url, finding.message),
        };
        let redacted: Vec<_> = verdicts
            .iter()
            .map(|v| {
                json!({
                    "name": v.cookie.name,
                    "value": "***",
                    "secure": v.cookie.secure,
                    "http_only": v.cookie.http_only,
                    "same_site": v.cookie.same_site,
                    "session": v.session,
                    "result": v.result,
                    "modifier": v.modifier,
                    "message": v.message,
                })
            })
            .collect();
        let mut outcome = Outcome::new(status, message)
            .with("url", self.url.as_str())
            .with("status", page.status)
            .with("result", finding.result.as_str())
            .with("modifier", finding.modifier)
            .with("cookies", json!(redacted));
        if raw.len() != parsed.len() {
            outcome = outcome.with("unparsable_set_cookie", raw.len() - parsed.len());
        }
        outcome
    }
}

impl CookiesProbe {
    /// The page this item reads.
    fn page(&self) -> PageTarget<'_> {
        PageTarget::new("url", &self.url, &self.ca_file, &self.headers)
    }
}
