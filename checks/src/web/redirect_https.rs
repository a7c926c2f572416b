//! `redirect_https`: a plain-HTTP URL must redirect to HTTPS, judged by the Observatory
//! redirection rules (first hop to HTTPS on the same host, final URL HTTPS). Hops are followed by hand.

use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::net::NetParams;
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::web::http::check_http_url;
use crate::web::observatory::grade::status_for;
use crate::web::page_target::PageTarget;

/// At most this many redirects are followed.
const MAX_HOPS: usize = 10;

/// Parameters of `check: { redirect_https: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectHttpsProbe {
    /// The plain-HTTP URL (`http://example.com/`).
    pub url: String,
    /// PEM bundle added to the trusted roots (for the HTTPS hops).
    pub ca_file: Option<PathBuf>,
    /// Extra request headers, e.g. `Authorization: "Basic ${env:STAGING_AUTH}"` for a staging
    /// site behind basic auth (values from `${env:…}` are redacted).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

/// The Observatory redirection verdict for a chain of visited URLs (start first):
/// (result, modifier, pass, message).
pub fn judge(chain: &[Url]) -> (&'static str, i32, bool, String) {
    let (Some(start), Some(last)) = (chain.first(), chain.last()) else {
        return ("redirection-missing", -20, false, "no response".into());
    };
    let Some(first_hop) = chain.get(1) else {
        return (
            "redirection-missing",
            -20,
            false,
            format!(
                "stays on plain HTTP: no redirect; answer with a 301 to https://{}/",
                start.host_str().unwrap_or_default()
            ),
        );
    };
    if last.scheme() != "https" {
        return (
            "redirection-not-to-https",
            -20,
            false,
            format!("redirects, but ends on plain HTTP at `{last}`; redirect to an https:// URL"),
        );
    }
    if first_hop.scheme() != "https" {
        return (
            "redirection-not-to-https-on-initial-redirection",
            -10,
            false,
            format!(
                "reaches HTTPS only after a detour through `{first_hop}`; make the first redirect go to https://{}/",
                start.host_str().unwrap_or_default()
            ),
        );
    }
    if first_hop.host_str() != start.host_str() {
        return (
            "redirection-off-host-from-http",
            -5,
            false,
            format!(
                "the first redirect leaves `{}` for `{}`, so HSTS for `{}` is never set; redirect to HTTPS on the same host first",
                start.host_str().unwrap_or_default(),
                first_hop.host_str().unwrap_or_default(),
                start.host_str().unwrap_or_default()
            ),
        );
    }
    (
        "redirection-to-https",
        0,
        true,
        format!("redirects to `{first_hop}`, ends on `{last}`"),
    )
}

#[async_trait]
impl Probe for RedirectHttpsProbe {
    fn planned_requests(&self) -> Vec<(String, u32)> {
        crate::politeness::requests_to(&self.url, 2)
    }

    fn check_params(&self) -> Vec<ParamIssue> {
        let header_issues = crate::net::http::request::check_headers(&self.headers);
        if !header_issues.is_empty() {
            return header_issues;
        }
        if let Some(issue) = check_http_url("url", &self.url) {
            return vec![issue];
        }
        if !self.url.starts_with("http://") {
            return vec![
                ParamIssue::new("url", format!("`{}` is not a plain-HTTP URL", self.url))
                    .hint("give the http:// URL whose redirect to HTTPS is checked"),
            ];
        }
        Vec::new()
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        // The address checks only once the URL itself is acceptable.
        if !self.check_params().is_empty() {
            return Vec::new();
        }
        self.page().check_net(net)
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let fetcher = match self.page().fetcher(ctx, None) {
            Ok(f) => f,
            Err(e) => return Outcome::error(e),
        };
        let Ok(mut current) = Url::parse(&self.url) else {
            return Outcome::error(format!("invalid URL `{}`", self.url));
        };
        let mut chain = vec![current.clone()];
        let last_status = loop {
            let page = match fetcher.get(current.as_str(), &[], 16 * 1024).await {
                Ok(p) => p,
                Err(no_page) => {
                    let e = &no_page.message;
                    let hops = json!(chain.iter().map(Url::as_str).collect::<Vec<_>>());
                    if chain.len() == 1 && no_page.why == NoAnswer::Refused {
                        // Observatory: HTTP not reachable means there is no plain-HTTP page to protect.
                        return Outcome::pass(format!("{}: nothing answers on plain HTTP ({e}), so there is no HTTP page to redirect", self.url)).with("result", "redirection-not-needed-no-http");
                    }
                    if current.scheme() == "https" && no_page.why == NoAnswer::TlsRejected {
                        return Outcome::fail(format!(
                            "{}: invalid certificate during the redirects: {e}",
                            self.url
                        ))
                        .with("result", "redirection-invalid-cert")
                        .with("no_answer", no_page.why.as_str())
                        .with("chain", hops);
                    }
                    let context = format!("{}: cannot follow the redirects", self.url);
                    return no_page
                        .outcome(Property::Content, &context)
                        .with("chain", hops);
                }
            };
            if !(300..400).contains(&page.status) {
                break page.status;
            }
            let Some(location) = page.first("location") else {
                break page.status;
            };
            let Ok(next) = current.join(location) else {
                return Outcome::fail(format!(
                    "{}: redirect to an invalid Location `{location}`",
                    self.url
                ));
            };
            if chain.len() > MAX_HOPS {
                return Outcome::fail(format!(
                    "{}: more than {MAX_HOPS} redirects (loop?)",
                    self.url
                ))
                .with(
                    "chain",
                    json!(chain.iter().map(Url::as_str).collect::<Vec<_>>()),
                );
            }
            chain.push(next.clone());
            current = next;
        };
        let (result, modifier, pass, message) = judge(&chain);
        Outcome::new(
            status_for(pass, modifier),
            format!("{}: {message}", self.url),
        )
        .with("result", result)
        .with("modifier", modifier)
        .with("final_status", last_status)
        .with(
            "chain",
            json!(chain.iter().map(Url::as_str).collect::<Vec<_>>()),
        )
    }
}

impl RedirectHttpsProbe {
    /// The page this item reads.
    fn page(&self) -> PageTarget<'_> {
        PageTarget::new("url", &self.url, &self.ca_file, &self.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(urls: &[&str]) -> Vec<Url> {
        urls.iter().filter_map(|u| Url::parse(u).ok()).collect()
    }

    #[test]
    fn observatory_redirection_rules() {
        let r = |u: &[&str]| {
            let (result, modifier, _, _) = judge(&chain(u));
            (result, modifier)
        };
        assert_eq!(
            r(&["http://a.example/", "https://a.example/"]),
            ("redirection-to-https", 0)
        );
        assert_eq!(r(&["http://a.example/"]), ("redirection-missing", -20));
        assert_eq!(
            r(&["http://a.example/", "http://a.example/x"]),
            ("redirection-not-to-https", -20)
        );
        assert_eq!(
            r(&[
                "http://a.example/",
                "http://www.a.example/",
                "https://www.a.example/"
            ]),
            ("redirection-not-to-https-on-initial-redirection", -10)
        );
        assert_eq!(
            r(&["http://a.example/", "https://www.a.example/"]),
            ("redirection-off-host-from-http", -5)
        );
    }
}
