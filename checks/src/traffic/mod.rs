//! Probes that send many requests on purpose: `rate_limit` (a disruptive burst) and
//! `latency` (timed samples), with the percentile arithmetic they share (the header parsing is `net::http`'s).

pub mod latency;
pub mod percentile;
pub mod quiet;
pub mod rate_limit;
