//! The prodcheck probe library: the [`Probe`] trait, the [`Outcome`] model, the registry and
//! one module per probe kind. It knows nothing of YAML files, terminals or exit codes.

// The model and the registry.
pub mod outcome;
pub mod params;
pub mod probe;
pub mod registry;

// Plumbing shared by several probes.
pub mod compare;
pub mod page;
pub mod tls_roots;
pub mod web;

// Pure rule sets and parsers, unit-tested without a network.
pub mod cors_origins;
pub mod dns_lookup;
mod dns_policy;
pub mod observatory;
pub mod percentile;
pub mod rate_limit_headers;
pub mod tls_chain;
pub mod tls_facts;
pub mod tls_legacy;
pub mod tls_params;

// One module per probe kind.
pub mod auth;
pub mod cookies;
pub mod cors;
pub mod disk;
pub mod dns;
pub mod exec;
pub mod exposure;
pub mod file;
pub mod http;
pub mod latency;
pub mod postgres;
pub mod prometheus;
pub mod rate_limit;
pub mod redirect_https;
pub mod redis;
pub mod security_headers;
pub mod tcp;
pub mod tls;
pub mod websocket;

pub use outcome::{Evidence, Outcome, Status};
pub use probe::{ParamIssue, Probe, ProbeContext};

/// Installs the `ring` crypto provider as the process default. Call once at start-up, before
/// any TLS connection; calling it again is harmless.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
