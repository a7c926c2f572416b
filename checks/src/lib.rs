//! The prodcheck probe library: the [`Probe`] trait, the [`Outcome`] model, the registry and
//! one module per probe kind. It knows nothing of YAML files, terminals or exit codes.

pub mod compare;
pub mod outcome;
pub mod params;
pub mod probe;
pub mod registry;
pub mod tls_roots;
pub mod web;

pub mod disk;
pub mod exec;
pub mod file;
pub mod http;
pub mod postgres;
pub mod prometheus;
pub mod redis;
pub mod tcp;
pub mod websocket;

pub use outcome::{Evidence, Outcome, Status};
pub use probe::{ParamIssue, Probe, ProbeContext};

/// Installs the `ring` crypto provider as the process default. Call once at start-up, before
/// any TLS connection; calling it again is harmless.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
