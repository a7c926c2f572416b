//! The figures the verdict stage adds to an item's evidence, as types: `run/verdict.rs` writes
//! them and the reports read them (the probes' own figures are `checks::figures`).

use checks::figures::Figures;
use serde::{Deserialize, Serialize};

/// An `unconfigured` item: the variables it waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnsetVariables {
    pub unset_variables: Vec<String>,
}
impl Figures for UnsetVariables {}

/// An item skipped by `needs:`: the root cause (`skipped_by`) and the need that led to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedBy {
    pub skipped_by: String,
    pub needs: String,
}
impl Figures for SkippedBy {}

/// The sign-offs and waivers on record for an item that did not count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRecords {
    pub rejected_records: Vec<RejectedRecord>,
}
impl Figures for RejectedRecords {}

/// One record that did not count, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRecord {
    /// `sign-off` or `waiver`.
    pub kind: String,
    pub checklist: String,
    pub item: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Who the record names as its approver (or author, or requester).
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The keys the JSON report documents stay the keys these types read and write.
    #[test]
    fn figures_round_trip_under_their_documented_keys() {
        let mut evidence = checks::Evidence::new();
        SkippedBy {
            skipped_by: "gateway".into(),
            needs: "dns".into(),
        }
        .write(&mut evidence);
        UnsetVariables {
            unset_variables: vec!["base_url".into()],
        }
        .write(&mut evidence);
        assert_eq!(evidence["skipped_by"], json!("gateway"));
        assert_eq!(evidence["needs"], json!("dns"));
        assert_eq!(evidence["unset_variables"], json!(["base_url"]));
        assert_eq!(
            SkippedBy::read(&evidence).map(|s| s.skipped_by),
            Some("gateway".to_string())
        );
        let rejected = json!({"rejected_records": [{"kind": "waiver", "checklist": "c",
            "item": "i", "by": "me", "requested_by": "me", "reason": "self-approved"}]});
        let evidence = rejected.as_object().cloned().unwrap_or_default();
        let read = RejectedRecords::read(&evidence).map(|r| r.rejected_records);
        assert_eq!(
            read.map(|r| r[0].reason.clone()),
            Some("self-approved".into())
        );
    }
}
