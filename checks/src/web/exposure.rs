//! `exposure`: sensitive paths (`/.env`, `/.git/config`, …) must not be served. A path counts
//! as exposed only when its body looks like the real thing and unlike a path that cannot exist.

use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::net::NetParams;
use crate::no_answer::Property;
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::web::page_target::PageTarget;

/// At most this many paths per item (one request each, plus one for the baseline).
const MAX_PATHS: usize = 50;
const BODY_CAP: u64 = 64 * 1024;

/// Parameters of `check: { exposure: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExposureProbe {
    /// The site root (`https://example.com`); paths are appended to it.
    pub base_url: String,
    /// Paths that must not be served; default: the usual leaks (`/.env`, `/.git/config`, …).
    #[serde(default = "default_paths")]
    pub paths: Vec<String>,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
    /// Extra request headers, e.g. `Authorization: "Basic ${env:STAGING_AUTH}"` for a staging
    /// site behind basic auth (values from `${env:…}` are redacted).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

fn default_paths() -> Vec<String> {
    [
        "/.env",
        "/.git/config",
        "/.git/HEAD",
        "/.svn/entries",
        "/.DS_Store",
        "/server-status",
        "/actuator/env",
        "/phpinfo.php",
        "/.aws/credentials",
        "/backup.sql",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect()
}

/// Whether `body` looks like the real content of `path`; `None` when prodcheck knows no
/// signature for that path (then any 200 unlike the baseline counts as suspicious).
pub fn looks_real(path: &str, body: &[u8]) -> Option<bool> {
    let text = String::from_utf8_lossy(body);
    let lines = || text.lines().map(str::trim);
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let found = match name.as_str() {
        ".env" => lines().any(|l| {
            l.split_once('=').is_some_and(|(k, _)| {
                let k = k.trim_start_matches("export ").trim();
                !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            })
        }),
        "config" if path.contains(".git") => text.contains("[core]"),
        "head" if path.contains(".git") => {
            text.starts_with("ref: refs/")
                || (text.trim().len() == 40 && text.trim().bytes().all(|b| b.is_ascii_hexdigit()))
        }
        "entries" if path.contains(".svn") => lines()
            .next()
            .is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit())),
        ".ds_store" => body.windows(4).any(|w| w == b"Bud1"),
        "server-status" => {
            text.contains("Server Status")
                || text.contains("Server uptime")
                || text.contains("Active connections:")
        }
        "env" if path.contains("actuator") => {
            text.contains("propertySources") || text.contains("activeProfiles")
        }
        "phpinfo.php" => text.contains("phpinfo()") || text.contains("PHP Version"),
        "credentials" => {
            text.contains("aws_access_key_id") || text.contains("aws_secret_access_key")
        }
        n if n.ends_with(".sql") => [
            "CREATE TABLE",
            "INSERT INTO",
            "-- MySQL dump",
            "PostgreSQL database dump",
        ]
        .iter()
        .any(|s| text.contains(s)),
        _ => return None,
    };
    Some(found)
}

/// The body with the requested path removed, so "page /x not found" pages compare equal.
fn normalised(body: &[u8], path: &str) -> String {
    String::from_utf8_lossy(body).replace(path, "")
}

#[async_trait]
impl Probe for ExposureProbe {
    fn planned_requests(&self) -> Vec<(String, u32)> {
        let n = self.paths.len() as u32 + 1;
        crate::politeness::requests_to(&self.base_url, n)
    }

    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = self.page().check_params();
        issues.extend(ParamIssue::list_size(
            "paths",
            self.paths.len(),
            MAX_PATHS,
            "paths",
            "leave `paths` out to use the default list",
        ));
        for p in &self.paths {
            if !p.starts_with('/') {
                issues.push(ParamIssue::new(
                    "paths",
                    format!("path `{p}` must start with `/`"),
                ));
            }
        }
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        self.page().check_net(net)
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let fetcher = match self.page().fetcher(ctx, None) {
            Ok(f) => f.paced(),
            Err(e) => return Outcome::error(e),
        };
        let base = self.base_url.trim_end_matches('/');
        // A path that cannot exist: what this server answers for it is the "not found" baseline.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let nonce = format!(
            "/prodcheck-{nanos:x}-{:x}-does-not-exist",
            std::process::id()
        );
        let baseline = match fetcher.get(&format!("{base}{nonce}"), &[], BODY_CAP).await {
            Ok(p) => p,
            Err(e) => {
                return e
                    .outcome(Property::Content, "cannot check exposure")
                    .with("base_url", base);
            }
        };
        // A server error for a path that cannot exist: no path's answer can be told apart from
        // a broken host, so no more requests are sent (the `auth` probe's rule: 5xx is error).
        if baseline.status >= 500 {
            return Outcome::error(format!(
                "{base}: answered {} for a path that cannot exist ({nonce}), so whether sensitive paths are served cannot be told; fix the server error first",
                baseline.status
            ))
            .with("base_url", base)
            .with("status", baseline.status);
        }
        let baseline_body =
            (baseline.status == 200).then(|| normalised(&baseline.body.bytes, &nonce));

        let (mut exposed, mut suspicious, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        let (mut error_status, mut error_why) = (Status::Error, None);
        let mut results = Vec::new();
        for path in &self.paths {
            let url = format!("{base}{path}");
            let verdict = match fetcher.get(&url, &[], BODY_CAP).await {
                Err(e) => {
                    if errors.is_empty() {
                        error_status = e.status(Property::Content);
                        error_why = Some(e.why.as_str());
                    }
                    errors.push(e.message.clone());
                    json!({"path": path, "error": e.message, "no_answer": e.why.as_str()})
                }
                Ok(p) if p.status >= 500 => {
                    if errors.is_empty() {
                        error_status = Status::Error;
                    }
                    errors.push(format!("{url} answered {}", p.status));
                    json!({"path": path, "status": p.status, "verdict": "server error"})
                }
                Ok(p) => {
                    let same_as_missing =
                        baseline_body.as_deref() == Some(normalised(&p.body.bytes, path).as_str());
                    let verdict = if p.status != 200 || same_as_missing || p.body.bytes.is_empty() {
                        "not served"
                    } else {
                        match looks_real(path, &p.body.bytes) {
                            Some(true) => {
                                exposed.push(path.clone());
                                "exposed"
                            }
                            Some(false) => "served, but not the real content",
                            None => {
                                suspicious.push(path.clone());
                                "served (no known signature)"
                            }
                        }
                    };
                    json!({"path": path, "status": p.status, "verdict": verdict})
                }
            };
            results.push(verdict);
        }
        let (status, message) = if !exposed.is_empty() {
            (
                Status::Fail,
                format!(
                    "{base}: {} exposed: {}; deny these paths (nginx: `location ~ /\\. {{ deny all; }}`) and remove the files from the web root",
                    exposed.len(),
                    exposed.join(", ")
                ),
            )
        } else if !errors.is_empty() {
            (
                error_status,
                format!(
                    "{base}: {} of {} paths could not be checked: {}",
                    errors.len(),
                    self.paths.len(),
                    errors[0]
                ),
            )
        } else if !suspicious.is_empty() {
            (
                Status::Warn,
                format!(
                    "{base}: answered 200 with distinct content for {}; check they hold nothing sensitive",
                    suspicious.join(", ")
                ),
            )
        } else {
            (
                Status::Pass,
                format!(
                    "{base}: none of {} sensitive paths is served",
                    self.paths.len()
                ),
            )
        };
        let mut outcome = Outcome::new(status, message);
        if let Some(why) = error_why {
            outcome = outcome.with("no_answer", why);
        }
        outcome
            .with("base_url", base)
            .with("exposed", json!(exposed))
            .with("spa_fallback", baseline_body.is_some())
            .with("paths", json!(results))
    }
}

impl ExposureProbe {
    /// The page this item reads.
    fn page(&self) -> PageTarget<'_> {
        PageTarget::new("base_url", &self.base_url, &self.ca_file, &self.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        assert_eq!(
            looks_real("/.env", b"# comment\nDB_PASSWORD=hunter2\n"),
            Some(true)
        );
        assert_eq!(
            looks_real("/.env", b"<!doctype html><html>app</html>"),
            Some(false)
        );
        assert_eq!(
            looks_real("/.git/config", b"[core]\n\trepositoryformatversion = 0\n"),
            Some(true)
        );
        assert_eq!(
            looks_real("/.git/HEAD", b"ref: refs/heads/main\n"),
            Some(true)
        );
        assert_eq!(
            looks_real("/backup.sql", b"CREATE TABLE users (id int);"),
            Some(true)
        );
        assert_eq!(looks_real("/custom/secret.txt", b"x"), None);
    }
}
