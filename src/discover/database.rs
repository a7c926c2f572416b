//! Discovery from PostgreSQL (`database_url`) and Redis (`redis_url`): the primary's streaming
//! replicas (a guess for `min_replicas`: the user states what they require), whether
//! `pg_stat_statements` is installed, and the Redis server's role. Read-only queries only.

use std::path::Path;
use std::time::Duration;

use checks::compare::redact_url;
use checks::service::facts;

use super::finding::{Finding, Learned, short};

/// Each connection and query's timeout.
const TIMEOUT: Duration = Duration::from_secs(5);

const QUERIES: [&str; 3] = [
    "SELECT pg_is_in_recovery()::text",
    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
    "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'",
];

/// `min_replicas` (a guess) and notes from the PostgreSQL server at `url`.
pub async fn postgres(url: &str, ca_file: Option<&Path>) -> Learned {
    let mut learned = Learned::default();
    let shown = redact_url(url);
    let answers = match facts::postgres_scalars(url, ca_file, TIMEOUT, &QUERIES).await {
        Ok(a) => a,
        Err(e) => {
            let why = format!(
                "database_url did not take a connection ({})",
                short(&e, 140)
            );
            learned.push(Finding::needed("min_replicas", why));
            return learned;
        }
    };
    let text = |i: usize| match answers.get(i) {
        Some(Ok(Some(v))) => Ok(v.clone()),
        Some(Ok(None)) => Err("no value".to_string()),
        Some(Err(e)) => Err(e.clone()),
        None => Err("not asked".to_string()),
    };
    if text(0).as_deref() == Ok("true") {
        learned.push(Finding::needed(
            "min_replicas",
            format!("{shown} is a standby (pg_is_in_recovery): point database_url at the primary"),
        ));
    } else {
        match text(1) {
            Ok(n) => learned.push(Finding::guessed_yaml(
                "min_replicas",
                n.clone(),
                format!("the primary streams to {n} replica(s) now (pg_stat_replication); state how many you require"),
            )),
            Err(e) => learned.push(Finding::needed(
                "min_replicas",
                format!("pg_stat_replication could not be read ({e})"),
            )),
        }
    }
    match text(2).as_deref() {
        Ok("1") => learned.note("pg_stat_statements", "installed in the database database_url names"),
        Ok(_) => learned.note(
            "pg_stat_statements",
            "not installed: `CREATE EXTENSION pg_stat_statements` (and shared_preload_libraries) to see slow queries",
        ),
        Err(e) => learned.note("pg_stat_statements", format!("could not be checked ({e})")),
    }
    learned
}

/// The Redis server's role and replicas, from `INFO replication`.
pub async fn redis(url: &str, ca_file: Option<&Path>) -> Learned {
    let mut learned = Learned::default();
    let info = match facts::redis_info(url, ca_file, TIMEOUT, "replication").await {
        Ok(t) => t,
        Err(e) => {
            learned.note(
                "redis role",
                format!("redis_url did not answer INFO ({})", short(&e, 140)),
            );
            return learned;
        }
    };
    let field = |name: &str| {
        info.lines().find_map(|l| {
            l.trim()
                .strip_prefix(&format!("{name}:"))
                .map(str::to_string)
        })
    };
    let role = field("role").unwrap_or_else(|| "unknown".into());
    let replicas = field("connected_slaves").unwrap_or_else(|| "0".into());
    let what = match role.as_str() {
        "master" => format!("master with {replicas} connected replica(s) (INFO replication)"),
        "slave" => {
            "a replica (role slave): the shipped redis item expects redis_url to name the master"
                .to_string()
        }
        other => format!("role `{other}` (INFO replication)"),
    };
    learned.note("redis role", what);
    learned
}
