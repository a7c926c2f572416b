//! Probes that send many requests: latency percentiles and rate limits, bounded in count and
//! time.

mod latency;
mod rate_limit;
