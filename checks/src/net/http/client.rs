//! HTTP plumbing shared by every HTTP-speaking probe: one way to build a client (roots,
//! `ca_file`, redirects, timeouts), one capped body reader, one wording for transport errors.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::{Client, Response, redirect};

use crate::net::NetParams;
use crate::net::http::request::RequestSpec;

/// How a probe wants its HTTP client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientOptions {
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
    /// `None`: never follow redirects; `Some(n)`: follow at most `n`.
    pub max_redirects: Option<usize>,
    pub timeout: Duration,
    pub user_agent: String,
    /// The proxy setting (environment proxies by default, none, or one URL), the address
    /// family connected to, and the client certificate presented (when both halves are set).
    pub net: NetParams,
    /// `resolve`: `(host, addresses)` used for the URL's host instead of DNS.
    pub pinned: Option<(String, crate::net::Resolve)>,
    /// Keep the server's certificate on each response (`reqwest::tls::TlsInfo`).
    pub tls_info: bool,
}

impl ClientOptions {
    pub fn new(timeout: Duration, user_agent: &str) -> Self {
        ClientOptions {
            ca_file: None,
            insecure: false,
            max_redirects: None,
            timeout,
            user_agent: user_agent.to_string(),
            net: NetParams::default(),
            pinned: None,
            tls_info: false,
        }
    }

    /// Options for a probe attempt: its budget, user agent and the proxy setting in force.
    pub fn for_probe(ctx: &crate::probe::ProbeContext) -> Self {
        let mut opts = Self::new(ctx.timeout, &ctx.user_agent);
        opts.net.proxy = ctx.net.proxy.clone();
        opts
    }

    /// Keeps to `net`'s family, presents its certificate and uses its `resolve` for `url`'s
    /// host; the proxy setting stays the one already chosen.
    pub fn reach(mut self, url: &str, net: &NetParams) -> Self {
        self.net = NetParams {
            proxy: self.net.proxy.take(),
            ..net.clone()
        };
        self.pinned = if net.resolve.is_empty() {
            None
        } else {
            url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                .map(|host| (host, net.resolve.clone()))
        };
        self
    }
}

/// An item's own network parameters, as every HTTP-based probe hands them to the client.
#[derive(Debug, Clone, Copy)]
pub struct Reach<'a> {
    /// The URL whose host `resolve` pins (the item's `url`, `base_url` or first of `urls`).
    pub url: &'a str,
    pub ca_file: &'a Option<PathBuf>,
    pub net: &'a NetParams,
}

impl<'a> Reach<'a> {
    /// `url` reached with the item's `ca_file` and network parameters.
    pub fn new(url: &'a str, ca_file: &'a Option<PathBuf>, net: &'a NetParams) -> Self {
        Reach { url, ca_file, net }
    }

    /// Client options for this item under `ctx`. Pinned addresses cannot go through a proxy
    /// (the proxy picks the address): that is refused here, in words.
    pub fn options(&self, ctx: &crate::probe::ProbeContext) -> Result<ClientOptions, String> {
        let mut opts = ClientOptions::for_probe(ctx).reach(self.url, self.net);
        opts.ca_file = self.ca_file.clone();
        if self.net.pins_addresses()
            && let Some(proxy) = ctx.net.proxy_setting().used_for(self.url)
        {
            let what = if self.net.resolve.is_empty() {
                format!("`ip_family: {}`", self.net.ip_family.as_str())
            } else {
                "`resolve`".to_string()
            };
            return Err(format!(
                "{what} cannot be honoured through the proxy {proxy}: the proxy chooses the address of the host itself; set `proxy: none` on the item (or list the host in NO_PROXY) to connect directly"
            ));
        }
        Ok(opts)
    }

    /// The shared client for this item under `ctx` (see [`Self::options`]).
    pub fn client(&self, ctx: &crate::probe::ProbeContext) -> Result<Client, String> {
        client(&self.options(ctx)?)
    }

    /// What `run` of a probe that sends its own request needs: the request made of `url`,
    /// `method` and `headers`, and the client for it under `ctx`.
    pub fn request(
        &self,
        ctx: &crate::probe::ProbeContext,
        method: &str,
        headers: &std::collections::BTreeMap<String, String>,
    ) -> Result<(RequestSpec, Client), String> {
        let spec = RequestSpec::parse_text(self.url, method, headers)?;
        Ok((spec, self.client(ctx)?))
    }

    /// `check_params` for these: a literal address of the wrong family, useless `resolve`.
    pub fn check(&self) -> Vec<crate::probe::ParamIssue> {
        let host = url::Url::parse(self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        self.net.check(host.as_deref())
    }
}

/// Distinct clients kept at most; past it the cache starts over (a safety net: the key's
/// fields come from a bounded config).
const MAX_CLIENTS: usize = 64;

/// A client for `opts`, shared by every probe that asks for the same options: building one
/// loads the trust store, which would otherwise dominate a run of many small HTTP items.
///
/// The client's own timeout is `opts.timeout` rounded up to a whole second, and that is what
/// the cache is keyed by: `prodcheck serve` caps each item's timeout to what is left of its
/// scrape, a different value every scrape, and a client per value was a client and a trust
/// store per scrape, kept forever. Probes bound their exchanges by their exact deadline.
pub fn client(opts: &ClientOptions) -> Result<Client, String> {
    static CLIENTS: OnceLock<Mutex<HashMap<ClientOptions, Client>>> = OnceLock::new();
    let cache = CLIENTS.get_or_init(Default::default);
    let key = cache_key(opts);
    // Built under the lock: two hundred items starting at once must not build two hundred
    // clients. Building takes milliseconds, once per distinct set of options.
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = map.get(&key) {
        return Ok(c.clone());
    }
    if map.len() >= MAX_CLIENTS {
        map.clear();
    }
    let built = build_client(&key)?;
    map.insert(key, built.clone());
    Ok(built)
}

/// `opts` with its timeout rounded up to a whole second: what the cache is keyed by and the
/// client is built with.
fn cache_key(opts: &ClientOptions) -> ClientOptions {
    let mut key = opts.clone();
    key.timeout =
        Duration::from_secs(opts.timeout.as_secs() + u64::from(opts.timeout.subsec_nanos() > 0));
    key
}

/// Builds a new client; the error is a message meant for the outcome.
pub fn build_client(opts: &ClientOptions) -> Result<Client, String> {
    let policy = match opts.max_redirects {
        None => redirect::Policy::none(),
        Some(n) => redirect::Policy::limited(n),
    };
    let mut builder = Client::builder()
        .user_agent(opts.user_agent.clone())
        .redirect(policy)
        .timeout(opts.timeout)
        .connect_timeout(opts.timeout)
        .http1_max_headers(256)
        .pool_max_idle_per_host(64)
        // Back-to-back requests (latency samples, a burst, a probe's paths) reuse their
        // connection; an item's connections do not outlive it by more than a moment. With the
        // default 90 s, a fleet of a thousand hosts kept a thousand idle TLS connections.
        .pool_idle_timeout(Duration::from_millis(100))
        .tls_danger_accept_invalid_certs(opts.insecure)
        .tls_info(opts.tls_info);
    builder = opts.net.proxy_setting().apply(builder)?;
    if let Some(resolver) = crate::net::http::resolver::FamilyResolver::for_options(
        opts.net.ip_family,
        &opts.pinned,
        opts.timeout,
    ) {
        builder = builder.dns_resolver(resolver);
    }
    if let (Some(cert), Some(key)) = (&opts.net.client_cert, &opts.net.client_key) {
        let loaded = crate::net::identity::ClientIdentity::load(cert, key)?;
        if loaded.version < 3 {
            return Err(format!(
                "the client certificate `{}` is an X.509 v{} certificate, which the HTTP probes' TLS library (rustls) cannot present though nginx and OpenSSL accept it; reissue it as v3 (`openssl x509 -req … -extfile client.ext` with `extendedKeyUsage=clientAuth`), or check the mutual TLS with the `tls` probe, which presents it",
                loaded.subject, loaded.version
            ));
        }
        let identity = reqwest::Identity::from_pem(&loaded.pem()).map_err(|e| {
            format!(
                "cannot use the client certificate `{}`: {}",
                loaded.subject,
                describe(&e)
            )
        })?;
        builder = builder.identity(identity);
    }
    if let Some(path) = &opts.ca_file {
        let mut certs = Vec::new();
        for (i, der) in crate::net::roots::read_pem_bundle(path)?.iter().enumerate() {
            let cert = reqwest::Certificate::from_der(der).map_err(|e| {
                let (file, n) = (path.display(), i + 1);
                format!(
                    "ca_file `{file}`: certificate entry #{n} is unusable: {}",
                    describe(&e)
                )
            })?;
            certs.push(cert);
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", describe(&e)))
}

/// A body read no further than a cap.
#[derive(Debug, Clone)]
pub struct CappedBody {
    pub bytes: Vec<u8>,
    /// True when the server had more to send than the cap allowed.
    pub truncated: bool,
}

impl CappedBody {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Reads at most `cap` bytes of the body. A transport error mid-body is returned as a message.
pub async fn read_capped(mut resp: Response, cap: u64) -> Result<CappedBody, String> {
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = (cap as usize).saturating_sub(bytes.len());
                if chunk.len() > room {
                    bytes.extend_from_slice(&chunk[..room]);
                    return Ok(CappedBody {
                        bytes,
                        truncated: true,
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => {
                return Ok(CappedBody {
                    bytes,
                    truncated: false,
                });
            }
            Err(e) => {
                return Err(format!(
                    "body read failed after {} bytes: {}",
                    bytes.len(),
                    describe(&e)
                ));
            }
        }
    }
}

/// A short, human wording of a transport error: the outermost kind plus the root cause.
pub fn describe(err: &reqwest::Error) -> String {
    let mut causes: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = e.source();
    }
    let root = causes.last().cloned().unwrap_or_else(|| err.to_string());
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_redirect() {
        "the redirects never end (a loop, or more than `max_redirects`)"
    } else if err.is_body() || err.is_decode() {
        "reading the body failed"
    } else if err.is_request() {
        "request failed"
    } else {
        "HTTP error"
    };
    if root.is_empty() || root == what {
        what.to_string()
    } else {
        format!("{what}: {root}")
    }
}

/// Lowercases a header name and keeps header values readable even when they are not UTF-8.
pub fn header_text(value: &reqwest::header::HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn scrapes_capped_to_what_is_left_of_their_deadline_share_one_client() {
        let opts = |ms| ClientOptions::new(Duration::from_millis(ms), "t");
        // A scrape's items get 9.5 s, 9.49 s, 9.2 s … as its deadline nears: one key, 10 s.
        let keys: std::collections::HashSet<ClientOptions> =
            (9_001..=10_000).map(|ms| cache_key(&opts(ms))).collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(cache_key(&opts(9_200)).timeout, Duration::from_secs(10));
        assert_eq!(cache_key(&opts(10_000)).timeout, Duration::from_secs(10));
        assert_eq!(cache_key(&opts(10_001)).timeout, Duration::from_secs(11));
        assert_eq!(cache_key(&opts(300)).timeout, Duration::from_secs(1));
    }
}
