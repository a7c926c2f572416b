//! The prodcheck probe library: the [`Probe`] trait, the [`Outcome`] model, the registry and
//! one module per probe kind. It knows nothing of YAML files, terminals or exit codes.

pub mod dns_lookup;
pub mod outcome;
pub mod params;
pub mod percentile;
pub mod probe;
pub mod rate_limit_headers;
pub mod registry;
pub mod tls_chain;
pub mod tls_facts;
pub mod tls_legacy;
pub mod tls_params;
pub mod tls_roots;
pub mod web;

pub mod dns;
mod dns_policy;
pub mod http;
pub mod latency;
pub mod rate_limit;
pub mod tcp;
pub mod tls;

pub mod observatory;
pub mod page;

pub mod auth;
pub mod cookies;
pub mod cors;
pub mod cors_origins;
pub mod exposure;
pub mod redirect_https;
pub mod security_headers;

pub use outcome::{Evidence, Outcome, Status};
pub use probe::{ParamIssue, Probe, ProbeContext};

/// Installs the `ring` crypto provider as the process default. Call once at start-up, before
/// any TLS connection; calling it again is harmless.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
