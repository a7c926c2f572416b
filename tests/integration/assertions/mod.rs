//! Assertions (`assert:`) and `warn:` levels on every probe that returns a document.

mod http;
mod prometheus;
mod services;
mod warn_levels;
mod warn_limits;
