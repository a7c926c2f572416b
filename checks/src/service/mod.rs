//! Probes that speak a service's own protocol: `tcp` reachability, `redis`, `postgres`,
//! `prometheus` queries and `websocket` round trips.

pub mod facts;
pub mod grpc;
mod grpc_wire;
mod pg_connect;
mod pg_url;
pub mod postgres;
pub mod prometheus;
pub mod redis;
mod redis_connect;
pub mod tcp;
pub mod websocket;
