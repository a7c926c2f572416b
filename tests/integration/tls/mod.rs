//! The `tls` probe: handshakes with odd servers, the probe's judgements, revocation.

mod h3;
pub(crate) mod handshakes;
mod incomplete;
mod ldap;
mod per_host;
mod pq;
mod probe;
mod revocation;
mod staple;
mod starttls;
mod tiers;
