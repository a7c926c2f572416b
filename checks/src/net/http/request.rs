//! The one parser of a probe's request parameters (url, method, headers) into typed values:
//! `check_params` reports its issues, `run` uses its result, so they can never disagree.

use std::collections::BTreeMap;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::probe::ParamIssue;

/// A validated request: what `http`, `latency` and `rate_limit` send.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<String>,
}

impl RequestSpec {
    /// Parses the request parameters; every problem is reported, at its field.
    pub fn parse(
        url: &str,
        method: &str,
        headers: &BTreeMap<String, String>,
    ) -> Result<RequestSpec, Vec<ParamIssue>> {
        let mut issues: Vec<ParamIssue> = Vec::new();
        let parsed_url = match parse_http_url("url", url) {
            Ok(u) => Some(u),
            Err(issue) => {
                issues.push(issue);
                None
            }
        };
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| {
                issues.push(ParamIssue::new(
                    "method",
                    format!("invalid HTTP method `{method}`"),
                ))
            })
            .ok();
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            match HeaderName::from_bytes(name.as_bytes()) {
                Err(_) => issues.push(ParamIssue::new(
                    "headers",
                    format!("invalid header name `{name}`"),
                )),
                Ok(n) => match HeaderValue::from_str(value) {
                    Err(_) => issues.push(ParamIssue::new(
                        "headers",
                        format!("invalid value for header `{name}`"),
                    )),
                    Ok(v) => {
                        map.append(n, v);
                    }
                },
            }
        }
        match (parsed_url, method) {
            (Some(url), Some(method)) if issues.is_empty() => Ok(RequestSpec {
                method,
                url,
                headers: map,
                body: None,
            }),
            _ => Err(issues),
        }
    }

    /// [`Self::parse`] for `run`, its issues in one line (`check_params` has shown them at
    /// their fields already).
    pub fn parse_text(
        url: &str,
        method: &str,
        headers: &BTreeMap<String, String>,
    ) -> Result<RequestSpec, String> {
        Self::parse(url, method, headers).map_err(|issues| {
            let text: Vec<_> = issues.iter().map(|i| i.message.as_str()).collect();
            text.join("; ")
        })
    }

    /// A plain GET of `url` (the web security probes).
    pub fn get(url: &str) -> Result<RequestSpec, String> {
        let url = parse_http_url("url", url).map_err(|i| i.message)?;
        Ok(RequestSpec {
            method: Method::GET,
            url,
            headers: HeaderMap::new(),
            body: None,
        })
    }

    /// Adds a header; names and values come from prodcheck itself (`Origin`, …), and one
    /// that is not valid is left out.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.append(n, v);
        }
        self
    }

    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The host the politeness limits are kept for (lowercase, without port).
    pub fn host(&self) -> String {
        host_key(&self.url)
    }

    /// `GET https://example.com/` — how messages name the request.
    pub fn target(&self) -> String {
        format!("{} {}", self.method, self.url)
    }
}

/// The per-host politeness key of a URL.
pub fn host_key(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

fn parse_http_url(field: &'static str, url: &str) -> Result<Url, ParamIssue> {
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        Ok(u) => Err(ParamIssue::new(
            field,
            format!("`{url}` is not an http(s) URL (scheme `{}`)", u.scheme()),
        )
        .hint("write a full URL such as `https://example.com/health`")),
        Err(e) => Err(ParamIssue::new(field, format!("invalid URL `{url}`: {e}"))
            .hint("write a full URL such as `https://example.com/health`")),
    }
}

/// Checks that a URL parameter is absolute http(s); shared by every HTTP probe.
pub fn check_http_url(field: &'static str, url: &str) -> Option<ParamIssue> {
    parse_http_url(field, url).err()
}

/// Validates an item's extra `headers` (names and values must be sendable).
pub fn check_headers(headers: &BTreeMap<String, String>) -> Vec<ParamIssue> {
    RequestSpec::parse("http://headers.check/", "GET", headers)
        .err()
        .unwrap_or_default()
}

/// Validates the request part shared by every HTTP probe: an http(s) URL, a method, headers.
pub fn check_request(
    url: &str,
    method: &str,
    headers: &BTreeMap<String, String>,
) -> Vec<ParamIssue> {
    RequestSpec::parse(url, method, headers)
        .err()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parse_reports_every_field_or_gives_typed_values() {
        let mut h = BTreeMap::new();
        h.insert("X-Key".to_string(), "a".to_string());
        let ok = RequestSpec::parse("https://Example.com/x", "POST", &h);
        let ok = ok.ok();
        assert_eq!(ok.as_ref().map(|r| r.method.as_str()), Some("POST"));
        assert_eq!(
            ok.as_ref().map(RequestSpec::host).as_deref(),
            Some("example.com")
        );
        assert_eq!(
            ok.as_ref()
                .and_then(|r| r.headers.get("x-key"))
                .map(|v| v.as_bytes()),
            Some(&b"a"[..])
        );
        h.insert("bad name".to_string(), "a".to_string());
        let issues = check_request("ftp://x", "GE T", &h);
        let fields: Vec<_> = issues.iter().map(|i| i.field).collect();
        assert_eq!(fields, ["url", "method", "headers"]);
        assert_eq!(issues[1].message, "invalid HTTP method `GE T`");
        assert_eq!(issues[2].message, "invalid header name `bad name`");
    }
}
