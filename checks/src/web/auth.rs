//! `auth`: each listed endpoint must refuse an unauthenticated request (401 with
//! WWW-Authenticate, or 403); a 2xx is a fail naming the URL.

use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::net::NetParams;
use crate::net::http::page;
use crate::no_answer::Property;
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::web::http::check_http_url;
use crate::web::page_target::PageTarget;

/// At most this many URLs per item (one request each).
const MAX_URLS: usize = 50;

/// Parameters of `check: { auth: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthProbe {
    /// Endpoints that must refuse a request carrying no credentials.
    pub urls: Vec<String>,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
    /// Credentials for an authenticated request to each URL (e.g. `Authorization: "Bearer
    /// ${env:API_TOKEN}"`): when given, each URL must also *accept* them, so a 401 proves an
    /// auth gate rather than an endpoint that refuses everyone.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

/// The verdict for one unauthenticated response.
pub fn judge(status: u16, www_authenticate: bool, location: Option<&str>) -> (Status, String) {
    match status {
        401 if www_authenticate => (Status::Pass, "refused with 401".into()),
        401 => (
            Status::Warn,
            "refused with 401 but no WWW-Authenticate header (required by RFC 9110)".into(),
        ),
        403 => (Status::Pass, "refused with 403".into()),
        200..=299 => (
            Status::Fail,
            format!("answered {status} without credentials; it must answer 401 or 403"),
        ),
        300..=399 => (
            Status::Warn,
            format!(
                "redirects ({status}) to `{}` instead of refusing; expected 401 or 403",
                location.unwrap_or("?")
            ),
        ),
        404 => (
            Status::Warn,
            "answered 404: cannot tell whether authentication is enforced; check the URL".into(),
        ),
        s if s >= 500 => (
            Status::Error,
            format!("answered {s}: the endpoint is broken, so authentication cannot be checked"),
        ),
        s => (Status::Warn, format!("answered {s}; expected 401 or 403")),
    }
}

impl AuthProbe {
    /// The URL whose host `resolve` pins.
    fn first_url(&self) -> &str {
        self.urls.first().map(String::as_str).unwrap_or_default()
    }
}

#[async_trait]
impl Probe for AuthProbe {
    fn planned_requests(&self) -> Vec<(String, u32)> {
        let hosts = self
            .urls
            .iter()
            .filter_map(|u| crate::politeness::host_of(u));
        hosts.map(|h| (h, 1)).collect()
    }

    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues: Vec<ParamIssue> = self
            .urls
            .iter()
            .filter_map(|u| check_http_url("urls", u))
            .collect();
        issues.extend(ParamIssue::list_size(
            "urls",
            self.urls.len(),
            MAX_URLS,
            "URLs",
            "list the endpoints that must require authentication",
        ));
        issues.extend(crate::net::http::request::check_headers(&self.headers));
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        self.page().check_net(net)
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        // Without the item's headers: the point is what an anonymous request gets.
        let fetcher = match page::Fetcher::new(ctx, &self.page().reach(&ctx.net), None) {
            Ok(f) => f.paced(),
            Err(e) => return Outcome::error(e),
        };
        let authenticated = fetcher.clone().with_headers(&self.headers);
        let mut worst = Status::Pass;
        let mut bad: Vec<String> = Vec::new();
        let mut results = Vec::new();
        let mut first_no_answer: Option<&str> = None;
        for url in &self.urls {
            let (status, message, code, no_answer) = match fetcher.get(url, &[], 4096).await {
                Ok(p) => {
                    let (s, m) = judge(
                        p.status,
                        p.first("www-authenticate").is_some(),
                        p.first("location"),
                    );
                    (s, m, Some(p.status), None)
                }
                Err(e) => (
                    e.status(Property::Content),
                    e.message,
                    None,
                    Some(e.why.as_str()),
                ),
            };
            let (status, message, with_credentials) = if matches!(
                status,
                Status::Pass | Status::Warn
            ) && !self.headers.is_empty()
            {
                match authenticated.get(url, &[], 4096).await {
                    Ok(p) if matches!(p.status, 401 | 403) => (
                        Status::Fail,
                        format!(
                            "refuses the authenticated request too ({}): the credentials in `headers` are rejected, or the endpoint refuses everyone",
                            p.status
                        ),
                        Some(p.status),
                    ),
                    Ok(p) => (
                        status,
                        format!("{message}; accepts the credentials ({})", p.status),
                        Some(p.status),
                    ),
                    Err(e) => (
                        e.status(Property::Content),
                        format!("authenticated request: {}", e.message),
                        None,
                    ),
                }
            } else {
                (status, message, None)
            };
            if status != Status::Pass {
                bad.push(format!("{url} {message}"));
            }
            worst = worst.worst(status);
            let mut entry =
                json!({"url": url, "status": code, "verdict": status.as_str(), "message": message});
            if let (Some(code), Some(o)) = (with_credentials, entry.as_object_mut()) {
                o.insert("status_with_credentials".into(), json!(code));
            }
            if let (Some(why), Some(o)) = (no_answer, entry.as_object_mut()) {
                o.insert("no_answer".into(), json!(why));
                first_no_answer.get_or_insert(why);
            }
            results.push(entry);
        }
        let message = if bad.is_empty() {
            format!(
                "all {} endpoint(s) refuse unauthenticated requests",
                self.urls.len()
            )
        } else {
            bad.join("; ")
        };
        let outcome = Outcome::new(worst, message).with("urls", json!(results));
        match first_no_answer {
            Some(why) => outcome.with("no_answer", why),
            None => outcome,
        }
    }
}

impl AuthProbe {
    /// The page this item reads.
    fn page(&self) -> PageTarget<'_> {
        PageTarget::new("urls", self.first_url(), &self.ca_file, &self.headers)
    }
}
