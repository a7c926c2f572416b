//! `--report json`: the versioned machine-readable report (fields fixed by DESIGN.md); a fleet
//! run adds a `targets` array and a `target` on each item.

use serde_json::json;

use super::{Report, Reporter, SCHEMA_VERSION, rfc3339};

pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn render(&self, report: &Report) -> String {
        let mut doc = json!({
            "schema_version": SCHEMA_VERSION,
            "checklist": report.checklist,
            "title": report.title,
            "file": report.file,
            "environment": report.environment,
            "started_at": rfc3339(report.started_at),
            "duration_ms": report.duration.as_millis() as u64,
            "exit_code": report.exit_code,
            "interrupted": report.interrupted,
            "summary": report.summary(),
            "items": report.items,
        });
        // A fleet run adds `targets` (and a `target` on every item); nothing else changes, so
        // a consumer of schema 1 keeps working.
        if report.is_fleet() {
            doc["targets"] = report
                .target_views()
                .iter()
                .map(|(t, view)| {
                    json!({
                        "name": t.name,
                        "environment": t.environment,
                        "labels": t.labels,
                        "exit_code": t.exit_code,
                        "duration_ms": t.duration.as_millis() as u64,
                        "summary": view.summary(),
                    })
                })
                .collect();
        }
        let mut text = serde_json::to_string_pretty(&doc)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}
