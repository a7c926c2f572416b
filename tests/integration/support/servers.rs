//! One launcher per server a test needs: in-process ones (`local`) and real binaries (nginx,
//! Redis, PostgreSQL, Prometheus, tinyproxy/microsocks, openssl/gnutls, slapd) and the rustls server
//! with the post-quantum group (`pq`), each stopped on drop.

mod local;
mod login;
mod nginx;
mod postgres;
mod pq;
mod prometheus;
mod proxies;
mod redis;
mod slapd;
mod tls;

pub use local::*;
pub use login::*;
pub use nginx::*;
pub use postgres::*;
pub use pq::*;
pub use prometheus::*;
pub use proxies::*;
pub use redis::*;
pub use slapd::*;
pub use tls::*;
