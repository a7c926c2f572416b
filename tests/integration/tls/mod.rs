//! The `tls` probe: handshakes with odd servers, the probe's judgements, revocation.

pub(crate) mod handshakes;
mod incomplete;
mod pq;
mod probe;
mod revocation;
mod staple;
mod starttls;
mod tiers;
