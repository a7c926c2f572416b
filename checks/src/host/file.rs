//! `file`: the newest file matching a glob is fresh and big enough — the backup check ("did
//! last night's dump run?"). Globbing and metadata run off the async threads, under the timeout.
//!
//! Fail or error: no file matching (even when the glob's directory is missing) is `fail` — there
//! is no backup. Paths the glob could not read (permission denied) make "no match" an `error`,
//! and turn a stale/small verdict into `error` too: a newer file may be hiding in them. A
//! listing that outlives the timeout is `error`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::figures::FileAge;
use crate::limit::Limit;
use crate::no_answer::NoAnswer;
use crate::outcome::{Outcome, Status};
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
    /// The newest match must have been modified at most this long ago (`26h`), or
    /// `{ fail: 26h, warn: 25h }` to warn when tonight's backup is late before it is missing.
    pub max_age: Option<Limit<DurationParam>>,
    /// The newest match must be at least this big; default 1 byte (non-empty).
    /// `{ fail: 1KiB, warn: 100MiB }` warns on a backup much smaller than usual; a `warn:`
    /// alone keeps the 1-byte failing level.
    #[serde(default = "default_min_size")]
    pub min_size: Limit<SizeParam>,
}

fn default_min_size() -> Limit<SizeParam> {
    Limit::fail_only(SizeParam(1))
}

/// The newest regular file among the matches.
#[derive(Debug)]
struct Newest {
    path: PathBuf,
    modified: SystemTime,
    size: u64,
    matches: usize,
}

/// What walking the glob found: the newest readable match, and the paths it could not read.
#[derive(Debug, Default)]
struct Listing {
    newest: Option<Newest>,
    unreadable: usize,
    /// The first unreadable path and why, for the message.
    first_unreadable: Option<String>,
}

impl Listing {
    fn unreadable(&mut self, what: String) {
        self.unreadable += 1;
        self.first_unreadable.get_or_insert(what);
    }
}

/// The directory a glob starts from: its components up to the first one with a wildcard.
fn literal_dir(pattern: &str) -> PathBuf {
    let path = std::path::Path::new(pattern);
    let mut dir = PathBuf::new();
    for part in path.components() {
        let text = part.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[']) {
            return dir;
        }
        dir.push(part);
    }
    dir.parent().map(PathBuf::from).unwrap_or_default()
}

fn newest(pattern: &str) -> Result<Listing, String> {
    let paths = glob::glob(pattern).map_err(|e| format!("invalid glob `{pattern}`: {e}"))?;
    let mut listing = Listing::default();
    let mut best: Option<Newest> = None;
    let mut matches = 0;
    for entry in paths {
        let path = match entry {
            Ok(p) => p,
            Err(e) => {
                listing.unreadable(format!("`{}`: {}", e.path().display(), e.error()));
                continue;
            }
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            // Gone between listing and stat (a rotation), or a dangling link: not a match.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                listing.unreadable(format!("`{}`: {e}", path.display()));
                continue;
            }
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
    listing.newest = best.map(|b| Newest { matches, ..b });
    Ok(listing)
}

/// The outcome when no readable file matches. Nothing at all is a `fail` (no backup); paths
/// that could not be read make it an `error`: a match may be hiding in them.
fn no_match(pattern: &str, listing: &Listing) -> Outcome {
    if let Some(first) = &listing.first_unreadable {
        return Outcome::error(format!(
            "no readable file matches `{pattern}`, and {} path(s) could not be read (first {first}): whether a fresh file exists could not be checked",
            listing.unreadable
        ))
        .with("no_answer", NoAnswer::Other.as_str())
        .with("unreadable", listing.unreadable);
    }
    let dir = literal_dir(pattern);
    let why = if !dir.as_os_str().is_empty() && !dir.is_dir() {
        format!(" (directory `{}` does not exist)", dir.display())
    } else {
        String::new()
    };
    Outcome::fail(format!("no file matches `{pattern}`{why}"))
}

fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

#[async_trait]
impl Probe for FileProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues: Vec<ParamIssue> = self
            .max_age
            .and_then(|l| l.warn_below_fail())
            .map(|why| ParamIssue::new("max_age", format!("`max_age`: {why}")))
            .into_iter()
            .collect();
        if let Some(why) = self.min_size.warn_above_fail() {
            issues.push(ParamIssue::new("min_size", format!("`min_size`: {why}")));
        }
        let path = match glob::Pattern::new(&self.path) {
            _ if self.path.trim().is_empty() => vec![ParamIssue::new("path", "`path` is empty")],
            Ok(_) => Vec::new(),
            Err(e) => vec![
                ParamIssue::new("path", format!("invalid glob `{}`: {e}", self.path))
                    .hint("use `*`, `?` and `[abc]`; write `[*]` for a literal `*`"),
            ],
        };
        issues.extend(path);
        issues
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
            Ok(Ok(Ok(listing))) => listing,
        };
        let unreadable = newest.unreadable;
        let Some(newest) = newest.newest else {
            return no_match(&self.path, &newest)
                .with("path", self.path.as_str())
                .with("matches", 0);
        };
        let age = SystemTime::now()
            .duration_since(newest.modified)
            .unwrap_or_default();
        let shown = newest.path.display().to_string();
        let outcome = |o: Outcome| {
            o.with("path", shown.as_str())
                .with("matches", newest.matches)
                .with_figures(&FileAge {
                    age_s: age.as_secs(),
                })
                .with("size_bytes", newest.size)
        };
        let mut problems = Vec::new();
        let mut late = None;
        if let Some(levels) = self.max_age {
            match levels.ceiling("age", age.as_secs_f64()) {
                (Status::Fail, _) => problems.push(format!(
                    "is {} old, expected at most {}",
                    human(age),
                    human(levels.fail.map(|f| f.get()).unwrap_or_default())
                )),
                (Status::Warn, Some(words)) => late = Some(words),
                _ => {}
            }
        }
        let mut small = None;
        let min_size = Limit {
            fail: self.min_size.fail.or(default_min_size().fail),
            ..self.min_size
        };
        match min_size.floor("size", newest.size as f64) {
            (Status::Fail, _) => problems.push(format!(
                "is {} bytes, expected at least {}",
                newest.size,
                min_size.fail.map(|f| f.0).unwrap_or_default()
            )),
            (Status::Warn, Some(words)) => small = Some(words),
            _ => {}
        }
        if !problems.is_empty() && unreadable > 0 {
            // A newer file may sit in what could not be read: no verdict either way.
            return outcome(Outcome::error(format!(
                "newest readable match `{shown}` {}, but {unreadable} path(s) could not be read: a newer file may exist",
                problems.join(" and ")
            )))
            .with("no_answer", NoAnswer::Other.as_str())
            .with("unreadable", unreadable);
        }
        if !problems.is_empty() {
            return outcome(Outcome::fail(format!(
                "newest match `{shown}` {}",
                problems.join(" and ")
            )));
        }
        if let Some(words) = late {
            let small = small.map(|s| format!("; {s}")).unwrap_or_default();
            return outcome(Outcome::warn(format!(
                "newest match `{shown}` is getting old: {words}, {} bytes{small}",
                newest.size
            )));
        }
        if let Some(words) = small {
            return outcome(Outcome::warn(format!(
                "newest match `{shown}` is smaller than usual: {words} ({} bytes), {} old",
                newest.size,
                human(age)
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
        let found = newest(&pattern)
            .ok()
            .and_then(|l| l.newest)
            .expect("a match");
        assert_eq!(found.path, new);
        assert_eq!(found.matches, 2);
        assert_eq!(found.size, 5);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_match_fails_but_unreadable_paths_make_it_an_error() {
        let none = Listing::default();
        let out = no_match("/nonexistent-prodcheck/db-*.sql", &none);
        assert_eq!(out.status, crate::outcome::Status::Fail);
        assert_eq!(
            out.message,
            "no file matches `/nonexistent-prodcheck/db-*.sql` (directory `/nonexistent-prodcheck` does not exist)"
        );
        let mut hidden = Listing::default();
        hidden.unreadable("`/backups/x`: Permission denied (os error 13)".into());
        let out = no_match("/backups/*/db.sql", &hidden);
        assert_eq!(out.status, crate::outcome::Status::Error);
        assert!(out.message.starts_with("no readable file matches `/backups/*/db.sql`, and 1 path(s) could not be read (first `/backups/x`: Permission denied"), "{}", out.message);
        assert_eq!(out.evidence["no_answer"], "other");
    }

    #[test]
    fn a_glob_starts_from_its_literal_directory() {
        assert_eq!(
            literal_dir("/var/backups/db-*.gz"),
            PathBuf::from("/var/backups")
        );
        assert_eq!(literal_dir("/var/*/x"), PathBuf::from("/var"));
        assert_eq!(
            literal_dir("/var/backups/latest.gz"),
            PathBuf::from("/var/backups")
        );
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
