//! The HTTP client every HTTP-speaking probe shares (`web`, `traffic`, `prometheus`, CRL
//! downloads): building clients, requests, the page fetcher, throttle memory and proxies.

pub mod alt_svc;
mod client;
pub use client::*;

pub mod client_auth;
pub mod page;
pub mod proxy;
pub mod rate_limit_headers;
pub mod request;
pub mod resolver;
pub mod throttle;
