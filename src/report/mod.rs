//! The result of a run as data ([`Report`]) and one [`Reporter`] per output format.
//! Reports are built once, already redacted, so no format can leak a secret.

pub mod format;
pub use format::{Format, ReportTarget};
mod changes;
pub mod exposition;
#[cfg(test)]
pub mod fixture;
mod github;
mod html;
mod human;
mod human_fleet;
mod human_frame;
mod json;
mod junit;
mod markdown;
mod markdown_fleet;
mod markdown_table;
mod prometheus;
mod sarif;
pub mod stream;
mod tap;
mod targets;
mod unconfigured;
mod wrap;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use checks::Evidence;
use serde::Serialize;

use crate::checklist::Severity;
use crate::run::verdict::WaiverUse;
use crate::state::RunRecord;
use crate::status::Status;

pub use changes::Changes;
pub use github::GithubReporter;
pub use html::HtmlReporter;
pub use human::HumanReporter;
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use markdown::MarkdownReporter;
pub use prometheus::PrometheusReporter;
pub use sarif::SarifReporter;
pub use tap::TapReporter;
pub use targets::TargetReport;

/// Bumped when a field of the JSON report changes meaning or disappears (2: the statuses
/// `unconfigured` and `not_applicable`, and their counts in `summary`).
pub const SCHEMA_VERSION: u32 = 2;

/// Everything a run produced, in checklist order.
#[derive(Debug, Clone)]
pub struct Report {
    pub checklist: String,
    pub title: Option<String>,
    pub file: String,
    pub environment: Option<String>,
    pub started_at: SystemTime,
    pub duration: Duration,
    pub exit_code: u8,
    pub interrupted: bool,
    pub fail_on_warning: bool,
    pub items: Vec<ItemReport>,
    /// What changed since the previous run of this checklist and environment (from history).
    pub changes: Option<Changes>,
    /// A fleet run (`--target`, `--all-targets`): one entry per target, in run order; each
    /// item names its target. Empty for a run without targets.
    pub targets: Vec<TargetReport>,
    /// The last runs of this checklist and environment before this one, oldest first, at most
    /// [`RECENT_RUNS`] (from history, already redacted): the HTML report's run strip.
    pub recent_runs: Vec<RunRecord>,
    /// Set when the report comes from `prodcheck watch`.
    pub watch: Option<WatchInfo>,
}

/// How a `prodcheck watch` ran: its stage, window, interval and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct WatchInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(serialize_with = "as_millis", rename = "window_ms")]
    pub window: Duration,
    #[serde(serialize_with = "as_millis", rename = "every_ms")]
    pub every: Duration,
    pub evaluations: u32,
    /// The trigger whose firing ended the watch early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
}

/// How many earlier runs a report carries in [`Report::recent_runs`].
pub const RECENT_RUNS: usize = 20;

/// One item's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    /// The fleet target this item ran against (`None` outside a fleet run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub id: String,
    pub title: String,
    pub section: String,
    pub severity: Severity,
    /// Probe kind, or `manual`.
    pub kind: String,
    /// The decided status (what gates).
    pub status: Status,
    /// What the probe or the human gave, before waivers.
    #[serde(rename = "observed_status")]
    pub observed: Status,
    /// Whether the item's severity lets it change the exit code in this run.
    pub gating: bool,
    pub message: String,
    pub evidence: Evidence,
    #[serde(serialize_with = "as_millis", rename = "duration_ms")]
    pub duration: Duration,
    pub attempts: u32,
    pub flaky: bool,
    #[serde(skip)]
    pub line: u32,
    #[serde(skip)]
    pub tags: Vec<String>,
    /// What to change when it fails (from the checklist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// A URL with more (from the checklist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// A human's note with a confirmation or refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The waiver that concerned this item (active or expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverUse>,
    /// This item's contribution to the exit code (0 when it does not block).
    #[serde(skip)]
    pub exit_code: u8,
    /// Confirmed by a human at the prompt in this run (recorded as a sign-off).
    #[serde(skip)]
    pub prompted: bool,
    /// A watched trigger's values over the window (`prodcheck watch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<crate::watch::Series>,
}

impl ItemReport {
    /// For a watched trigger: `21 evaluations: 20 pass, 1 fail · last 0.012 · max 0.31`.
    pub fn series_line(&self) -> Option<String> {
        let series = self.series.as_ref()?;
        let tally = <crate::watch::Tally as checks::figures::Figures>::read(&self.evidence)
            .unwrap_or_default();
        let mut parts: Vec<String> = [
            ("pass", tally.pass),
            ("fail", tally.fail),
            ("error", tally.error),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
        if parts.is_empty() {
            parts.push("none".into());
        }
        let mut line = format!("{} evaluations: {}", series.evaluations(), parts.join(", "));
        let show = |v: f64| series.show(v);
        if let Some(last) = series.samples().last().and_then(|s| s.value) {
            line.push_str(&format!(" · last {}", show(last)));
        }
        if let Some(max) = series.max_value() {
            line.push_str(&format!(" · max {}", show(max)));
        }
        Some(line)
    }

    /// `needs:` — the root cause this item was skipped for (`None`: it was not).
    pub fn skipped_by(&self) -> Option<String> {
        if self.status != Status::Skip {
            return None;
        }
        <crate::figures::SkippedBy as checks::figures::Figures>::read(&self.evidence)
            .map(|s| s.skipped_by)
    }

    /// Whether the item needs someone's attention (reports show its `fix` then).
    pub fn needs_attention(&self) -> bool {
        matches!(
            self.status,
            Status::Fail | Status::Error | Status::Declined | Status::Warn
        )
    }

    /// `fix: …` (and `docs: …`) lines for an item that needs attention.
    pub fn fix_lines(&self) -> Vec<String> {
        if !self.needs_attention() {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(fix) = &self.fix {
            out.push(format!("fix: {fix}"));
        }
        if let Some(docs) = &self.docs {
            out.push(format!("docs: {docs}"));
        }
        out
    }

    /// A watched trigger's samples as text: `+0s pass 0.012, +30s fail 0.31, …`.
    pub fn series_text(&self) -> Option<String> {
        let series = self.series.as_ref()?;
        let samples: Vec<String> = series
            .samples()
            .map(|s| {
                let at = crate::units::short(std::time::Duration::from_millis(s.at_ms));
                match s.value {
                    Some(v) => format!("+{at} {} {}", s.status.as_str(), series.show(v)),
                    None => format!("+{at} {}", s.status.as_str()),
                }
            })
            .collect();
        Some(samples.join(", "))
    }

    /// Evidence as `key: value` lines, long values shortened (for text formats); a watched
    /// trigger's series last.
    pub fn evidence_lines(&self) -> Vec<String> {
        self.evidence
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let text: String = if text.chars().count() > 300 {
                    text.chars().take(300).chain("…".chars()).collect()
                } else {
                    text
                };
                format!("{k}: {text}")
            })
            .chain(self.series_tail(300))
            .collect()
    }

    /// `series: … +4m30s fail 0.31, +5m fail 0.33`: the latest samples that fit `room`.
    fn series_tail(&self, room: usize) -> Option<String> {
        let text = self.series_text()?;
        let parts: Vec<&str> = text.split(", ").collect();
        let mut used = 0;
        let mut kept = 0;
        for part in parts.iter().rev() {
            if kept > 0 && used + part.len() + 2 > room {
                break;
            }
            used += part.len() + 2;
            kept += 1;
        }
        let head = if kept < parts.len() { "… " } else { "" };
        Some(format!(
            "series: {head}{}",
            parts[parts.len() - kept..].join(", ")
        ))
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Report {
    /// Count per status, every status present (zeros included) so consumers need no defaults.
    pub fn summary(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> =
            Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        for item in &self.items {
            *counts.entry(item.status.as_str()).or_default() += 1;
        }
        counts
    }

    /// The items with `status`, in report order (the pending and unconfigured lists).
    pub fn with_status(&self, status: Status) -> impl Iterator<Item = &ItemReport> {
        self.items.iter().filter(move |i| i.status == status)
    }

    /// Whether `item` can change the exit code in this run (decided by the verdict stage).
    pub fn gates(&self, item: &ItemReport) -> bool {
        item.gating
    }

    /// Whether `item` alone makes the run exit non-zero (decided by the verdict stage).
    pub fn blocks(&self, item: &ItemReport) -> bool {
        item.exit_code != crate::exit_code::OK
    }

    /// `needs:` — the items skipped because `cause` did not pass (on the same target), in
    /// report order: one failure and the dependents it took with it.
    pub fn skipped_for(&self, cause: &ItemReport) -> Vec<&ItemReport> {
        self.items
            .iter()
            .filter(|i| {
                i.status == Status::Skip
                    && i.target == cause.target
                    && i.skipped_by().as_deref() == Some(cause.id.as_str())
            })
            .collect()
    }

    /// `skip_because_of: …` — the line under a root cause naming what it took with it.
    pub fn caused_line(&self, cause: &ItemReport) -> Option<String> {
        let skipped = self.skipped_for(cause);
        if skipped.is_empty() {
            return None;
        }
        let ids: Vec<&str> = skipped.iter().map(|i| i.id.as_str()).collect();
        Some(format!(
            "root cause: {} item(s) that need it were skipped: {}",
            ids.len(),
            ids.join(", ")
        ))
    }

    /// Root causes first: an item that made others skip sorts before one that did not.
    pub fn cause_rank(&self, item: &ItemReport) -> bool {
        self.skipped_for(item).is_empty()
    }

    /// Items whose waiver has expired: named in every summary so a waiver cannot rot silently.
    pub fn expired_waivers(&self) -> Vec<&ItemReport> {
        self.items
            .iter()
            .filter(|i| i.waiver.as_ref().is_some_and(|w| w.expired))
            .collect()
    }

    /// The checklist file as a repository-relative path: `builtin:NAME` is the shipped
    /// `checklists/NAME.yaml`; a path below the working directory is made relative.
    pub fn source_path(&self) -> String {
        if let Some(name) = self.file.strip_prefix("builtin:") {
            return format!("checklists/{name}.yaml");
        }
        let path = std::path::Path::new(&self.file);
        let relative = std::env::current_dir()
            .ok()
            .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.to_path_buf()));
        let shown = relative.as_deref().unwrap_or(path).display().to_string();
        shown
            .strip_prefix("./")
            .map(str::to_string)
            .unwrap_or(shown)
    }
}

/// A report format.
pub trait Reporter {
    /// Renders the whole report. Colour (human only) follows the global `colored` override.
    fn render(&self, report: &Report) -> String;
}

impl Format {
    pub fn reporter(self) -> Box<dyn Reporter> {
        self.reporter_with(0)
    }

    /// The reporter, with the human report's verbosity (`-v`, `-vv`).
    pub fn reporter_with(self, verbosity: u8) -> Box<dyn Reporter> {
        match self {
            Format::Human => Box::new(HumanReporter { verbosity }),
            Format::Json => Box::new(JsonReporter),
            Format::Junit => Box::new(JunitReporter),
            Format::Markdown => Box::new(MarkdownReporter),
            Format::Sarif => Box::new(SarifReporter),
            Format::Tap => Box::new(TapReporter),
            Format::Github => Box::new(GithubReporter),
            Format::Prometheus => Box::new(PrometheusReporter),
            Format::Html => Box::new(HtmlReporter),
        }
    }
}

/// Formats an RFC 3339 timestamp (UTC, seconds precision).
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}
