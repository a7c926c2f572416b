//! `redis`: a real client connects (AUTH, TLS for `rediss://`), PING is answered, and the
//! figures from INFO are held against the item: role, memory ratio, last RDB save.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::compare::redact_url;
use crate::limit::Limit;
use crate::net::NetParams;
use crate::net::dial::{in_words, unanswered, within};
use crate::net::tls_client::client_auth_hint;
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::service::redis_connect::{self, Failure, Settings};

/// Parameters of `check: { redis: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisProbe {
    /// `redis://[:password@]host:port[/db]` or `rediss://` for TLS; put the password in
    /// `${env:REDIS_PASSWORD}`.
    pub url: String,
    /// The role the server must have.
    pub role: Option<RedisRole>,
    /// Upper bound for `used_memory / maxmemory` (0.0 to 1.0); fails when maxmemory is unset.
    /// `{ fail: 0.9, warn: 0.75 }` warns first.
    pub max_memory_ratio: Option<Limit<f64>>,
    /// Require `rdb_last_bgsave_status:ok` (the last snapshot to disk succeeded).
    #[serde(default)]
    pub persistence: bool,
    /// PEM bundle added to the trusted roots (for `rediss://`).
    pub ca_file: Option<PathBuf>,
    /// Assertions on INFO, as `{field: value}`: `/connected_clients < 500`,
    /// `/used_memory < 2GiB warn 1GiB`, `/aof_enabled == 1` (see the README).
    #[serde(default)]
    pub assert: crate::assert::Assertions,
}

/// `role:` of a Redis server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RedisRole {
    Master,
    Replica,
}

impl RedisRole {
    fn as_str(self) -> &'static str {
        match self {
            RedisRole::Master => "master",
            RedisRole::Replica => "replica",
        }
    }
}

/// `INFO` output as key → value (section headers and blank lines dropped).
fn parse_info(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// What INFO says, checked against the item; `problems` are one fragment each.
#[cfg(test)]
fn judge(probe: &RedisProbe, info: &BTreeMap<String, String>, problems: &mut Vec<String>) {
    judge_levels(probe, info, problems, &mut Vec::new());
}

/// As `judge`, with the warn levels crossed said in `warnings`.
fn judge_levels(
    probe: &RedisProbe,
    info: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let get = |k: &str| info.get(k).map(String::as_str);
    if let Some(want) = probe.role {
        // Redis calls replicas `slave` in INFO.
        let found = match get("role") {
            Some("slave") => "replica",
            Some(other) => other,
            None => "unknown",
        };
        if found != want.as_str() {
            problems.push(format!("role is {found}, expected {}", want.as_str()));
        }
    }
    if let Some(levels) = probe.max_memory_ratio {
        let limit = levels.fail.or(levels.warn).unwrap_or(1.0);
        let used: Option<u64> = get("used_memory").and_then(|v| v.parse().ok());
        let max: Option<u64> = get("maxmemory").and_then(|v| v.parse().ok());
        match (used, max) {
            (Some(_), Some(0)) => problems.push(format!(
                "maxmemory is 0 (unbounded), expected a limit with used/max at most {limit}"
            )),
            (Some(used), Some(max)) => {
                let ratio = used as f64 / max as f64;
                match levels.ceiling("memory ratio", ratio) {
                    (Status::Fail, _) => problems.push(format!(
                        "memory ratio is {ratio:.3} ({used} of {max} bytes), expected at most {limit}"
                    )),
                    (Status::Warn, Some(words)) => {
                        warnings.push(format!("{words}, {used} of {max} bytes"))
                    }
                    _ => {}
                }
            }
            _ => problems.push("INFO reports no used_memory / maxmemory".to_string()),
        }
    }
    if probe.persistence {
        match get("rdb_last_bgsave_status") {
            Some("ok") => {}
            Some(other) => problems.push(format!("rdb_last_bgsave_status is {other}, expected ok")),
            None => problems.push("INFO reports no rdb_last_bgsave_status".to_string()),
        }
    }
}

impl RedisProbe {
    /// Host and port of `url` as the client connects to them (6379 when the URL has none).
    fn host_port(&self) -> (String, u16) {
        crate::net::dial::url_endpoint(&self.url, 6379)
    }

    /// `Ok`: Redis itself answered with a refusal (bad credentials, an error reply), a `fail`.
    /// `Err`: no answer came back, and why.
    fn refusal(&self, shown: &str, err: &redis::RedisError) -> Result<Outcome, NoAnswer> {
        // One line: parse errors list every unexpected byte on its own line.
        let text = err
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let auth = err.kind() == redis::ErrorKind::AuthenticationFailed
            || ["WRONGPASS", "NOAUTH", "invalid password"]
                .iter()
                .any(|w| text.contains(w));
        if auth {
            return Ok(
                Outcome::fail(format!("{shown}: Redis rejected the credentials: {text}"))
                    .with("url", shown)
                    .with("auth", "rejected"),
            );
        }
        if err.kind() == redis::ErrorKind::Parse {
            return Ok(Outcome::fail(format!(
                "{shown}: the server answered, but not as Redis: {}",
                text.chars().take(120).collect::<String>()
            ))
            .with("url", shown));
        }
        let why = NoAnswer::classify(err);
        if why == NoAnswer::Other && !err.is_io_error() {
            return Ok(
                Outcome::fail(format!("{shown}: Redis answered with an error: {text}"))
                    .with("url", shown),
            );
        }
        Err(why)
    }
}

#[async_trait]
impl Probe for RedisProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = self.assert.check("assert", &["pointer"]);
        match url::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "redis" | "rediss") && u.host().is_some() => {}
            _ => issues.push(
                ParamIssue::new(
                    "url",
                    format!(
                        "`{}` is not a redis:// or rediss:// URL",
                        redact_url(&self.url)
                    ),
                )
                .hint("write `redis://:${env:REDIS_PASSWORD}@host:6379/0`"),
            ),
        }
        if self.ca_file.is_some() && !self.url.starts_with("rediss:") {
            issues.push(
                ParamIssue::new("ca_file", "`ca_file` only applies to `rediss://` URLs")
                    .hint("use `rediss://` for TLS, or drop `ca_file`"),
            );
        }
        let levels = self.max_memory_ratio.iter().flat_map(|l| [l.fail, l.warn]);
        for r in levels.flatten().filter(|r| !(*r > 0.0 && *r <= 1.0)) {
            issues.push(
                ParamIssue::new("max_memory_ratio", format!("{r} is not a ratio"))
                    .hint("write a fraction of maxmemory between 0 and 1, like `0.9`"),
            );
        }
        if let Some(why) = self.max_memory_ratio.and_then(|l| l.warn_below_fail()) {
            issues.push(ParamIssue::new("max_memory_ratio", why));
        }
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        if net.client_cert.is_some() && !self.url.starts_with("rediss:") {
            issues.push(
                ParamIssue::new(
                    "client_cert",
                    "`client_cert` only applies to `rediss://` URLs",
                )
                .hint("use `rediss://` for TLS, or drop `client_cert`"),
            );
        }
        let (host, _) = self.host_port();
        issues.extend(net.check(Some(&host)));
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let shown = redact_url(&self.url);
        // The connection holds one of the host's per-host slots while the item runs.
        let _slot = match ctx.connection_slot(&self.host_port().0).await {
            Ok(s) => s,
            Err(outcome) => return outcome.with("url", shown.as_str()),
        };
        let started = Instant::now();
        let left = || ctx.timeout.saturating_sub(started.elapsed());
        let settings = Settings {
            url: &self.url,
            ca_file: self.ca_file.as_deref(),
            net: &ctx.net,
        };
        let (host, port) = self.host_port();
        let no_answer = |why: NoAnswer, detail: &str| {
            let words = in_words(&why, &host, port, ctx.timeout, detail);
            unanswered(&why, Property::Reachability, format!("{shown}: {words}"))
                .with("url", shown.as_str())
        };
        let opened =
            match tokio::time::timeout(left(), redis_connect::open(&settings, &shown, ctx.timeout))
                .await
            {
                Err(_) => return no_answer(NoAnswer::Timeout, ""),
                Ok(Err(Failure::Outcome(o))) => return o,
                Ok(Err(Failure::Redis(e, tls, id))) => {
                    let hint = client_auth_hint(tls.as_ref(), id.as_ref());
                    let mut o = self
                        .refusal(&shown, &e)
                        .unwrap_or_else(|why| no_answer(why, &e.to_string()));
                    o.message.push_str(&hint);
                    return o;
                }
                Ok(Ok(o)) => o,
            };
        let hint = || client_auth_hint(opened.tls.as_ref(), opened.identity.as_ref());
        let mut con = opened.con.clone();
        let ping_cmd = redis::cmd("PING");
        let ping = ping_cmd.query_async::<String>(&mut con);
        match tokio::time::timeout(left(), ping).await {
            Err(_) => return no_answer(NoAnswer::Timeout, "PING got no answer"),
            Ok(Err(e)) => {
                let mut o = self
                    .refusal(&shown, &e)
                    .unwrap_or_else(|why| no_answer(why, &format!("PING failed: {e}")));
                o.message.push_str(&hint());
                return opened.route.evidence(o);
            }
            Ok(Ok(pong)) if pong != "PONG" => {
                return Outcome::fail(format!("{shown}: PING answered `{pong}`, expected PONG"));
            }
            Ok(Ok(_)) => {}
        }
        let ping_ms = started.elapsed().as_millis() as u64;
        let info_cmd = redis::cmd("INFO");
        let info = info_cmd.query_async::<String>(&mut con);
        // INFO is only needed for the figures; a server that hides it (`rename-command INFO ""`)
        // still passes a plain reachability check.
        let needs_info = self.role.is_some()
            || self.max_memory_ratio.is_some()
            || self.persistence
            || !self.assert.is_empty();
        let info = match tokio::time::timeout(left().max(Duration::from_millis(1)), info).await {
            Ok(Ok(text)) => parse_info(&text),
            _ if !needs_info => BTreeMap::new(),
            Err(_) => {
                return unanswered(
                    &NoAnswer::Timeout,
                    Property::Content,
                    format!(
                        "{shown}: PONG came back, but INFO got no answer within {}: the figures could not be read",
                        within(ctx.timeout)
                    ),
                );
            }
            Ok(Err(e)) => {
                return Outcome::error(format!(
                    "{shown}: PONG came back, but INFO failed ({e}): the figures could not be read"
                ))
                .with("url", shown.as_str());
            }
        };
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        judge_levels(self, &info, &mut problems, &mut warnings);
        let mut outcome = if problems.is_empty() && !warnings.is_empty() {
            Outcome::warn(format!("{shown}: degraded: {}", warnings.join("; ")))
        } else if problems.is_empty() {
            let version = match info.get("redis_version") {
                Some(v) => format!("from Redis {v}"),
                None => "(INFO not available)".to_string(),
            };
            Outcome::pass(format!("{shown}: PONG in {ping_ms} ms {version}"))
        } else {
            Outcome::fail(format!("{shown}: {}", problems.join("; ")))
        };
        outcome = outcome.with("url", shown.as_str()).with("ping_ms", ping_ms);
        outcome = opened.route.evidence(outcome);
        if let Some(id) = &opened.identity {
            outcome = outcome.with("client_cert", id.evidence());
        }
        if !self.assert.is_empty() {
            let doc = serde_json::to_value(&info).map_err(|e| e.to_string());
            outcome = self
                .assert
                .evaluate(&crate::assert::Subject {
                    doc: Some(doc),
                    ..Default::default()
                })
                .fold(outcome);
        }
        for key in [
            "redis_version",
            "role",
            "used_memory",
            "maxmemory",
            "rdb_last_bgsave_status",
            "connected_clients",
        ] {
            if let Some(v) = info.get(key) {
                outcome = outcome.with(key, v.as_str());
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> RedisProbe {
        RedisProbe {
            url: "redis://127.0.0.1:6379".into(),
            role: Some(RedisRole::Replica),
            max_memory_ratio: Some(Limit::fail_only(0.5)),
            persistence: true,
            ca_file: None,
            assert: Default::default(),
        }
    }

    #[test]
    fn info_figures_are_judged() {
        let info = parse_info(
            "# Replication\r\nrole:slave\r\n# Memory\r\nused_memory:600\r\nmaxmemory:1000\r\nrdb_last_bgsave_status:err\r\n",
        );
        let mut problems = Vec::new();
        judge(&probe(), &info, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("memory ratio is 0.600"));
        assert_eq!(problems[1], "rdb_last_bgsave_status is err, expected ok");
    }

    #[test]
    fn unbounded_memory_fails_a_ratio_check() {
        let info =
            parse_info("role:slave\nused_memory:1\nmaxmemory:0\nrdb_last_bgsave_status:ok\n");
        let mut problems = Vec::new();
        judge(&probe(), &info, &mut problems);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("unbounded"));
    }

    #[test]
    fn urls_and_ratios_are_validated() {
        let mut p = probe();
        p.url = "http://:pw@host".into();
        p.max_memory_ratio = Some(Limit::fail_only(1.5));
        let issues = p.check_params();
        assert_eq!(issues.len(), 2);
        assert!(issues[0].message.contains("http://:***@host"));
    }
}
