//! `prodcheck init --discover` against real nginx, a test app, Prometheus, PostgreSQL and Redis.

mod conventions;
mod edges;
pub(crate) mod fixture;
