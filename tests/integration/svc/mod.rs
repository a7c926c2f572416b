//! Service probes against real services: exec, files, PostgreSQL, Prometheus, Redis and
//! WebSocket.

mod exec;
mod files;
mod postgres;
mod prometheus;
mod redis;
mod websocket;
