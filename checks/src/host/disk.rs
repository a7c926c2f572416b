//! `disk`: free space on the filesystem holding a path stays above a floor, written as a
//! percentage (`10%`) or a size (`5GiB`). Counts the space unprivileged processes may use.
//!
//! Fail or error: only a measured shortfall is `fail`. A path that does not exist or cannot be
//! reached, and a `statvfs` that hangs (a dead network mount), are `error`: nothing was measured.

use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::figures::DiskFree;
use crate::limit::{Limit, closeness, show_number};
use crate::net::dial::within;
use crate::no_answer::NoAnswer;
use crate::outcome::{Outcome, Status};
use crate::params::parse_size;
use crate::params::scalar::{self, Number, ScalarParam};
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Parameters of `check: { disk: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskProbe {
    /// Any path on the filesystem to check (`/`, `/var/lib/postgresql`).
    pub path: PathBuf,
    /// The least free space allowed: a percentage of the filesystem (`10%`) or a size (`5GiB`);
    /// `{ fail: 10%, warn: 20% }` reports `warn` while there is still room (the two may mix
    /// units: `{ fail: 5GiB, warn: 20% }`).
    pub min_free: Limit<FreeSpace>,
}

/// `min_free:` — a share of the filesystem or an absolute size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FreeSpace {
    Percent(f64),
    Bytes(u64),
}

impl FreeSpace {
    fn parse(text: &str) -> Result<FreeSpace, String> {
        match text.trim().strip_suffix('%') {
            Some(num) => num
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=100.0).contains(p))
                .map(FreeSpace::Percent)
                .ok_or_else(|| {
                    format!("invalid percentage `{text}`: write a number from 0 to 100, like `10%`")
                }),
            None => parse_size(text).map(FreeSpace::Bytes),
        }
    }
}

impl FreeSpace {
    /// How much is free in this level's own unit: a percentage or bytes.
    fn found(&self, free: u64, percent: f64) -> f64 {
        match self {
            FreeSpace::Percent(_) => percent,
            FreeSpace::Bytes(_) => free as f64,
        }
    }

    fn amount(&self) -> f64 {
        match self {
            FreeSpace::Percent(p) => *p,
            FreeSpace::Bytes(b) => *b as f64,
        }
    }

    /// A value in this level's unit, the way it is written.
    fn show(&self, v: f64) -> String {
        match self {
            // One decimal, but a small level keeps its digits (`0.001%`, not `0%`).
            FreeSpace::Percent(_) if v.abs() >= 1.0 => {
                format!("{}%", show_number((v * 10.0).round() / 10.0))
            }
            FreeSpace::Percent(_) => format!("{}%", show_number(v)),
            FreeSpace::Bytes(_) => bytes(v.max(0.0) as u64),
        }
    }

    fn holds(&self, free: u64, percent: f64) -> bool {
        self.found(free, percent) >= self.amount()
    }
}

/// The status of `free` bytes (`percent` of the filesystem) against the levels, and for a
/// warn how close the space came to the failing level (`12% free, 2% above the 10% floor`).
fn judge(levels: &Limit<FreeSpace>, free: u64, percent: f64) -> (Status, Option<String>) {
    if let Some(f) = &levels.fail
        && !f.holds(free, percent)
    {
        return (Status::Fail, None);
    }
    match &levels.warn {
        Some(w) if !w.holds(free, percent) => {
            let near = match &levels.fail {
                Some(f) => closeness(f.found(free, percent), f.amount(), false, |v| f.show(v)),
                None => w.show(w.found(free, percent)),
            };
            (Status::Warn, Some(format!("{near} (warn level {w})")))
        }
        _ => (Status::Pass, None),
    }
}

impl fmt::Display for FreeSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FreeSpace::Percent(p) => write!(f, "{p}%"),
            FreeSpace::Bytes(b) => write!(f, "{}", bytes(*b)),
        }
    }
}

impl ScalarParam for FreeSpace {
    const EXPECTING: &'static str = "a percentage such as `10%` or a size such as `5GiB`";
    fn from_text(text: &str) -> Result<Self, String> {
        FreeSpace::parse(text)
    }
    fn from_number(number: Number) -> Option<Result<Self, String>> {
        Some(Err(match number {
            Number::Float(v) => {
                format!("`{v}` is ambiguous: write `{v}%` for a percentage or a size like `5GiB`")
            }
            Number::Unsigned(v) => ambiguous_whole(v),
            Number::Signed(v) => ambiguous_whole(v.unsigned_abs()),
        }))
    }
}

fn ambiguous_whole(v: u64) -> String {
    format!("`{v}` is ambiguous: write `{v}%` for a percentage or `{v}GiB` for a size")
}

scalar::impl_serde_and_schema!(FreeSpace, "FreeSpace", {
    "description": "A percentage of the filesystem (`10%`) or a size (`5GiB`, `500MB`).",
    "type": "string"
});

/// Bytes in binary units, one decimal.
fn bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// Free (available to unprivileged users) and total bytes of the filesystem holding `path`.
/// Any failure means nothing was measured: the words say why.
fn space(path: &Path) -> Result<(u64, u64), String> {
    let st = nix::sys::statvfs::statvfs(path).map_err(|e| {
        let shown = path.display();
        match e {
            nix::errno::Errno::ENOENT | nix::errno::Errno::ENOTDIR => format!(
                "`{shown}` does not exist, so there is no filesystem to measure (is the volume mounted?)"
            ),
            nix::errno::Errno::EACCES => {
                format!("`{shown}` cannot be reached by this user (permission denied)")
            }
            other => format!("statvfs on `{shown}` failed: {}", other.desc()),
        }
    })?;
    let frag = st.fragment_size() as u64;
    Ok((
        (st.blocks_available() as u64).saturating_mul(frag),
        (st.blocks() as u64).saturating_mul(frag),
    ))
}

#[async_trait]
impl Probe for DiskProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        if self.path.as_os_str().is_empty() {
            issues.push(ParamIssue::new("path", "`path` is empty"));
        }
        // A floor warns first when its warn level asks for more room; across units
        // (a percentage and a size) that depends on the filesystem, so only like units are checked.
        if let (Some(f), Some(w)) = (self.min_free.fail, self.min_free.warn)
            && std::mem::discriminant(&f) == std::mem::discriminant(&w)
            && w.amount() < f.amount()
        {
            issues.push(
                ParamIssue::new(
                    "min_free",
                    format!("the warn level {w} is under the failing level {f}: it would never fire first"),
                )
                .hint("a floor's warn level asks for more free space than its failing level"),
            );
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let path = self.path.clone();
        let shown = self.path.display().to_string();
        // statvfs can block for ever on a dead network mount: keep it off the async threads.
        let (free, total) = match tokio::time::timeout(
            ctx.timeout,
            tokio::task::spawn_blocking(move || space(&path)),
        )
        .await
        {
            Err(_) => {
                return Outcome::error(format!(
                    "statvfs on `{shown}` did not return within {} (a hung network mount?): free space could not be measured",
                    within(ctx.timeout)
                ))
                .with("path", shown.as_str())
                .with("no_answer", NoAnswer::Timeout.as_str());
            }
            Ok(Err(e)) => return Outcome::error(format!("statvfs on `{shown}` failed: {e}")),
            Ok(Ok(Err(e))) => {
                return Outcome::error(e)
                    .with("path", shown.as_str())
                    .with("no_answer", NoAnswer::Other.as_str());
            }
            Ok(Ok(Ok(s))) => s,
        };
        let percent = if total == 0 {
            0.0
        } else {
            free as f64 * 100.0 / total as f64
        };
        let found = format!("{} free of {} ({percent:.1}%)", bytes(free), bytes(total));
        let floor = |l: Option<FreeSpace>| l.map(|l| l.to_string()).unwrap_or_default();
        let outcome = match judge(&self.min_free, free, percent) {
            (Status::Fail, _) => Outcome::fail(format!(
                "`{shown}`: {found}, expected at least {}",
                floor(self.min_free.fail)
            )),
            (Status::Warn, Some(words)) => {
                Outcome::warn(format!("`{shown}`: {found}, degraded: {words}"))
            }
            _ => Outcome::pass(match (self.min_free.fail, self.min_free.warn) {
                (Some(f), _) => format!("`{shown}`: {found}, floor {f}"),
                (None, w) => format!("`{shown}`: {found}, warn level {}", floor(w)),
            }),
        };
        outcome
            .with("path", shown.as_str())
            .with("free_bytes", free)
            .with("total_bytes", total)
            .with_figures(&DiskFree {
                free_percent: (percent * 10.0).round() / 10.0,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_free_takes_percentages_and_sizes() {
        assert_eq!(FreeSpace::parse("10%"), Ok(FreeSpace::Percent(10.0)));
        assert_eq!(FreeSpace::parse("5GiB"), Ok(FreeSpace::Bytes(5 << 30)));
        assert!(FreeSpace::parse("120%").is_err());
        assert!(FreeSpace::parse("lots").is_err());
        let bare: Result<FreeSpace, _> = serde_json::from_str("10");
        assert!(bare.is_err());
    }

    #[test]
    fn a_missing_path_is_said_in_words() {
        let err = space(Path::new("/nonexistent-prodcheck/volume")).expect_err("no such path");
        assert_eq!(
            err,
            "`/nonexistent-prodcheck/volume` does not exist, so there is no filesystem to measure (is the volume mounted?)"
        );
    }

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
    }
}
