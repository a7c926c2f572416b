//! The HTTP-based probe family (`http`, `security_headers`, `cookies`, `cors`,
//! `redirect_https`, `exposure`, `auth`) and the client, page fetcher and rules they share.

mod client;
pub use client::*;

pub mod observatory;
pub mod page;
pub mod proxy;
pub mod resolver;

pub mod auth;
pub mod client_auth;
pub mod cookies;
pub mod cors;
pub mod cors_origins;
pub mod exposure;
pub mod http;
pub mod http_dual;
pub mod redirect_https;
pub mod request;
pub mod security_headers;
pub mod throttle;
