//! How probes reach a target: the address family (`ip_family`), pinned addresses (`resolve`),
//! tunnels through a proxy, the client certificate they present, the trust store, and the
//! shared HTTP client (`http`). Probe families import this layer, never each other.

pub(crate) mod dial;
pub mod dns;
pub mod dual_stack;
pub mod family;
pub mod http;
pub mod identity;
pub mod ldap;
pub mod params;
pub mod roots;
pub mod route;
pub mod starttls;
pub mod stream;
pub mod tls_client;
pub mod tunnel;

pub use family::{IpFamily, Resolve};
pub use params::NetParams;
pub use route::{Route, dial, lookup};
pub use stream::NetStream;
