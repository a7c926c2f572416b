//! Probes that send many requests on purpose: `rate_limit` (a disruptive burst) and
//! `latency` (timed samples), with the header parsing and percentile arithmetic they share.

pub mod latency;
pub mod percentile;
pub mod quiet;
pub mod rate_limit;
pub mod rate_limit_headers;
