//! The one integration-test binary: drives the real `prodcheck` binary against servers
//! started on 127.0.0.1 by the tests themselves. Test modules are grouped by area.

mod support;

mod assertions;
mod cli;
mod discover;
mod net;
mod report;
mod run;
mod serve;
mod shipped;
mod svc;
mod tls;
mod traffic;
mod web;
