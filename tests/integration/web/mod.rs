//! Web probes against real servers: `http`, headers, CORS, the Observatory grade, politeness
//! and the web family's fail-or-error rule.

mod cors;
mod fail_or_error;
mod h3;
mod headers;
mod http;
mod misc;
mod observatory;
mod politeness;
mod pre_deploy_limit;
