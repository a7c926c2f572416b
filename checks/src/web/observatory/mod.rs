//! The MDN HTTP Observatory rules, encoded as pure functions over response headers so they
//! can be unit-tested without a network; the web probes feed them what they observed.
//! `cases/` checks them against the Observatory's own suite (commit 94042bbfbf9f1af722ad9114ada6d271dcb525b9).

#[cfg(test)]
mod cases;
pub mod cookies;
pub mod cors;
pub mod cross_origin;
pub mod csp;
pub mod grade;
pub mod headers;
pub mod meta;
pub mod sf;
