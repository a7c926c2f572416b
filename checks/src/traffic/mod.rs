//! Probes that judge how a service handles traffic: `rate_limit` (a disruptive burst),
//! `latency` (timed samples) and `cdn_cache` (whether a shared cache may keep an asset).

pub mod cdn;
pub mod latency;
pub mod percentile;
pub mod quiet;
pub mod rate_limit;
pub mod rate_limit_headers;
