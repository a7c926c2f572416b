//! The result of a run as data ([`Report`]) and one [`Reporter`] per output format.
//! Reports are built once, already redacted, so no format can leak a secret.

mod human;
mod json;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use checks::{Evidence, Status};
use serde::Serialize;

use crate::checklist::Severity;

pub use human::HumanReporter;
pub use json::JsonReporter;

/// Bumped when a field of the JSON report changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

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
}

/// One item's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    pub id: String,
    pub title: String,
    pub section: String,
    pub severity: Severity,
    /// Probe kind, or `manual`.
    pub kind: String,
    pub status: Status,
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

    /// Whether `item` can change the exit code in this run.
    pub fn gates(&self, item: &ItemReport) -> bool {
        crate::exit_code::gates(item.severity, self.fail_on_warning)
    }
}

/// A report format.
pub trait Reporter {
    /// Renders the whole report. Colour (human only) follows the global `colored` override.
    fn render(&self, report: &Report) -> String;
}

/// The formats `--report` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

impl Format {
    pub const NAMES: &[&str] = &["human", "json"];

    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "human" => Some(Format::Human),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn reporter(self) -> Box<dyn Reporter> {
        match self {
            Format::Human => Box::new(HumanReporter),
            Format::Json => Box::new(JsonReporter),
        }
    }
}

/// `--report FORMAT[=PATH]`: where one format goes (`None` = stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub format: Format,
    pub path: Option<PathBuf>,
}

impl std::str::FromStr for ReportTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, path) = match s.split_once('=') {
            Some((n, "")) => {
                return Err(format!(
                    "`{n}=` names no file; write `{n}=PATH` or just `{n}`"
                ));
            }
            Some((n, p)) => (n, Some(PathBuf::from(p))),
            None => (s, None),
        };
        let format = Format::parse(name).ok_or_else(|| {
            format!(
                "unknown report format `{name}`; valid formats: {}",
                Format::NAMES.join(", ")
            )
        })?;
        Ok(ReportTarget { format, path })
    }
}

/// Formats an RFC 3339 timestamp (UTC, seconds precision).
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}
