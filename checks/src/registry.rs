//! The list of probe kinds: one line per kind. The CLI builds probes by name from here,
//! lists valid kinds in diagnostics and derives the JSON Schema of every parameter block.

use schemars::Schema;
use serde::Deserializer;
use serde::de::DeserializeOwned;

use crate::probe::{ParamIssue, Probe};

/// Why a parameter block could not become a probe.
#[derive(Debug)]
pub enum BuildError<E> {
    /// The block does not deserialize (unknown or mistyped parameter); `E` carries the position.
    Params(E),
    /// The block deserialized but some values are unacceptable.
    Invalid(Vec<ParamIssue>),
}

fn build_one<'de, P, D>(params: D) -> Result<Box<dyn Probe>, BuildError<D::Error>>
where
    P: Probe + DeserializeOwned + 'static,
    D: Deserializer<'de>,
{
    let probe = P::deserialize(params).map_err(BuildError::Params)?;
    let issues = probe.check_params();
    if issues.is_empty() {
        Ok(Box::new(probe))
    } else {
        Err(BuildError::Invalid(issues))
    }
}

macro_rules! registry {
    ($($kind:literal => $probe:ty),* $(,)?) => {
        /// Every probe kind, in the order `prodcheck` lists them.
        pub const KINDS: &[&str] = &[$($kind),*];

        /// Builds the probe `kind` from its parameter block; `None` when the kind is unknown.
        pub fn build<'de, D: Deserializer<'de>>(
            kind: &str,
            params: D,
        ) -> Option<Result<Box<dyn Probe>, BuildError<D::Error>>> {
            match kind {
                $($kind => Some(build_one::<$probe, D>(params)),)*
                _ => None,
            }
        }

        /// The JSON Schema of `kind`'s parameter block.
        pub fn schema(kind: &str) -> Option<Schema> {
            match kind {
                $($kind => Some(schemars::schema_for!($probe)),)*
                _ => None,
            }
        }
    };
}

registry! {
    "http" => crate::web::http::HttpProbe,
    "tls" => crate::tls::TlsProbe,
    "dns" => crate::dns::DnsProbe,
    "tcp" => crate::service::tcp::TcpProbe,
    "security_headers" => crate::web::security_headers::SecurityHeadersProbe,
    "cookies" => crate::web::cookies::CookiesProbe,
    "cors" => crate::web::cors::CorsProbe,
    "redirect_https" => crate::web::redirect_https::RedirectHttpsProbe,
    "exposure" => crate::web::exposure::ExposureProbe,
    "auth" => crate::web::auth::AuthProbe,
    "rate_limit" => crate::traffic::rate_limit::RateLimitProbe,
    "latency" => crate::traffic::latency::LatencyProbe,
    "cdn_cache" => crate::traffic::cdn::CdnCacheProbe,
    "exec" => crate::host::exec::ExecProbe,
    "redis" => crate::service::redis::RedisProbe,
    "postgres" => crate::service::postgres::PostgresProbe,
    "prometheus" => crate::service::prometheus::PrometheusProbe,
    "websocket" => crate::service::websocket::WebSocketProbe,
    "file" => crate::host::file::FileProbe,
    "disk" => crate::host::disk::DiskProbe,
}
