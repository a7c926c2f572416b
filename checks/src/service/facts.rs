//! Read-only facts for `prodcheck init --discover`: SQL scalars over the `postgres` probe's
//! connection path, and one Redis `INFO` section over the `redis` probe's (same TLS and trust).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::{Config, SimpleQueryMessage};

use crate::compare::redact_url;
use crate::net::NetParams;
use crate::service::{pg_connect, pg_url, redis_connect};

/// The first column of the first row of each query (`None`: NULL or no row), all on one
/// connection opened within `timeout`; each query bounded by `timeout` too. `Err`: no connection.
pub async fn postgres_scalars(
    url: &str,
    ca_file: Option<&Path>,
    timeout: Duration,
    queries: &[&str],
) -> Result<Vec<Result<Option<String>, String>>, String> {
    let shown = redact_url(url);
    let parsed = pg_url::parse(url).map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
    let config =
        Config::from_str(&parsed.url).map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
    let net = NetParams::default();
    let settings = pg_connect::Settings { ca_file, net: &net };
    let conn = pg_connect::open(&settings, &parsed, &config, &shown, timeout)
        .await
        .map_err(|o| o.message)?;
    let mut out = Vec::new();
    for sql in queries {
        let answer = tokio::time::timeout(timeout, conn.client.simple_query(sql)).await;
        out.push(match answer {
            Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
            Ok(Err(e)) => Err(pg_connect::describe(&e)),
            Ok(Ok(messages)) => Ok(messages
                .into_iter()
                .find_map(|m| match m {
                    SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_string)),
                    _ => None,
                })
                .flatten()),
        });
    }
    Ok(out)
}

/// `INFO section` of the Redis server at `url` (AUTH and TLS as the `redis` probe does them).
pub async fn redis_info(
    url: &str,
    ca_file: Option<&Path>,
    timeout: Duration,
    section: &str,
) -> Result<String, String> {
    let shown = redact_url(url);
    let net = NetParams::default();
    let settings = redis_connect::Settings {
        url,
        ca_file,
        net: &net,
    };
    let mut opened = match redis_connect::open(&settings, &shown, timeout).await {
        Ok(o) => o,
        Err(redis_connect::Failure::Outcome(o)) => return Err(o.message),
        Err(redis_connect::Failure::Redis(e, _, _)) => return Err(format!("{shown}: {e}")),
    };
    let mut cmd = redis::cmd("INFO");
    cmd.arg(section);
    let info = cmd.query_async::<String>(&mut opened.con);
    match tokio::time::timeout(timeout, info).await {
        Err(_) => Err(format!(
            "{shown}: INFO got no answer within {} s",
            timeout.as_secs()
        )),
        Ok(Err(e)) => Err(format!("{shown}: INFO failed: {e}")),
        Ok(Ok(text)) => Ok(text),
    }
}
