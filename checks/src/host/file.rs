//! `file`: the newest file matching a glob is fresh and big enough — the backup check ("did
//! last night's dump run?"). Globbing and metadata run off the async threads, under the timeout.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::outcome::Outcome;
use crate::params::{DurationParam, SizeParam};
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Globs matching more paths than this are refused rather than walked for ever.
const MAX_MATCHES: usize = 100_000;

/// Parameters of `check: { file: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileProbe {
    /// A path or glob (`/var/backups/db-*.sql.gz`); the newest matching file is checked.
    pub path: String,
    /// The newest match must have been modified at most this long ago (`26h`).
    #[serde(default)]
    pub max_age: Option<DurationParam>,
    /// The newest match must be at least this big; default 1 byte (non-empty).
    #[serde(default = "default_min_size")]
    pub min_size: SizeParam,
}

fn default_min_size() -> SizeParam {
    SizeParam(1)
}

/// The newest regular file among the matches.
#[derive(Debug)]
struct Newest {
    path: PathBuf,
    modified: SystemTime,
    size: u64,
    matches: usize,
}

fn newest(pattern: &str) -> Result<Option<Newest>, String> {
    let paths = glob::glob(pattern).map_err(|e| format!("invalid glob `{pattern}`: {e}"))?;
    let mut best: Option<Newest> = None;
    let mut matches = 0;
    for entry in paths {
        let Ok(path) = entry else { continue };
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        matches += 1;
        if matches > MAX_MATCHES {
            return Err(format!(
                "`{pattern}` matches more than {MAX_MATCHES} files; narrow the glob"
            ));
        }
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if best.as_ref().is_none_or(|b| modified > b.modified) {
            best = Some(Newest {
                path,
                modified,
                size: meta.len(),
                matches: 0,
            });
        }
    }
    Ok(best.map(|b| Newest { matches, ..b }))
}

fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

#[async_trait]
impl Probe for FileProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        match glob::Pattern::new(&self.path) {
            _ if self.path.trim().is_empty() => vec![ParamIssue::new("path", "`path` is empty")],
            Ok(_) => Vec::new(),
            Err(e) => vec![
                ParamIssue::new("path", format!("invalid glob `{}`: {e}", self.path))
                    .hint("use `*`, `?` and `[abc]`; write `[*]` for a literal `*`"),
            ],
        }
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let pattern = self.path.clone();
        let found = tokio::time::timeout(
            ctx.timeout,
            tokio::task::spawn_blocking(move || newest(&pattern)),
        )
        .await;
        let newest = match found {
            Err(_) => {
                return Outcome::error(format!(
                    "listing `{}` did not finish within {}",
                    self.path,
                    human(ctx.timeout)
                ));
            }
            Ok(Err(e)) => return Outcome::error(format!("listing `{}` failed: {e}", self.path)),
            Ok(Ok(Err(e))) => return Outcome::error(e),
            Ok(Ok(Ok(None))) => {
                return Outcome::fail(format!("no file matches `{}`", self.path))
                    .with("path", self.path.as_str())
                    .with("matches", 0);
            }
            Ok(Ok(Ok(Some(n)))) => n,
        };
        let age = SystemTime::now()
            .duration_since(newest.modified)
            .unwrap_or_default();
        let shown = newest.path.display().to_string();
        let outcome = |o: Outcome| {
            o.with("path", shown.as_str())
                .with("matches", newest.matches)
                .with("age_s", age.as_secs())
                .with("size_bytes", newest.size)
        };
        let mut problems = Vec::new();
        if let Some(max) = self.max_age
            && age > max.get()
        {
            problems.push(format!(
                "is {} old, expected at most {}",
                human(age),
                human(max.get())
            ));
        }
        if newest.size < self.min_size.0 {
            problems.push(format!(
                "is {} bytes, expected at least {}",
                newest.size, self.min_size.0
            ));
        }
        if !problems.is_empty() {
            return outcome(Outcome::fail(format!(
                "newest match `{shown}` {}",
                problems.join(" and ")
            )));
        }
        outcome(Outcome::pass(format!(
            "newest match `{shown}` is {} old, {} bytes",
            human(age),
            newest.size
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_newest_regular_file() {
        let dir = std::env::temp_dir().join(format!("prodcheck-file-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub.dump")).expect("mkdir");
        let old = dir.join("a.dump");
        let new = dir.join("b.dump");
        std::fs::write(&old, "old").expect("write");
        std::fs::write(&new, "newer").expect("write");
        let past = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(past))
            .expect("set mtime");
        let pattern = format!("{}/*.dump", dir.display());
        let found = newest(&pattern).ok().flatten().expect("a match");
        assert_eq!(found.path, new);
        assert_eq!(found.matches, 2);
        assert_eq!(found.size, 5);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_globs_are_refused_up_front() {
        let p = FileProbe {
            path: "/backups/[oops".into(),
            max_age: None,
            min_size: default_min_size(),
        };
        assert_eq!(p.check_params().len(), 1);
    }
}
