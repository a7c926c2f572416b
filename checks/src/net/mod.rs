//! How probes reach a target: the address family (`ip_family`), pinned addresses (`resolve`),
//! tunnels through a proxy, and the client certificate they present. One place, every probe.

pub mod dual_stack;
pub mod family;
pub mod identity;
pub mod route;
pub mod stream;
pub mod tls_client;
pub mod tunnel;

pub use family::{IpFamily, Resolve};
pub use route::{NetOptions, Route, dial, lookup};
pub use stream::NetStream;
