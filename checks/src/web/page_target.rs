//! The page a web probe reads: its URL, `ca_file` and request `headers`. Checking them and
//! building the fetcher that reads the page are written once here, for every web probe.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::net::NetParams;
use crate::net::http::Reach;
use crate::net::http::page::Fetcher;
use crate::net::http::request::{check_headers, check_http_url};
use crate::probe::{ParamIssue, ProbeContext};

/// One web item's page parameters, borrowed from its probe.
#[derive(Debug, Clone, Copy)]
pub struct PageTarget<'a> {
    /// The parameter that holds the URL (`url`, `base_url`), for messages.
    pub param: &'static str,
    pub url: &'a str,
    pub ca_file: &'a Option<PathBuf>,
    pub headers: &'a BTreeMap<String, String>,
}

impl<'a> PageTarget<'a> {
    /// The page at `url`, held by the parameter `param`.
    pub fn new(
        param: &'static str,
        url: &'a str,
        ca_file: &'a Option<PathBuf>,
        headers: &'a BTreeMap<String, String>,
    ) -> Self {
        PageTarget {
            param,
            url,
            ca_file,
            headers,
        }
    }

    /// Load-time issues of the URL (absolute http(s)) and the headers (sendable).
    pub fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues: Vec<ParamIssue> =
            check_http_url(self.param, self.url).into_iter().collect();
        issues.extend(check_headers(self.headers));
        issues
    }

    /// The URL reached with `ca_file` and the item's network parameters `net`.
    pub fn reach(&self, net: &'a NetParams) -> Reach<'a> {
        Reach::new(self.url, self.ca_file, net)
    }

    /// Load-time issues of the network parameters for this URL.
    pub fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        Reach::new(self.url, self.ca_file, net).check()
    }

    /// A fetcher for this page under `ctx` that sends the item's headers with every request,
    /// following at most `max_redirects` redirects (none when `None`).
    pub fn fetcher(
        &self,
        ctx: &ProbeContext,
        max_redirects: Option<usize>,
    ) -> Result<Fetcher, String> {
        Fetcher::new(
            ctx,
            &Reach::new(self.url, self.ca_file, &ctx.net),
            max_redirects,
        )
        .map(|f| f.with_headers(self.headers))
    }
}
