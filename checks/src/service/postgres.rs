//! `postgres`: proves the database takes real connections (auth, `sslmode=require` over rustls,
//! `SELECT 1`), then holds version, connection use, recovery mode and a custom query to the item.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::task::JoinHandle;
use tokio_postgres::config::Host;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::compare::{CompareParam, redact_url};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::service::dial::{in_words, unanswered, within};
use crate::service::pg_url::{self, TlsMode};
use crate::tls::roots;

/// The system roots plus `ca_file` and the URL's `sslrootcert`.
fn trust(
    ca_file: Option<&std::path::Path>,
    root_cert: Option<&std::path::Path>,
) -> Result<std::sync::Arc<rustls::RootCertStore>, String> {
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
    Ok(std::sync::Arc::new(store))
}

/// Parameters of `check: { postgres: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresProbe {
    /// `postgres://user:${env:PGPASSWORD}@host:5432/db`; libpq's `sslmode` (`disable`,
    /// `prefer`, `require` = `verify-full`: chain and name verified, `verify-ca`: chain only)
    /// and `sslrootcert=PATH` are honoured; the roots are the system's, `ca_file` and
    /// `sslrootcert`.
    pub url: String,
    /// PEM bundle added to the trusted roots for `sslmode=require`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Lowest acceptable server version, `"14"` or `"15.4"`.
    #[serde(default)]
    pub min_version: Option<VersionParam>,
    /// Highest acceptable share of `max_connections` in use, in percent (`80`).
    #[serde(default)]
    pub max_connections_used: Option<f64>,
    /// `true`: the server must be a read-only standby (in recovery); `false`: it must not be.
    #[serde(default)]
    pub read_only: Option<bool>,
    /// A query whose first column of the first row is compared with `expect`.
    #[serde(default)]
    pub query: Option<String>,
    /// The comparison for `query`'s value: `< 100`, `== 0`, `== on`.
    #[serde(default)]
    pub expect: Option<CompareParam>,
}

/// A PostgreSQL version written `14`, `"14"` or `"15.4"` (kept as text).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionParam(pub String);

impl<'de> Deserialize<'de> for VersionParam {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = VersionParam;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a version such as `14` or `\"15.4\"`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<VersionParam, E> {
                Ok(VersionParam(v.trim().to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<VersionParam, E> {
                Ok(VersionParam(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<VersionParam, E> {
                Ok(VersionParam(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<VersionParam, E> {
                Ok(VersionParam(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for VersionParam {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PostgresVersion".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A PostgreSQL version: `14` or `\"15.4\"`.",
            "type": ["string", "number"]
        })
    }
}

impl VersionParam {
    /// As `server_version_num` (150004 for 15.4; 90624 for 9.6.24).
    fn as_num(&self) -> Result<u32, String> {
        let text = &self.0;
        let parts: Vec<u32> = text
            .split('.')
            .map(|p| p.parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("invalid version `{text}`: write `14` or `15.4`"))?;
        match parts.as_slice() {
            [major] => Ok(major * 10000),
            [major, minor] if *major >= 10 => Ok(major * 10000 + minor),
            [major, minor] => Ok(major * 10000 + minor * 100),
            [major, minor, patch] if *major < 10 => Ok(major * 10000 + minor * 100 + patch),
            _ => Err(format!("invalid version `{text}`: write `14` or `15.4`")),
        }
    }
}

/// Ends the connection task when the probe ends, however it ends.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn connect<T>(config: &Config, tls: T) -> Result<(Client, AbortOnDrop), tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect(tls).await?;
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((client, AbortOnDrop(task)))
}

/// The server's own words when there are some, else the transport error and its cause.
fn describe(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    match std::error::Error::source(err) {
        Some(cause) => format!("{err}: {cause}"),
        None => err.to_string(),
    }
}

/// Host and port the client connects to first (`localhost:5432` when the URL names none).
fn host_port(config: &Config) -> (String, u16) {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
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

/// The first column of the first row as text (`None` for NULL), or `Err` for no rows.
async fn scalar(client: &Client, sql: &str) -> Result<Result<Option<String>, String>, String> {
    let messages = client.simple_query(sql).await.map_err(|e| describe(&e))?;
    for m in messages {
        if let SimpleQueryMessage::Row(row) = m {
            return Ok(Ok(row.get(0).map(str::to_string)));
        }
    }
    Ok(Err("returned no rows".to_string()))
}

/// The facts the optional checks need, read in one round trip.
const FIGURES: &str = "SELECT current_setting('server_version_num'), current_setting('server_version'), \
     current_setting('max_connections'), (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'), pg_is_in_recovery()";

impl PostgresProbe {
    fn target(&self, config: &Config) -> String {
        if self.url.contains("://") {
            return redact_url(&self.url);
        }
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let db = config.get_dbname().unwrap_or("");
        format!("postgres {host}:{port}/{db}")
    }
}

#[async_trait]
impl Probe for PostgresProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        let parsed = pg_url::parse(&self.url);
        if let Err(e) = &parsed {
            issues.push(ParamIssue::new(
                "url",
                format!("invalid PostgreSQL URL: {e}"),
            ));
        }
        if let Ok(u) = &parsed
            && let Err(e) = Config::from_str(&u.url)
        {
            issues.push(
                ParamIssue::new("url", format!("invalid PostgreSQL URL: {e}"))
                    .hint("write `postgres://user:${env:PGPASSWORD}@host:5432/db?sslmode=require`"),
            );
        }
        if let Some(v) = &self.min_version
            && let Err(e) = v.as_num()
        {
            issues.push(ParamIssue::new("min_version", e));
        }
        if let Some(p) = self.max_connections_used
            && !(p > 0.0 && p <= 100.0)
        {
            issues.push(
                ParamIssue::new("max_connections_used", format!("{p} is not a percentage"))
                    .hint("write a percentage of max_connections between 0 and 100, like `80`"),
            );
        }
        match (&self.query, &self.expect) {
            (Some(_), None) => issues.push(
                ParamIssue::new("query", "`query` has no `expect`")
                    .hint("say what its value must be, like `expect: \"< 100\"`"),
            ),
            (None, Some(_)) => issues.push(
                ParamIssue::new("expect", "`expect` has no `query`")
                    .hint("add the query whose first value is compared, like `query: SELECT count(*) FROM jobs`"),
            ),
            (Some(q), Some(e)) => {
                if q.trim().is_empty() {
                    issues.push(ParamIssue::new("query", "`query` is empty"));
                }
                if let Err(msg) = e.parse() {
                    issues.push(
                        ParamIssue::new("expect", msg)
                            .hint("write a comparison such as `< 0.05`, `== 1`, `>= 3` or `== on`"),
                    );
                }
            }
            (None, None) => {}
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let started = Instant::now();
        let left = || ctx.timeout.saturating_sub(started.elapsed());
        let parsed = match pg_url::parse(&self.url) {
            Ok(u) => u,
            Err(e) => return Outcome::error(format!("invalid PostgreSQL URL: {e}")),
        };
        let mut config = match Config::from_str(&parsed.url) {
            Ok(c) => c,
            Err(e) => return Outcome::error(format!("invalid PostgreSQL URL: {e}")),
        };
        let shown = self.target(&config);
        config.connect_timeout(ctx.timeout);
        let tls = matches!(parsed.mode, TlsMode::VerifyFull | TlsMode::VerifyCa);
        let rustls = if tls {
            match trust(self.ca_file.as_deref(), parsed.root_cert.as_deref())
                .and_then(|roots| pg_url::client_config(parsed.mode, roots))
            {
                Ok(config) => Some(config),
                Err(e) => return Outcome::error(e),
            }
        } else {
            None
        };
        let connecting = async {
            match rustls {
                Some(rustls) => connect(&config, MakeRustlsConnect::new(rustls)).await,
                None => connect(&config, NoTls).await,
            }
        };
        let (host, port) = host_port(&config);
        let no_answer = |why: NoAnswer, detail: &str| {
            let words = in_words(&why, &host, port, ctx.timeout, detail);
            unanswered(&why, Property::Reachability, format!("{shown}: {words}"))
                .with("url", shown.as_str())
                .with("tls", tls)
        };
        let (client, _connection) = match tokio::time::timeout(left(), connecting).await {
            Err(_) => return no_answer(NoAnswer::Timeout, ""),
            Ok(Err(e)) => {
                return refusal(&shown, &e)
                    .map(|o| o.with("url", shown.as_str()).with("tls", tls))
                    .unwrap_or_else(|why| no_answer(why, &describe(&e)));
            }
            Ok(Ok(c)) => c,
        };
        match tokio::time::timeout(left(), scalar(&client, "SELECT 1")).await {
            Err(_) => return no_answer(NoAnswer::Timeout, "`SELECT 1` got no answer"),
            Ok(Err(e)) => return Outcome::fail(format!("{shown}: `SELECT 1` failed: {e}")),
            Ok(Ok(_)) => {}
        }
        let select_ms = started.elapsed().as_millis() as u64;
        let mut outcome = Outcome::pass("")
            .with("url", shown.as_str())
            .with("tls", tls)
            .with("connect_and_select_ms", select_ms);

        let needs_figures = self.min_version.is_some()
            || self.max_connections_used.is_some()
            || self.read_only.is_some();
        let figures = match tokio::time::timeout(left(), client.simple_query(FIGURES)).await {
            Ok(Ok(messages)) => messages.into_iter().find_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..5)
                        .map(|i| row.get(i).unwrap_or_default().to_string())
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            }),
            Ok(Err(e)) if needs_figures => {
                return Outcome::error(format!(
                    "{shown}: reading server figures failed: {}",
                    describe(&e)
                ));
            }
            Err(_) if needs_figures => {
                return unanswered(
                    &NoAnswer::Timeout,
                    Property::Content,
                    format!(
                        "{shown}: connected, but the server figures did not come back within {}: they could not be judged",
                        within(ctx.timeout)
                    ),
                );
            }
            _ => None,
        };
        let mut problems = Vec::new();
        let mut version_text = String::new();
        if let Some(f) = &figures {
            let (num, version, max, used, recovery) = (&f[0], &f[1], &f[2], &f[3], &f[4]);
            version_text = version.clone();
            outcome = outcome
                .with("server_version", version.as_str())
                .with("connections", used.parse::<u64>().unwrap_or_default())
                .with("max_connections", max.parse::<u64>().unwrap_or_default())
                .with("in_recovery", recovery == "t");
            if let Some(min) = &self.min_version
                && let (Ok(want), Ok(found)) = (min.as_num(), num.parse::<u32>())
                && found < want
            {
                problems.push(format!(
                    "server version is {version}, expected at least {}",
                    min.0
                ));
            }
            if let Some(limit) = self.max_connections_used
                && let (Ok(used), Ok(max)) = (used.parse::<f64>(), max.parse::<f64>())
                && max > 0.0
            {
                let pct = used * 100.0 / max;
                outcome = outcome.with("connections_used_percent", (pct * 10.0).round() / 10.0);
                if pct > limit {
                    problems.push(format!(
                        "{used} of {max} connections in use ({pct:.1}%), expected at most {limit}%"
                    ));
                }
            }
            if let Some(want) = self.read_only {
                let found = recovery == "t";
                if found != want {
                    let say = |ro: bool| {
                        if ro {
                            "read-only (in recovery)"
                        } else {
                            "read-write (primary)"
                        }
                    };
                    problems.push(format!("server is {}, expected {}", say(found), say(want)));
                }
            }
        } else if needs_figures {
            return Outcome::error(format!("{shown}: the server returned no figures"));
        }

        if let (Some(sql), Some(expect)) = (&self.query, &self.expect) {
            let cmp = match expect.parse() {
                Ok(c) => c,
                Err(e) => return Outcome::error(e),
            };
            let value = match tokio::time::timeout(left(), scalar(&client, sql)).await {
                Err(_) => {
                    return unanswered(
                        &NoAnswer::Timeout,
                        Property::Content,
                        format!(
                            "{shown}: `query` did not answer within {}: its value could not be compared",
                            within(ctx.timeout)
                        ),
                    );
                }
                Ok(Err(e)) => return Outcome::error(format!("{shown}: `query` failed: {e}")),
                Ok(Ok(v)) => v,
            };
            match value {
                Err(why) => problems.push(format!("`query` {why}, expected a value {cmp}")),
                Ok(None) => problems.push(format!("`query` returned NULL, expected a value {cmp}")),
                Ok(Some(v)) => {
                    outcome = outcome.with("query_value", v.as_str());
                    match cmp.holds(&v) {
                        Ok(true) => {}
                        Ok(false) => problems.push(format!("`query` returned {v}, expected {cmp}")),
                        Err(e) => {
                            return Outcome::error(format!(
                                "{shown}: `query` value {e}, cannot compare with {cmp}"
                            ));
                        }
                    }
                }
            }
        }

        if problems.is_empty() {
            let version = if version_text.is_empty() {
                String::new()
            } else {
                format!(" (PostgreSQL {version_text})")
            };
            outcome.message =
                format!("{shown}: connected and ran SELECT 1 in {select_ms} ms{version}");
        } else {
            outcome.status = crate::outcome::Status::Fail;
            outcome.message = format!("{shown}: {}", problems.join("; "));
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_server_version_num() {
        assert_eq!(VersionParam("14".into()).as_num(), Ok(140000));
        assert_eq!(VersionParam("15.4".into()).as_num(), Ok(150004));
        assert_eq!(VersionParam("9.6".into()).as_num(), Ok(90600));
        assert!(VersionParam("fifteen".into()).as_num().is_err());
    }

    #[test]
    fn query_and_expect_come_together() {
        let probe: PostgresProbe = serde_json::from_value(serde_json::json!({
            "url": "postgres://u:p@127.0.0.1/db",
            "query": "SELECT 1",
        }))
        .expect("params");
        let issues = probe.check_params();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].field, "query");
        let bad: PostgresProbe = serde_json::from_value(serde_json::json!({
            "url": "postgres://u:p@127.0.0.1/db?sslmode=bogus",
            "query": "SELECT 1",
            "expect": "< lots",
            "max_connections_used": 120,
        }))
        .expect("params");
        let fields: Vec<_> = bad.check_params().iter().map(|i| i.field).collect();
        assert_eq!(fields, ["url", "max_connections_used", "expect"]);
    }
}
