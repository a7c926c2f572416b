//! The `domain` probe family: registration expiry and status from the registry itself, over
//! RDAP (RFC 9083), found through the IANA bootstrap registry (RFC 9224), cached on disk.

mod bootstrap;
mod probe;
pub mod rdap;

pub use probe::DomainProbe;
