//! The prodcheck probe library: the [`Probe`] trait, the [`Outcome`] model, the registry and
//! one module per probe kind. It knows nothing of YAML files, terminals or exit codes.

// The model and the registry.
pub mod no_answer;
pub mod outcome;
pub mod params;
pub mod politeness;
pub mod probe;
pub mod registry;

// Comparison of observed values with expectations, shared by several probes.
pub mod compare;
// `assert:` expressions, and limits with a `warn:` level, shared by every probe that takes them.
pub mod assert;
// `capture:`: values taken from an answer for the items that need it.
pub mod capture;
pub mod limit;

// The figures other layers read from evidence, as types.
pub mod figures;

// The probe families: one folder each, one file per probe kind inside.
pub mod dns;
pub mod domain;
pub mod host;
pub mod service;
pub mod tls;
pub mod traffic;
pub mod web;

// How probes reach their targets (family, addresses, proxy tunnels, client certificates).
pub mod net;

pub use no_answer::{NoAnswer, Property};
pub use outcome::{Evidence, Outcome, Status};
pub use probe::{ParamIssue, Probe, ProbeContext};

/// Installs the `ring` crypto provider as the process default. Call once at start-up, before
/// any TLS connection; calling it again is harmless.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
