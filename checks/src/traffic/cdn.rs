//! `cdn_cache`: one GET of a static asset, whose `Cache-Control` must let a shared cache keep
//! it for at least `min_max_age`: `max-age=0`, `no-store` or no header at all is no CDN setup.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::net::NetParams;
use crate::net::http::Reach;
use crate::net::http::page::Fetcher;
use crate::net::http::request::check_request;
use crate::no_answer::Property;
use crate::outcome::Outcome;
use crate::params::DurationParam;
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Bodies are read up to this much (an asset's size is not judged).
const BODY_CAP: u64 = 256 * 1024;
/// Headers a CDN adds, shown in the evidence (and in the message when present).
const CDN_HEADERS: &[&str] = &[
    "age",
    "x-cache",
    "cf-cache-status",
    "x-served-by",
    "x-amz-cf-pop",
    "cdn-cache-control",
    "via",
];

/// Parameters of `check: { cdn_cache: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CdnCacheProbe {
    /// A hashed static asset (`https://shop.example/assets/app.3f2a1c.js`).
    pub url: String,
    /// The shortest lifetime a shared cache may keep it (`s-maxage`, else `max-age`);
    /// default 1d.
    pub min_max_age: Option<DurationParam>,
    /// Header name → text its value must contain, for the CDN's own marker
    /// (`{ x-cache: Hit }`); none by default.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
}

const DEFAULT_MIN: Duration = Duration::from_secs(86_400);

/// What a `Cache-Control` value allows a shared cache to do.
#[derive(Debug, PartialEq)]
pub enum Cacheable {
    /// Kept this long (`s-maxage` over `max-age`).
    For(Duration),
    /// Not by a shared cache: the directive that forbids it.
    Forbidden(&'static str),
    /// No lifetime given.
    NoLifetime,
}

/// Reads a `Cache-Control` value (RFC 9111 §5.2.2).
pub fn cacheable(value: &str) -> Cacheable {
    let mut max_age = None;
    let mut s_maxage = None;
    for directive in value.split(',') {
        let (name, arg) = match directive.split_once('=') {
            Some((n, a)) => (
                n.trim().to_ascii_lowercase(),
                Some(a.trim().trim_matches('"')),
            ),
            None => (directive.trim().to_ascii_lowercase(), None),
        };
        let secs = arg.and_then(|a| a.parse::<u64>().ok());
        match name.as_str() {
            "no-store" => return Cacheable::Forbidden("no-store"),
            "private" => return Cacheable::Forbidden("private"),
            "no-cache" => return Cacheable::Forbidden("no-cache"),
            "max-age" => max_age = secs.or(Some(0)),
            "s-maxage" => s_maxage = secs.or(Some(0)),
            _ => {}
        }
    }
    match s_maxage.or(max_age) {
        Some(s) => Cacheable::For(Duration::from_secs(s)),
        None => Cacheable::NoLifetime,
    }
}

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[async_trait]
impl Probe for CdnCacheProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = check_request(&self.url, "GET", &BTreeMap::new());
        if self.min_max_age.is_some_and(|d| d.get().is_zero()) {
            issues.push(
                ParamIssue::new("min_max_age", "`min_max_age` of 0 accepts `max-age=0`")
                    .hint("hashed assets are usually cached for a year: `365d`; at least `1d`"),
            );
        }
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        Reach::new(&self.url, &self.ca_file, net).check()
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let reach = Reach::new(&self.url, &self.ca_file, &ctx.net);
        let (spec, client) = match reach.request(ctx, "GET", &BTreeMap::new()) {
            Ok(r) => r,
            Err(e) => return Outcome::error(e),
        };
        let page = match Fetcher::with_client(ctx, client)
            .one_shot()
            .fetch(&spec, BODY_CAP)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                return Outcome::new(e.status(Property::Reachability), e.message.clone())
                    .with_evidence(e.evidence)
                    .with("url", self.url.as_str());
            }
        };
        let min = self.min_max_age.map_or(DEFAULT_MIN, DurationParam::get);
        let control = page.first("cache-control").map(str::to_string);
        let markers: BTreeMap<&str, String> = CDN_HEADERS
            .iter()
            .filter_map(|h| page.first(h).map(|v| (*h, v.to_string())))
            .collect();
        let evidence = |o: Outcome| {
            o.with("url", self.url.as_str())
                .with("status", page.status)
                .with("cache_control", json!(control))
                .with("cdn_headers", json!(markers))
        };
        let mut problems = Vec::new();
        if !(200..300).contains(&page.status) {
            problems.push(format!("answered {}, not the asset", page.status));
        }
        match control.as_deref().map(cacheable) {
            None => problems.push(
                "no Cache-Control header: a CDN keeps it only by its own defaults, if at all"
                    .to_string(),
            ),
            Some(Cacheable::Forbidden(d)) => problems.push(format!(
                "Cache-Control `{}` ({d}) keeps it out of a shared cache",
                control.as_deref().unwrap_or_default()
            )),
            Some(Cacheable::NoLifetime) => problems.push(format!(
                "Cache-Control `{}` gives no max-age or s-maxage",
                control.as_deref().unwrap_or_default()
            )),
            Some(Cacheable::For(d)) if d < min => problems.push(format!(
                "Cache-Control `{}` keeps it {}, under min_max_age {}",
                control.as_deref().unwrap_or_default(),
                if d.is_zero() {
                    "0 s".to_string()
                } else {
                    human(d)
                },
                human(min)
            )),
            Some(Cacheable::For(_)) => {}
        }
        for (name, want) in &self.headers {
            match page.first(&name.to_ascii_lowercase()) {
                None => problems.push(format!("header `{name}` missing")),
                Some(v) if !v.contains(want.as_str()) => problems.push(format!(
                    "header `{name}` is `{v}`, expected it to contain `{want}`"
                )),
                Some(_) => {}
            }
        }
        let seen = if markers.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = markers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!(" ({})", list.join(", "))
        };
        if problems.is_empty() {
            evidence(Outcome::pass(format!(
                "{}: Cache-Control `{}`{seen}",
                self.url,
                control.as_deref().unwrap_or_default()
            )))
        } else {
            evidence(Outcome::fail(format!(
                "{}: {}{seen}",
                self.url,
                problems.join("; ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_is_read_as_a_shared_cache_would() {
        let year = Duration::from_secs(31_536_000);
        assert_eq!(
            cacheable("public, max-age=31536000, immutable"),
            Cacheable::For(year)
        );
        assert_eq!(cacheable("max-age=0"), Cacheable::For(Duration::ZERO));
        assert_eq!(
            cacheable("max-age=60, s-maxage=\"31536000\""),
            Cacheable::For(year)
        );
        assert_eq!(cacheable("public"), Cacheable::NoLifetime);
        assert_eq!(
            cacheable("private, max-age=600"),
            Cacheable::Forbidden("private")
        );
        assert_eq!(cacheable("No-Store"), Cacheable::Forbidden("no-store"));
        assert_eq!(cacheable("max-age=abc"), Cacheable::For(Duration::ZERO));
    }
}
