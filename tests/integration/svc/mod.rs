//! Service probes against real services: exec, files, PostgreSQL, Prometheus, Redis and
//! WebSocket.

mod domain;
mod exec;
mod files;
mod grpc;
mod postgres;
mod prometheus;
mod redis;
mod websocket;
