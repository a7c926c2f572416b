//! `postgres`: proves the database takes real connections (auth, `sslmode=require` over rustls,
//! `SELECT 1`), then holds version, connection use, recovery mode and a custom query to the item.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, SimpleQueryMessage};

use crate::compare::{CompareParam, redact_url};
use crate::limit::{Limit, Percent};
use crate::net::NetParams;
use crate::net::dial::{unanswered, within};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::params::scalar::{self, Number, ScalarParam};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::service::pg_connect::{self, Settings, describe};
use crate::service::pg_url;

/// Parameters of `check: { postgres: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresProbe {
    /// `postgres://user:${env:PGPASSWORD}@host:5432/db`; libpq's `sslmode` (`disable`,
    /// `prefer`, `require` = `verify-full`: chain and name verified, `verify-ca`: chain only)
    /// and `sslrootcert=PATH` are honoured; the roots are the system's, `ca_file` and
    /// `sslrootcert`. `sslcert` and `sslkey` work as `client_cert` and `client_key`.
    pub url: String,
    /// PEM bundle added to the trusted roots for `sslmode=require`.
    pub ca_file: Option<PathBuf>,
    /// Lowest acceptable server version, `"14"` or `"15.4"`.
    pub min_version: Option<VersionParam>,
    /// Highest acceptable share of `max_connections` in use, in percent (`80`);
    /// `{ fail: 90, warn: 75 }` warns while there is still headroom.
    pub max_connections_used: Option<Limit<Percent>>,
    /// `true`: the server must be a read-only standby (in recovery); `false`: it must not be.
    pub read_only: Option<bool>,
    /// A query whose first column of the first row is compared with `expect`, or whose rows
    /// `assert` looks into.
    pub query: Option<String>,
    /// The comparison for `query`'s value: `< 100`, `== 0`, `== on`; or
    /// `{ fail: "< 100", warn: "< 50" }` to warn first.
    pub expect: Option<Limit<CompareParam>>,
    /// Assertions on `query`'s rows, as `[{column: value}]` (values as text, compared as
    /// numbers where they read as one): `/0/lag_s < 30 warn 10`, `. every /state == streaming`.
    #[serde(default)]
    pub assert: crate::assert::Assertions,
}

/// Rows of `query` the assertions see, at most.
const MAX_ROWS: usize = 100;

/// `sql`'s rows as `[{column: value}]` (NULL as null), the first `MAX_ROWS` of them.
async fn rows(client: &Client, sql: &str) -> Result<serde_json::Value, String> {
    let messages = client.simple_query(sql).await.map_err(|e| describe(&e))?;
    let rows = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .take(MAX_ROWS)
        .map(|row| {
            let cells = row
                .columns()
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name().to_string(), serde_json::json!(row.get(i))))
                .collect::<serde_json::Map<_, _>>();
            serde_json::Value::Object(cells)
        })
        .collect();
    Ok(serde_json::Value::Array(rows))
}

/// A PostgreSQL version written `14`, `"14"` or `"15.4"` (kept as text).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionParam(pub String);

impl ScalarParam for VersionParam {
    const EXPECTING: &'static str = "a version such as `14` or `\"15.4\"`";
    fn from_text(text: &str) -> Result<Self, String> {
        Ok(VersionParam(text.trim().to_string()))
    }
    fn from_number(number: Number) -> Option<Result<Self, String>> {
        Some(Ok(VersionParam(number.to_string())))
    }
}

scalar::impl_serde_and_schema!(VersionParam, "PostgresVersion", {
    "description": "A PostgreSQL version: `14` or `\"15.4\"`.",
    "type": ["string", "number"]
});

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

/// The answer to the item's `query` within `left`, or the outcome when there is none:
/// `unanswered` in time (`lost`: what could not be done without it), or the server's error.
async fn ask<T>(
    query: impl std::future::Future<Output = Result<T, String>>,
    left: std::time::Duration,
    ctx: &ProbeContext,
    shown: &str,
    lost: &str,
) -> Result<T, Outcome> {
    match tokio::time::timeout(left, query).await {
        Err(_) => Err(unanswered(
            &NoAnswer::Timeout,
            Property::Content,
            format!(
                "{shown}: `query` did not answer within {}: {lost}",
                within(ctx.timeout)
            ),
        )),
        Ok(Err(e)) => Err(Outcome::error(format!("{shown}: `query` failed: {e}"))),
        Ok(Ok(answer)) => Ok(answer),
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
        if let Ok(u) = &parsed {
            issues.extend(
                crate::net::identity::check(&u.cert, &u.key)
                    .into_iter()
                    .map(|mut i| {
                        i.field = "url";
                        i.message = i
                            .message
                            .replace("`client_cert`", "`sslcert`")
                            .replace("`client_key`", "`sslkey`");
                        i.hint = None;
                        i
                    }),
            );
        }
        if let Some(v) = &self.min_version
            && let Err(e) = v.as_num()
        {
            issues.push(ParamIssue::new("min_version", e));
        }
        let levels = self
            .max_connections_used
            .iter()
            .flat_map(|l| [l.fail, l.warn]);
        for Percent(p) in levels.flatten() {
            if !(p > 0.0 && p <= 100.0) {
                issues.push(
                    ParamIssue::new("max_connections_used", format!("{p} is not a percentage"))
                        .hint("write a percentage of max_connections between 0 and 100, like `80`"),
                );
            }
        }
        if let Some(why) = self.max_connections_used.and_then(|l| l.warn_below_fail()) {
            issues.push(ParamIssue::new("max_connections_used", why));
        }
        issues.extend(self.assert.check("assert", &["pointer"]));
        if self.query.is_none() && !self.assert.is_empty() {
            issues.push(
                ParamIssue::new("assert", "`assert` has no `query` to look into")
                    .hint("add the query whose rows are asserted, like `query: SELECT state FROM pg_stat_replication`"),
            );
        }
        match (&self.query, &self.expect) {
            (Some(_), None) if !self.assert.is_empty() => {}
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
                for level in [&e.fail, &e.warn].into_iter().flatten() {
                    if let Err(msg) = level.parse() {
                        issues.push(
                            ParamIssue::new("expect", msg)
                                .hint("write a comparison such as `< 0.05`, `== 1`, `>= 3` or `== on`"),
                        );
                    }
                }
                if let (Some(Ok(f)), Some(Ok(w))) = (
                    e.fail.as_ref().map(CompareParam::parse),
                    e.warn.as_ref().map(CompareParam::parse),
                ) && let Err(why) = crate::compare::Comparison::check_levels(&f, &w)
                {
                    issues.push(ParamIssue::new("expect", why));
                }
            }
            (None, None) => {}
        }
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        let config = pg_url::parse(&self.url)
            .ok()
            .and_then(|u| Config::from_str(&u.url).ok());
        let host = match config.as_ref().and_then(|c| c.get_hosts().first()) {
            Some(Host::Tcp(host)) => Some(host.as_str()),
            _ => None,
        };
        net.check(host)
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let parsed = match pg_url::parse(&self.url) {
            Ok(u) => u,
            Err(e) => return Outcome::error(format!("invalid PostgreSQL URL: {e}")),
        };
        let config = match Config::from_str(&parsed.url) {
            Ok(c) => c,
            Err(e) => return Outcome::error(format!("invalid PostgreSQL URL: {e}")),
        };
        let shown = self.target(&config);
        // The connection holds one of the host's per-host slots while the item runs (the
        // first TCP host's; a Unix socket is no network host).
        let _slot = match config.get_hosts().iter().find_map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => Some(name.clone()),
            _ => None,
        }) {
            Some(host) => match ctx.connection_slot(&host).await {
                Ok(s) => Some(s),
                Err(outcome) => return outcome.with("url", shown.as_str()),
            },
            None => None,
        };
        let started = Instant::now();
        let left = || ctx.timeout.saturating_sub(started.elapsed());
        let settings = Settings {
            ca_file: self.ca_file.as_deref(),
            net: &ctx.net,
        };
        let conn = match pg_connect::open(&settings, &parsed, &config, &shown, ctx.timeout).await {
            Ok(c) => c,
            Err(outcome) => return outcome,
        };
        let (client, tls) = (&conn.client, conn.tls);
        match tokio::time::timeout(left(), scalar(client, "SELECT 1")).await {
            Err(_) => {
                return unanswered(
                    &NoAnswer::Timeout,
                    Property::Reachability,
                    format!(
                        "{shown}: connected, but `SELECT 1` got no answer within {}",
                        within(ctx.timeout)
                    ),
                )
                .with("url", shown.as_str())
                .with("tls", tls);
            }
            Ok(Err(e)) => return Outcome::fail(format!("{shown}: `SELECT 1` failed: {e}")),
            Ok(Ok(_)) => {}
        }
        let select_ms = started.elapsed().as_millis() as u64;
        let mut outcome = Outcome::pass("")
            .with("url", shown.as_str())
            .with("tls", tls)
            .with("connect_and_select_ms", select_ms);
        if let Some(route) = &conn.route {
            outcome = route.evidence(outcome);
        }
        if let Some(id) = &conn.identity {
            outcome = outcome.with("client_cert", id.evidence());
        }

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
        let mut warnings: Vec<String> = Vec::new();
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
            if let Some(levels) = self.max_connections_used
                && let (Ok(used), Ok(max)) = (used.parse::<f64>(), max.parse::<f64>())
                && max > 0.0
            {
                let pct = (used * 1000.0 / max).round() / 10.0;
                outcome = outcome.with("connections_used_percent", pct);
                match levels.ceiling("connections in use", pct) {
                    (Status::Fail, _) => problems.push(format!(
                        "{used} of {max} connections in use ({pct:.1}%), expected at most {}%",
                        levels.fail.map(|f| f.0).unwrap_or_default()
                    )),
                    (Status::Warn, Some(words)) => {
                        warnings.push(format!("{words}, {used} of {max}"))
                    }
                    _ => {}
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

        if let (Some(sql), Some(levels)) = (&self.query, &self.expect) {
            let parse = |l: &Option<CompareParam>| l.as_ref().map(CompareParam::parse).transpose();
            let (fail, warn) = match (parse(&levels.fail), parse(&levels.warn)) {
                (Ok(f), Ok(w)) => (f, w),
                (Err(e), _) | (_, Err(e)) => return Outcome::error(e),
            };
            let Some(cmp) = fail.clone().or(warn.clone()) else {
                return Outcome::error("`expect` has no level");
            };
            let asked = scalar(client, sql);
            let value = match ask(
                asked,
                left(),
                ctx,
                &shown,
                "its value could not be compared",
            )
            .await
            {
                Ok(v) => v,
                Err(outcome) => return outcome,
            };
            match value {
                Err(why) => problems.push(format!("`query` {why}, expected a value {cmp}")),
                Ok(None) => problems.push(format!("`query` returned NULL, expected a value {cmp}")),
                Ok(Some(v)) => {
                    outcome = outcome.with("query_value", v.as_str());
                    let warned = warn.as_ref().map(|w| (w, w.holds(&v)));
                    match cmp.holds(&v) {
                        Ok(true) if fail.is_some() => {
                            if let Some((w, Ok(false))) = warned {
                                let near = v.trim().parse::<f64>().map(|n| cmp.closeness(n));
                                warnings.push(format!(
                                    "`query` returned {} (warn level {w})",
                                    near.unwrap_or(v.clone())
                                ));
                            }
                        }
                        Ok(true) => {}
                        Ok(false) if fail.is_none() => {
                            warnings.push(format!("`query` returned {v} (warn level {cmp})"))
                        }
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

        let mut asserted = None;
        if let (Some(sql), false) = (&self.query, self.assert.is_empty()) {
            let asked = rows(client, sql);
            let doc = match ask(asked, left(), ctx, &shown, "its rows could not be asserted").await
            {
                Ok(d) => d,
                Err(outcome) => return outcome,
            };
            asserted = Some(self.assert.evaluate(&crate::assert::Subject {
                doc: Some(Ok(doc)),
                ..Default::default()
            }));
        }

        if problems.is_empty() && !warnings.is_empty() {
            outcome.status = Status::Warn;
            outcome.message = format!("{shown}: degraded: {}", warnings.join("; "));
        } else if problems.is_empty() {
            let version = if version_text.is_empty() {
                String::new()
            } else {
                format!(" (PostgreSQL {version_text})")
            };
            outcome.message =
                format!("{shown}: connected and ran SELECT 1 in {select_ms} ms{version}");
        } else {
            outcome.status = Status::Fail;
            outcome.message = format!("{shown}: {}", problems.join("; "));
        }
        match asserted {
            Some(v) => v.fold(outcome),
            None => outcome,
        }
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
