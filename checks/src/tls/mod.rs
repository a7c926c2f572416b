//! The `tls` probe family: the probe itself plus what it needs that rustls does not give
//! (recorded chains, certificate facts, legacy-version hellos, the shared trust store).

pub mod chain;
pub mod facts;
pub mod legacy;
pub mod params;
mod probe;
pub mod roots;

pub use probe::TlsProbe;
