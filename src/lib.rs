//! prodcheck: run a production-readiness checklist — automated probes and manual
//! confirmations — and gate a release on the result.

pub mod catalog;
pub mod checklist;
pub mod cli;
pub mod color;
pub mod commands;
pub mod config;
pub mod demo;
pub mod discover;
pub mod error;
pub mod exit_code;
pub mod figures;
pub mod fleet;
pub mod manual;
pub mod redact;
pub mod report;
pub mod run;
pub mod schema;
pub mod serve;
pub mod state;
pub mod status;
pub mod text;
pub mod units;
pub mod watch;
