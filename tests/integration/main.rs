//! The one integration-test binary: drives the real `prodcheck` binary against servers
//! started on 127.0.0.1 by the tests themselves.

mod nginx;
mod proxy;
mod support;

mod cli_basics;
mod crash_safety;
mod deploy_watch;
mod diagnostics;
mod dns_probe;
mod docs_command;
mod editor_shell;
mod fail_or_error;
mod good_bad_service;
mod hostile;
mod html_report;
mod http_probe;
mod loader_props;
mod reports;
mod run_behaviour;
mod secrets;
mod serve;
mod shipped_checklists;
mod shipped_internal_ca;
mod shipped_rollback;
mod shipped_unconfigured;
mod state;
mod svc_exec;
mod svc_files;
mod svc_postgres;
mod svc_prometheus;
mod svc_redis;
mod svc_websocket;
mod terminal_report;
mod tls_handshakes;
mod tls_probe;
mod traffic_latency;
mod traffic_rate_limit;
mod web_cors;
mod web_fail_or_error;
mod web_headers;
mod web_misc;
mod web_observatory;
mod web_politeness;
