//! Network parameters every probe shares: address family, DNS, mutual TLS and proxies (from
//! the environment and from `--proxy`).

mod dns;
mod env_proxy;
mod family;
mod mtls;
mod proxy;
