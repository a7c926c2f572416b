//! `.prodcheck/approvers.yaml`: named groups of approvers (`sre: [ada@example.com, …]`), so a
//! checklist says `approvers: [sre]` and the team changes in one reviewed file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{StateError, yaml_store};

pub const FILE_NAME: &str = "approvers.yaml";

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Groups {
    /// Group name → its members (principals of `allowed_signers`).
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
}

impl Groups {
    /// The principals `names` stand for: a group's members, or the name itself.
    pub fn expand(&self, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = names
            .iter()
            .flat_map(|n| match self.groups.get(n) {
                Some(members) => members.clone(),
                None => vec![n.clone()],
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// The groups on record (none when the file is missing).
pub fn load(state_dir: &Path) -> Result<Groups, StateError> {
    yaml_store::read::<Groups>(&path(state_dir))
}
