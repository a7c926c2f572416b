//! The list of probe kinds: one line per kind, with the network keys it takes. The CLI
//! builds probes by name from here, lists valid kinds in diagnostics and derives the JSON
//! Schema of every parameter block.

use async_trait::async_trait;
use schemars::Schema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::net::NetParams;
use crate::outcome::Outcome;
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Which of the [`NetParams`] keys a kind takes.
const NONE: &[&str] = &[];
const ALL: &[&str] = NetParams::KEYS;
const DIRECT: &[&str] = NetParams::DIRECT_KEYS;

/// Why a parameter block could not become a probe.
#[derive(Debug)]
pub enum BuildError<E> {
    /// The block does not deserialize (unknown or mistyped parameter); `E` carries the position.
    Params(E),
    /// The block deserialized but some values are unacceptable.
    Invalid(Vec<ParamIssue>),
}

fn build_one<'de, P, D>(params: D, net: Option<D>) -> Result<Box<dyn Probe>, BuildError<D::Error>>
where
    P: Probe + DeserializeOwned + 'static,
    D: Deserializer<'de>,
{
    let probe = P::deserialize(params).map_err(BuildError::Params)?;
    let probe: Box<dyn Probe> = match net {
        None => Box::new(probe),
        Some(net) => Box::new(WithNet {
            net: NetParams::deserialize(net).map_err(BuildError::Params)?,
            probe,
        }),
    };
    let issues = probe.check_params();
    if issues.is_empty() {
        Ok(probe)
    } else {
        Err(BuildError::Invalid(issues))
    }
}

/// A probe with the network parameters of its item: its context carries them when it runs.
#[derive(Debug)]
struct WithNet<P> {
    probe: P,
    net: NetParams,
}

#[async_trait]
impl<P: Probe> Probe for WithNet<P> {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = self.probe.check_params();
        issues.extend(self.probe.check_net(&self.net));
        issues
    }

    fn net(&self) -> Option<&NetParams> {
        Some(&self.net)
    }

    fn disruptive(&self) -> bool {
        self.probe.disruptive()
    }

    fn burst_hosts(&self) -> Vec<String> {
        self.probe.burst_hosts()
    }

    fn planned_requests(&self) -> Vec<(String, u32)> {
        self.probe.planned_requests()
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let mut ctx = ctx.clone();
        ctx.net = self.net.under(ctx.net.proxy_setting());
        self.probe.run(&ctx).await
    }
}

/// `schema` of the probe with the `keys` of [`NetParams`] added to its properties.
fn with_net(mut schema: Schema, keys: &[&str]) -> Schema {
    if keys.is_empty() {
        return schema;
    }
    let net = schemars::schema_for!(NetParams);
    let (Some(own), Some(net)) = (schema.as_object_mut(), net.as_object()) else {
        return schema;
    };
    let mut added = String::new();
    if let (Some(serde_json::Value::Object(props)), Some(serde_json::Value::Object(add))) =
        (own.get_mut("properties"), net.get("properties"))
    {
        for key in keys {
            if let Some(p) = add.get(*key) {
                props.insert((*key).to_string(), p.clone());
                added.push_str(&p.to_string());
            }
        }
    }
    // The definitions the added keys refer to (`redis` takes no `proxy`, so no `Proxy`).
    if let Some(serde_json::Value::Object(add)) = net.get("$defs") {
        let defs = own
            .entry("$defs")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let serde_json::Value::Object(defs) = defs {
            for (name, def) in add {
                if added.contains(&format!("\"#/$defs/{name}\"")) {
                    defs.entry(name.clone()).or_insert_with(|| def.clone());
                }
            }
        }
    }
    schema
}

macro_rules! registry {
    ($($kind:literal => $probe:ty, $net:ident),* $(,)?) => {
        /// Every probe kind, in the order `prodcheck` lists them.
        pub const KINDS: &[&str] = &[$($kind),*];

        /// The [`NetParams`] keys `kind` takes (none for an unknown kind). The loader splits
        /// them off the parameter block and hands them to [`build`] as `net`.
        pub fn net_keys(kind: &str) -> &'static [&'static str] {
            match kind {
                $($kind => $net,)*
                _ => NONE,
            }
        }

        /// Builds the probe `kind` from its own parameters and, when it takes network
        /// parameters, the block of those (`net`); `None` when the kind is unknown.
        pub fn build<'de, D: Deserializer<'de>>(
            kind: &str,
            params: D,
            net: D,
        ) -> Option<Result<Box<dyn Probe>, BuildError<D::Error>>> {
            match kind {
                $($kind => Some(build_one::<$probe, D>(params, (!$net.is_empty()).then_some(net))),)*
                _ => None,
            }
        }

        /// The JSON Schema of `kind`'s parameter block, network keys included.
        pub fn schema(kind: &str) -> Option<Schema> {
            match kind {
                $($kind => Some(with_net(schemars::schema_for!($probe), $net)),)*
                _ => None,
            }
        }
    };
}

registry! {
    "http" => crate::web::http::HttpProbe, ALL,
    "tls" => crate::tls::TlsProbe, ALL,
    "dns" => crate::dns::DnsProbe, NONE,
    "tcp" => crate::service::tcp::TcpProbe, ALL,
    "security_headers" => crate::web::security_headers::SecurityHeadersProbe, ALL,
    "cookies" => crate::web::cookies::CookiesProbe, ALL,
    "cors" => crate::web::cors::CorsProbe, ALL,
    "redirect_https" => crate::web::redirect_https::RedirectHttpsProbe, ALL,
    "exposure" => crate::web::exposure::ExposureProbe, ALL,
    "auth" => crate::web::auth::AuthProbe, ALL,
    "rate_limit" => crate::traffic::rate_limit::RateLimitProbe, ALL,
    "latency" => crate::traffic::latency::LatencyProbe, ALL,
    "cdn_cache" => crate::traffic::cdn::CdnCacheProbe, ALL,
    "exec" => crate::host::exec::ExecProbe, NONE,
    "redis" => crate::service::redis::RedisProbe, DIRECT,
    "postgres" => crate::service::postgres::PostgresProbe, DIRECT,
    "prometheus" => crate::service::prometheus::PrometheusProbe, ALL,
    "websocket" => crate::service::websocket::WebSocketProbe, ALL,
    "grpc" => crate::service::grpc::GrpcProbe, ALL,
    "file" => crate::host::file::FileProbe, NONE,
    "disk" => crate::host::disk::DiskProbe, NONE,
    "domain" => crate::domain::DomainProbe, NONE,
}
