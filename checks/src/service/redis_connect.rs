//! How the `redis` probe reaches the server: the shared dial (`ip_family`, `resolve`), rustls
//! for `rediss://` (trust, client certificate, recorded), then the redis client over it.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;

use crate::net::dial::NotConnected;
use crate::net::identity::{self, ClientIdentity};
use crate::net::roots;
use crate::net::tls_client::{self, TlsClient};
use crate::net::{self, NetParams, Route};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;

/// Ends the connection's driver when the probe ends, however it ends.
pub(crate) struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the probe asks of the connection beyond the URL.
pub(crate) struct Settings<'a> {
    pub url: &'a str,
    pub ca_file: Option<&'a std::path::Path>,
    pub net: &'a NetParams,
}

/// An open connection and how it was reached.
pub(crate) struct Opened {
    pub con: MultiplexedConnection,
    pub _driver: AbortOnDrop,
    pub route: Route,
    pub tls: Option<TlsClient>,
    pub identity: Option<ClientIdentity>,
}

/// Why no connection: an outcome already (setup, dial, TLS), or the server's own error.
pub(crate) enum Failure {
    Outcome(Outcome),
    Redis(redis::RedisError, Option<TlsClient>, Option<ClientIdentity>),
}

async fn start<C>(
    settings: &RedisConnectionInfo,
    stream: C,
    budget: Duration,
) -> redis::RedisResult<(MultiplexedConnection, AbortOnDrop)>
where
    C: Unpin + AsyncRead + AsyncWrite + Send + 'static,
{
    let config = AsyncConnectionConfig::new().set_response_timeout(Some(budget));
    let (con, driver) = MultiplexedConnection::new_with_config(settings, stream, config).await?;
    Ok((con, AbortOnDrop(tokio::spawn(driver))))
}

/// Opens the connection (AUTH and SELECT included) within `budget`.
pub(crate) async fn open(
    s: &Settings<'_>,
    shown: &str,
    budget: Duration,
) -> Result<Opened, Failure> {
    let started = std::time::Instant::now();
    let left = || budget.saturating_sub(started.elapsed());
    let setup = |e: String| Failure::Outcome(Outcome::error(e).with("url", shown));
    let info = s
        .url
        .into_connection_info()
        .map_err(|e| setup(format!("{shown}: invalid Redis URL: {e}")))?;
    let (host, port, tls, insecure) = match info.addr() {
        ConnectionAddr::Tcp(h, p) => (h.clone(), *p, false, false),
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure,
            ..
        } => (host.clone(), *port, true, *insecure),
        _ => {
            return Err(setup(format!(
                "{shown}: only TCP addresses are supported (redis:// or rediss://host:port)"
            )));
        }
    };
    let identity = identity::load(&s.net.client_cert, &s.net.client_key).map_err(&setup)?;
    let client_tls = if tls {
        let made = roots::root_store(s.ca_file).and_then(|roots| {
            // `#insecure` in the URL skips the host-name check, as the redis client does.
            tls_client::client_config(roots, !insecure, identity.as_ref(), &[])
        });
        Some(made.map_err(&setup)?)
    } else {
        None
    };
    // Database protocols do not go through HTTP proxies.
    let opts = s.net.clone().direct();
    let (stream, route) = net::dial(&host, port, "https", &opts, left())
        .await
        .map_err(|no| Failure::Outcome(no.outcome(Property::Reachability).with("url", shown)))?;
    let settings = info.redis_settings();
    let started_redis = match &client_tls {
        None => start(settings, stream, left()).await,
        Some(t) => {
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                .map_err(|e| setup(format!("{shown}: invalid server name `{host}`: {e}")))?;
            let connector = tokio_rustls::TlsConnector::from(t.config.clone());
            let tls_stream = match tokio::time::timeout(left(), connector.connect(name, stream))
                .await
            {
                Err(_) => {
                    let no = NotConnected {
                        why: NoAnswer::Timeout,
                        message: format!(
                            "{} accepted the connection but did not finish the TLS handshake in time",
                            route.describe()
                        ),
                    };
                    return Err(Failure::Outcome(
                        no.outcome(Property::Reachability).with("url", shown),
                    ));
                }
                Ok(Err(e)) => {
                    let why = NoAnswer::from_io(&e);
                    let message = format!(
                        "{shown}: the TLS handshake with {} failed: {e}{}",
                        route.describe(),
                        tls_client::client_auth_hint(Some(t), identity.as_ref())
                    );
                    return Err(Failure::Outcome(
                        crate::net::dial::unanswered(&why, Property::Reachability, message)
                            .with("url", shown),
                    ));
                }
                Ok(Ok(t)) => t,
            };
            start(settings, tls_stream, left()).await
        }
    };
    match started_redis {
        Ok((con, driver)) => Ok(Opened {
            con,
            _driver: driver,
            route,
            tls: client_tls,
            identity,
        }),
        Err(e) => Err(Failure::Redis(e, client_tls, identity)),
    }
}
