//! The HTTP-based probe family (`http`, `security_headers`, `cookies`, `cors`,
//! `redirect_https`, `exposure`, `auth`) and the rules they share; the HTTP client they all
//! use lives in `net::http`.

pub mod observatory;

pub mod auth;
pub mod cookies;
pub mod cors;
pub mod cors_origins;
pub mod exposure;
pub mod http;
pub mod http_dual;
pub mod page_target;
pub mod redirect_https;
pub mod security_headers;
