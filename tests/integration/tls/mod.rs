//! The `tls` probe: handshakes with odd servers, the probe's judgements, revocation.

mod handshakes;
mod probe;
mod revocation;
