//! The network parameters every network probe takes, declared once. The loader splits them
//! off an item's mapping (see `registry::net_keys`); the probe reads them in its context.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::net::http::proxy::ProxySetting;
use crate::net::{IpFamily, Resolve};

/// `ip_family`, `resolve`, `client_cert`, `client_key` and `proxy` of one item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetParams {
    /// Connect over this address family only: `v4`, `v6` or `any` (default).
    #[serde(default)]
    pub ip_family: IpFamily,
    /// Addresses used for the target's host instead of DNS (`["192.0.2.10", "2001:db8::10"]`).
    #[serde(default)]
    pub resolve: Resolve,
    /// A client certificate (PEM path or text) to present when the server asks for one.
    pub client_cert: Option<String>,
    /// Its private key (PEM path, or text from `${env:…}`; never shown).
    pub client_key: Option<String>,
    /// This item's proxy: `env`, `none` or a URL (`http://`, `https://`, `socks5://`;
    /// credentials from `${env:…}`), instead of the run's `--proxy` / environment.
    pub proxy: Option<ProxySetting>,
}

/// The proxy setting when none is given: the environment's.
static ENV: ProxySetting = ProxySetting::Env;

impl NetParams {
    /// Every key, in the order messages list them.
    pub const KEYS: &'static [&'static str] =
        &["ip_family", "resolve", "client_cert", "client_key", "proxy"];
    /// The keys of kinds that always connect directly (`redis`, `postgres`): no `proxy`.
    pub const DIRECT_KEYS: &'static [&'static str] =
        &["ip_family", "resolve", "client_cert", "client_key"];

    /// The proxy setting in force (in a probe's context: the item's own, else the run's).
    pub fn proxy_setting(&self) -> &ProxySetting {
        self.proxy.as_ref().unwrap_or(&ENV)
    }

    /// Connections go straight to the target, whatever the run says.
    pub fn direct(mut self) -> Self {
        self.proxy = Some(ProxySetting::Direct);
        self
    }

    /// Load-time issues of these parameters for a target on `host`: a literal address of the
    /// wrong family, a useless `resolve`, a certificate without its key.
    pub fn check(&self, host: Option<&str>) -> Vec<crate::probe::ParamIssue> {
        let mut issues = crate::net::family::check(host, self.ip_family, &self.resolve);
        issues.extend(crate::net::identity::check(
            &self.client_cert,
            &self.client_key,
        ));
        issues
    }

    /// Whether the item restricts addresses (which a proxy could not honour).
    pub fn pins_addresses(&self) -> bool {
        self.ip_family != IpFamily::Any || !self.resolve.is_empty()
    }

    /// This item's parameters under a run whose proxy setting is `run` (the item's own
    /// `proxy`, when it has one, wins).
    pub fn under(&self, run: &ProxySetting) -> NetParams {
        NetParams {
            proxy: Some(self.proxy.clone().unwrap_or_else(|| run.clone())),
            ..self.clone()
        }
    }
}
