//! One launcher per server a test needs: in-process ones (`local`) and real binaries (nginx,
//! Redis, PostgreSQL, Prometheus, tinyproxy/microsocks, openssl/gnutls), each stopped on drop.

mod local;
mod login;
mod nginx;
mod postgres;
mod prometheus;
mod proxies;
mod redis;
mod tls;

pub use local::*;
pub use login::*;
pub use nginx::*;
pub use postgres::*;
pub use prometheus::*;
pub use proxies::*;
pub use redis::*;
pub use tls::*;
