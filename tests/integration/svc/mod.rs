//! Service probes against real services: exec, files, PostgreSQL, Prometheus, Redis and
//! WebSocket.

mod exec;
mod files;
pub(crate) mod postgres;
mod prometheus;
pub(crate) mod redis;
pub(crate) mod websocket;
