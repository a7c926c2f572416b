//! `--report json`: the versioned machine-readable report (fields fixed by DESIGN.md).

use serde_json::json;

use super::{Report, Reporter, SCHEMA_VERSION, rfc3339};

pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn render(&self, report: &Report) -> String {
        let doc = json!({
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
        let mut doc = doc;
        if let (Some(watch), Some(map)) = (&report.watch, doc.as_object_mut()) {
            map.insert("watch".into(), json!(watch));
        }
        let mut text = serde_json::to_string_pretty(&doc)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}
