//! `.prodcheck/waivers.yaml`: accepted, time-boxed exceptions. A waived failing item reports
//! `waived` (not gating) until its day has passed; after that it fails, so waivers cannot rot.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Day, StateError, Timestamp, yaml_store};

pub const FILE_NAME: &str = "waivers.yaml";

const HEADER: &str = "# prodcheck waivers: written by `prodcheck waive`; commit this file.\n# A waiver holds through the end of its `until` day (UTC); then the item fails again.\n";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub checklist: String,
    pub item: String,
    /// The fleet target it covers (`None`: runs without a target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Who recorded an unsigned waiver (records from before `approved_by`; empty in signed
    /// records and requests).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
    pub at: Timestamp,
    pub until: Day,
    pub reason: String,
    /// How much is at stake while the item is waived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    /// Who asked for the waiver (a principal of `allowed_signers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// Who approved it: the principal whose key made `signature` (`None`: a pending request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// An SSH signature (`ssh-keygen -Y sign`) over the record's canonical form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The risk accepted with a waiver: a closed scale, so reports can sort and count by it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        })
    }
}

impl Waiver {
    /// The name reports show: the approver, else whoever recorded or requested it.
    pub fn who(&self) -> &str {
        super::signature::who(&self.by, &self.approved_by, &self.requested_by)
    }

    /// Whether the waiver still holds at `now`.
    pub fn active(&self, now: Timestamp) -> bool {
        now.day() <= self.until
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    #[serde(default)]
    waivers: Vec<Waiver>,
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

pub fn load(state_dir: &Path) -> Result<Vec<Waiver>, StateError> {
    yaml_store::read::<WaiverFile>(&path(state_dir)).map(|f| f.waivers)
}

/// Records `new`, replacing an earlier waiver of the same checklist item and target.
pub fn record(state_dir: &Path, new: Waiver) -> Result<(), StateError> {
    super::atomic::ignore_scratch_files(state_dir);
    yaml_store::update::<WaiverFile>(&path(state_dir), HEADER, |file| {
        file.waivers.retain(|old| {
            !(old.checklist == new.checklist && old.item == new.item && old.target == new.target)
        });
        file.waivers.push(new);
        file.waivers.sort_by(|a, b| {
            (&a.checklist, &a.item, &a.target).cmp(&(&b.checklist, &b.item, &b.target))
        });
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiver_holds_through_its_last_day() {
        let w = Waiver {
            checklist: "c".into(),
            item: "i".into(),
            target: None,
            by: "me".into(),
            at: Timestamp::parse("2026-01-01T00:00:00Z").expect("ts"),
            until: Day::parse("2026-12-31").expect("day"),
            reason: "vendor fix pending".into(),
            risk: Some(Risk::Low),
            requested_by: None,
            approved_by: None,
            signature: None,
        };
        assert!(w.active(Timestamp::parse("2026-12-31T23:59:59Z").expect("ts")));
        assert!(!w.active(Timestamp::parse("2027-01-01T00:00:00Z").expect("ts")));
        let dir = tempfile::tempdir().expect("tmp");
        record(dir.path(), w.clone()).expect("write");
        assert_eq!(load(dir.path()).expect("read"), vec![w]);
    }
}
