//! Probes that judge how a service handles traffic: `rate_limit` (a disruptive burst),
//! `latency` (timed samples) and `cdn_cache` (whether a shared cache may keep an asset), with
//! the percentile arithmetic they share (the header parsing is `net::http`'s).

pub mod cdn;
pub mod latency;
pub mod percentile;
pub mod quiet;
pub mod rate_limit;
