//! The MDN HTTP Observatory rules, encoded as pure functions over response headers so they
//! can be unit-tested without a network; the web probes feed them what they observed.

pub mod cookies;
pub mod csp;
pub mod grade;
pub mod headers;
pub mod meta;
