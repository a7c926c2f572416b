//! The one integration-test binary: drives the real `prodcheck` binary against servers
//! started on 127.0.0.1 by the tests themselves.

mod nginx;
mod support;

mod cli_basics;
mod diagnostics;
mod http_probe;
mod run_behaviour;
mod shipped_checklists;
