//! How the `postgres` probe reaches the server: the shared dial (`ip_family`, `resolve`), TLS as
//! libpq's `sslmode` says (with the client certificate), then tokio-postgres over that stream.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::config::Host;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::net::dial::{in_words, unanswered};
use crate::net::identity::{self, ClientIdentity};
use crate::net::roots;
use crate::net::tls_client::{self, TlsClient};
use crate::net::{self, NetParams, NetStream, Resolve, Route};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::service::pg_url::{PgUrl, TlsMode};

/// The system roots plus `ca_file` and the URL's `sslrootcert`.
fn trust(
    ca_file: Option<&Path>,
    root_cert: Option<&Path>,
) -> Result<Arc<rustls::RootCertStore>, String> {
    let base = roots::root_store(ca_file)?;
    let Some(path) = root_cert else {
        return Ok(base);
    };
    let mut store = (*base).clone();
    for cert in roots::read_pem_bundle(path).map_err(|e| format!("sslrootcert: {e}"))? {
        store
            .add(cert)
            .map_err(|e| format!("sslrootcert `{}`: {e}", path.display()))?;
    }
    Ok(Arc::new(store))
}

/// Ends the connection task when the probe ends, however it ends.
pub(crate) struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The server's own words when there are some, else the transport error and its cause.
pub(crate) fn describe(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    match std::error::Error::source(err) {
        Some(cause) => format!("{err}: {cause}"),
        None => err.to_string(),
    }
}

/// Host and port the client connects to first (`localhost:5432` when the URL names none).
fn host_port(config: &Config) -> (Option<Host>, String, u16) {
    let first = config.get_hosts().first().cloned();
    let host = match &first {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    (
        first,
        host,
        config.get_ports().first().copied().unwrap_or(5432),
    )
}

/// `Ok`: the server itself answered with a refusal (bad credentials, no such database, too
/// many connections), a `fail`. `Err`: no answer came back, and why.
fn refusal(shown: &str, err: &tokio_postgres::Error) -> Result<Outcome, NoAnswer> {
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        let what = if code.starts_with("28") {
            "PostgreSQL rejected the credentials"
        } else {
            "PostgreSQL refused the connection"
        };
        return Ok(
            Outcome::fail(format!("{shown}: {what}: {} ({code})", db.message()))
                .with("sqlstate", code),
        );
    }
    match NoAnswer::classify(err) {
        // Something answered, but not in PostgreSQL's protocol: the target's answer is wrong.
        NoAnswer::Other => Ok(Outcome::fail(format!(
            "{shown}: the server answered, but not as PostgreSQL: {}",
            describe(err)
        ))),
        why => Err(why),
    }
}

/// What the probe asks of the connection beyond the URL.
pub(crate) struct Settings<'a> {
    pub ca_file: Option<&'a Path>,
    pub net: &'a NetParams,
}

/// An open connection.
pub(crate) struct Connection {
    pub client: Client,
    pub _task: AbortOnDrop,
    /// How it was reached (`None`: a Unix socket).
    pub route: Option<Route>,
    pub tls: bool,
    pub identity: Option<ClientIdentity>,
}

async fn spawn_raw<T>(
    config: &Config,
    stream: NetStream,
    tls: T,
) -> Result<(Client, AbortOnDrop), tokio_postgres::Error>
where
    T: TlsConnect<NetStream>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect_raw(stream, tls).await?;
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((client, AbortOnDrop(task)))
}

/// Opens the connection within `budget`; the error is the item's finished outcome.
pub(crate) async fn open(
    settings: &Settings<'_>,
    parsed: &PgUrl,
    config: &Config,
    shown: &str,
    budget: Duration,
) -> Result<Connection, Outcome> {
    let tls = matches!(parsed.mode, TlsMode::VerifyFull | TlsMode::VerifyCa);
    // The item's client_cert/client_key, else the URL's sslcert/sslkey.
    let (cert, key) = match (&settings.net.client_cert, &settings.net.client_key) {
        (Some(_), _) | (_, Some(_)) => (
            settings.net.client_cert.clone(),
            settings.net.client_key.clone(),
        ),
        _ => (parsed.cert.clone(), parsed.key.clone()),
    };
    if let Some(issue) = identity::check(&cert, &key).first() {
        return Err(Outcome::error(format!("{shown}: {}", issue.message)));
    }
    let identity = identity::load(&cert, &key).map_err(Outcome::error)?;
    let client_tls: Option<TlsClient> = if tls {
        let made = trust(settings.ca_file, parsed.root_cert.as_deref()).and_then(|roots| {
            tls_client::client_config(
                roots,
                parsed.mode != TlsMode::VerifyCa,
                identity.as_ref(),
                &[],
            )
        });
        Some(made.map_err(Outcome::error)?)
    } else {
        None
    };
    let (first, host, port) = host_port(config);
    let no_answer = |why: NoAnswer, detail: &str| {
        let words = in_words(&why, &host, port, budget, detail);
        unanswered(&why, Property::Reachability, format!("{shown}: {words}"))
            .with("url", shown)
            .with("tls", tls)
    };
    let started = std::time::Instant::now();
    let left = || budget.saturating_sub(started.elapsed());
    let connecting = async {
        if let Some(Host::Unix(_)) = first {
            let mut config = config.clone();
            config.connect_timeout(budget);
            let (client, connection) = config.connect(NoTls).await.map_err(Err)?;
            let task = tokio::spawn(async move {
                let _ = connection.await;
            });
            return Ok((client, AbortOnDrop(task), None));
        }
        // libpq's `hostaddr` pins the address as `resolve` does.
        let pinned = match (settings.net.resolve.is_empty(), config.get_hostaddrs()) {
            (true, addrs) if !addrs.is_empty() => Resolve(addrs.to_vec()),
            _ => settings.net.resolve.clone(),
        };
        // Database protocols do not go through HTTP proxies.
        let opts = NetParams {
            resolve: pinned,
            ..settings.net.clone()
        }
        .direct();
        let (stream, route) = net::dial(&host, port, "https", &opts, budget)
            .await
            .map_err(Ok)?;
        let opened = match &client_tls {
            Some(t) => {
                let mut make = MakeRustlsConnect::new((*t.config).clone());
                let connect = <MakeRustlsConnect as MakeTlsConnect<NetStream>>::make_tls_connect(
                    &mut make, &host,
                );
                match connect {
                    Ok(c) => spawn_raw(config, stream, c).await,
                    Err(e) => {
                        return Err(Ok(crate::net::dial::NotConnected {
                            why: NoAnswer::Other,
                            message: format!("invalid server name `{host}`: {e}"),
                        }));
                    }
                }
            }
            None => spawn_raw(config, stream, NoTls).await,
        };
        opened.map(|(c, t)| (c, t, Some(route))).map_err(Err)
    };
    let asked = || tls_client::client_auth_hint(client_tls.as_ref(), identity.as_ref());
    let (client, task, route) = match tokio::time::timeout(left(), connecting).await {
        Err(_) => return Err(no_answer(NoAnswer::Timeout, "")),
        Ok(Err(Ok(not_connected))) => {
            return Err(not_connected
                .outcome(Property::Reachability)
                .with("url", shown)
                .with("tls", tls));
        }
        Ok(Err(Err(e))) => {
            let mut outcome = refusal(shown, &e)
                .map(|o| o.with("url", shown).with("tls", tls))
                .unwrap_or_else(|why| no_answer(why, &describe(&e)));
            outcome.message.push_str(&asked());
            if let Some(req) = client_tls.as_ref().and_then(|t| t.auth.asked()) {
                outcome = outcome.with("client_auth", req.evidence(identity.as_ref()));
            }
            return Err(outcome);
        }
        Ok(Ok(c)) => c,
    };
    Ok(Connection {
        client,
        _task: task,
        route,
        tls,
        identity,
    })
}
