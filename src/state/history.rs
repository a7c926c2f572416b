//! `.prodcheck/history/CHECKLIST.jsonl`: one redacted JSON line per run (statuses, durations,
//! exit code, environment). Read to show what changed and what is due; rewritten atomically.

use std::path::{Path, PathBuf};

use crate::status::Status;
use serde::{Deserialize, Serialize};

use super::{StateError, Timestamp, atomic};

/// Runs kept per checklist; older lines are dropped when a run is appended.
pub const MAX_RUNS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema_version: u32,
    pub checklist: String,
    /// The fleet target of this run (its history is kept in a file of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub environment: Option<String>,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub exit_code: u8,
    #[serde(default)]
    pub interrupted: bool,
    pub items: Vec<ItemRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub id: String,
    pub status: Status,
    pub duration_ms: u64,
    #[serde(default)]
    pub message: String,
}

impl RunRecord {
    pub fn item(&self, id: &str) -> Option<&ItemRecord> {
        self.items.iter().find(|i| i.id == id)
    }
}

/// The history file of `checklist` (its name made safe as a file name).
pub fn path(state_dir: &Path, checklist: &str) -> PathBuf {
    target_path(state_dir, checklist, None)
}

/// The history file of `checklist` run against `target` (`CHECKLIST@TARGET.jsonl`; `@` never
/// appears in a checklist's safe name, so the files of targets and checklists cannot collide).
pub fn target_path(state_dir: &Path, checklist: &str, target: Option<&str>) -> PathBuf {
    let mut name = safe_name(checklist);
    if let Some(target) = target {
        name.push('@');
        name.push_str(&safe_name(target));
    }
    state_dir.join("history").join(format!("{name}.jsonl"))
}

fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn parse(path: &Path, text: &str) -> Result<Vec<RunRecord>, StateError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|e| StateError::Parse {
                path: path.to_path_buf(),
                message: format!("line {}: {e}", n + 1),
            })
        })
        .collect()
}

/// Every recorded run of `checklist`, oldest first.
pub fn load(state_dir: &Path, checklist: &str) -> Result<Vec<RunRecord>, StateError> {
    load_target(state_dir, checklist, None)
}

/// Every recorded run of `checklist` against `target` (`None`: runs without one), oldest first.
pub fn load_target(
    state_dir: &Path,
    checklist: &str,
    target: Option<&str>,
) -> Result<Vec<RunRecord>, StateError> {
    let path = target_path(state_dir, checklist, target);
    match atomic::read(&path)? {
        Some(text) => parse(&path, &text),
        None => Ok(Vec::new()),
    }
}

/// Appends `record` (under the lock, so concurrent runs keep both lines).
pub fn append(state_dir: &Path, record: &RunRecord) -> Result<(), StateError> {
    super::atomic::ignore_scratch_files(state_dir);
    let path = target_path(state_dir, &record.checklist, record.target.as_deref());
    let line = serde_json::to_string(record).map_err(|e| StateError::Serialize {
        path: path.clone(),
        message: e.to_string(),
    })?;
    atomic::update(&path, |old| {
        let old = old.unwrap_or_default();
        let mut lines: Vec<&str> = old.lines().filter(|l| !l.trim().is_empty()).collect();
        lines.push(&line);
        let keep = lines.len().saturating_sub(MAX_RUNS);
        let mut text = lines[keep..].join("\n");
        text.push('\n');
        Ok(text)
    })
}
