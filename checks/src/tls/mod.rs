//! The `tls` probe family: the probe itself plus what it needs that rustls does not give
//! (recorded chains, certificate facts, hand-written hellos, suite enumeration, profiles).

pub mod chain;
pub mod crl;
mod diagnose;
mod dual;
pub mod explain;
pub mod facts;
mod full;
pub mod h3;
mod handshake;
pub mod hello;
pub mod issuer;
pub mod judge;
pub mod legacy;
pub mod ocsp;
pub mod params;
pub mod pq;
mod probe;
pub mod profile;
pub mod scan;
pub mod staple;
mod starttls;
pub mod suites;

pub use probe::TlsProbe;
