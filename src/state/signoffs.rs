//! `.prodcheck/signoffs.yaml`: who confirmed which manual item, when, and until when. Meant to
//! be committed, so non-interactive CI runs can count confirmations given earlier by a human.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{StateError, Timestamp, yaml_store};

pub const FILE_NAME: &str = "signoffs.yaml";

const HEADER: &str = "# prodcheck sign-offs: written by `prodcheck signoff` and interactive runs; commit this file.\n# `until` absent: the sign-off covers the next run of the checklist only.\n";

/// One human confirmation of a manual item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    pub checklist: String,
    pub item: String,
    /// The fleet target it was given for (`None`: runs without a target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Who recorded an unsigned sign-off (records from before `approved_by`; empty in
    /// signed records and requests).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who asked for the sign-off (a principal of `allowed_signers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// Who approved it: the principal whose key made `signature` (`None`: a pending request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// An SSH signature (`ssh-keygen -Y sign`) over the record's canonical form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl SignOff {
    /// The name reports show: the approver, else whoever recorded or requested it.
    pub fn who(&self) -> &str {
        super::signature::who(&self.by, &self.approved_by, &self.requested_by)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignOffFile {
    #[serde(default)]
    signoffs: Vec<SignOff>,
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Every sign-off on record.
pub fn load(state_dir: &Path) -> Result<Vec<SignOff>, StateError> {
    yaml_store::read::<SignOffFile>(&path(state_dir)).map(|f| f.signoffs)
}

/// Records `new`, replacing an earlier sign-off of the same checklist item and target.
pub fn record(state_dir: &Path, new: Vec<SignOff>) -> Result<(), StateError> {
    if new.is_empty() {
        return Ok(());
    }
    super::atomic::ignore_scratch_files(state_dir);
    yaml_store::update::<SignOffFile>(&path(state_dir), HEADER, |file| {
        for s in new {
            file.signoffs.retain(|old| {
                !(old.checklist == s.checklist && old.item == s.item && old.target == s.target)
            });
            file.signoffs.push(s);
        }
        file.signoffs.sort_by(|a, b| {
            (&a.checklist, &a.item, &a.target).cmp(&(&b.checklist, &b.item, &b.target))
        });
    })
}

/// Who is signing: `--by`, else git `user.name`, else `$USER`.
pub fn who(by: Option<&str>) -> String {
    if let Some(by) = by.map(str::trim).filter(|b| !b.is_empty()) {
        return by.to_string();
    }
    git_config("user.name")
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// `git config KEY` here (`user.name`, `user.email`), when git answers with a value.
pub fn git_config(key: &str) -> Option<String> {
    std::process::Command::new("git")
        .args(["config", key])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_yaml_reads_back() {
        let dir = tempfile::tempdir().expect("tmp");
        let at = Timestamp::parse("2026-11-22T04:36:45Z").expect("ts");
        let s = SignOff {
            checklist: "pre-deploy".into(),
            item: "docs: \"reviewed\"".into(),
            target: None,
            by: "Ada Lovelace".into(),
            at,
            until: Some(at.plus(std::time::Duration::from_secs(86_400))),
            note: Some("multi\nline: note # not a comment".into()),
            requested_by: None,
            approved_by: None,
            signature: None,
        };
        record(dir.path(), vec![s.clone()]).expect("write");
        record(dir.path(), vec![s.clone()]).expect("replace");
        assert_eq!(load(dir.path()).expect("read"), vec![s.clone()]);
        // The same item for a target is another sign-off, kept next to the first.
        let for_api = SignOff {
            target: Some("api".into()),
            ..s.clone()
        };
        record(dir.path(), vec![for_api.clone()]).expect("target");
        assert_eq!(load(dir.path()).expect("read"), vec![s, for_api]);
    }
}
