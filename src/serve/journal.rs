//! The log line an operator needs when an alert fires: each item's status *change* between
//! scrapes, with its message (already redacted), so the log says why without a line per scrape.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::report::Report;
use crate::status::Status;

/// The last status seen per (checklist, env, target, item); bounded by the served items.
#[derive(Debug, Default)]
pub struct Journal {
    last: Mutex<BTreeMap<(String, String, String, String), Status>>,
}

impl Journal {
    /// The lines for `report`'s items whose status differs from the previous scrape (the first
    /// scrape reports what is not passing).
    pub fn changes(&self, report: &Report, env: Option<&str>, target: Option<&str>) -> Vec<String> {
        let Ok(mut last) = self.last.lock() else {
            return Vec::new();
        };
        let env = env.unwrap_or_default();
        let target = target.unwrap_or_default();
        let mut lines = Vec::new();
        for item in &report.items {
            let key = (
                report.checklist.clone(),
                env.to_string(),
                target.to_string(),
                item.id.clone(),
            );
            let before = last.insert(key, item.status);
            let changed = match before {
                Some(b) => b != item.status,
                None => item.status != Status::Pass,
            };
            if changed {
                let was = before.map_or("first scrape".to_string(), |b| format!("was {b}"));
                let mut place = report.checklist.clone();
                if !target.is_empty() {
                    place.push_str(&format!(" target {target}"));
                }
                if !env.is_empty() {
                    place.push_str(&format!("@{env}"));
                }
                lines.push(format!(
                    "{place} {}: {} ({was}): {}",
                    item.id, item.status, item.message
                ));
            }
        }
        lines
    }
}
