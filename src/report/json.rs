//! `--report json`: the versioned machine-readable report (fields fixed by DESIGN.md); a fleet
//! run adds a `targets` array and a `target` on each item. Items are written one at a time, so
//! a fleet's thousands of items are not copied into one JSON tree before being printed.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Report, Reporter, SCHEMA_VERSION, TargetReport, rfc3339};

pub struct JsonReporter;

/// Where the items go in the pretty-printed document (keys are sorted, so this is unique).
pub(super) const ITEMS_SLOT: &str = "\n  \"items\": [],\n";

impl Reporter for JsonReporter {
    fn render(&self, report: &Report) -> String {
        let mut doc = document(report, report.summary());
        // A fleet run adds `targets` (and a `target` on every item); nothing else changes, so
        // a consumer of schema 1 keeps working.
        if report.is_fleet() {
            doc["targets"] = report
                .targets
                .iter()
                .map(|t| target_value(t, report.target_summary(&t.name)))
                .collect();
        }
        if let (Some(watch), Some(map)) = (&report.watch, doc.as_object_mut()) {
            map.insert("watch".into(), json!(watch));
        }
        let text = match serde_json::to_string_pretty(&doc) {
            Ok(t) => t,
            Err(e) => return format!("{{\"error\": \"{e}\"}}\n"),
        };
        let mut out = String::with_capacity(text.len() + report.items.len() * 1024);
        match text.split_once(ITEMS_SLOT) {
            Some((head, tail)) if !report.items.is_empty() => {
                out.push_str(head);
                out.push_str("\n  \"items\": [\n");
                for (n, item) in report.items.iter().enumerate() {
                    // Through a `Value`, as before: its keys come out sorted.
                    let value = serde_json::to_value(item).unwrap_or(Value::Null);
                    element(&value, &mut out);
                    out.push_str(if n + 1 < report.items.len() {
                        ",\n"
                    } else {
                        "\n"
                    });
                }
                out.push_str("  ],\n");
                out.push_str(tail);
            }
            _ => out.push_str(&text),
        }
        out.push('\n');
        out
    }
}

/// The document without its items (and a fleet's targets): `summary` counts the items.
pub(super) fn document(report: &Report, summary: BTreeMap<&'static str, usize>) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "checklist": report.checklist,
        "title": report.title,
        "file": report.file,
        "environment": report.environment,
        "started_at": rfc3339(report.started_at),
        "duration_ms": report.duration.as_millis() as u64,
        "exit_code": report.exit_code,
        "interrupted": report.interrupted,
        "summary": summary,
        "items": [],
    })
}

/// One entry of a fleet's `targets`: `summary` counts the target's items.
pub(super) fn target_value(t: &TargetReport, summary: BTreeMap<&'static str, usize>) -> Value {
    json!({
        "name": t.name,
        "environment": t.environment,
        "labels": t.labels,
        "exit_code": t.exit_code,
        "duration_ms": t.duration.as_millis() as u64,
        "summary": summary,
    })
}

/// `value` pretty-printed as an element of a top-level array (each line indented by four),
/// without the separator after it: what `to_string_pretty` of the whole document writes.
pub(super) fn element(value: &Value, out: &mut String) {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    for (i, line) in pretty.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str("    ");
        out.push_str(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_written_one_by_one_read_exactly_as_one_pretty_document() {
        let mut evidence = checks::Evidence::new();
        evidence.insert(
            "chain".into(),
            json!([{ "subject": "CN=a", "sans": ["x", "y"] }]),
        );
        evidence.insert("empty".into(), json!({}));
        let item = |id: &str| super::super::ItemReport {
            target: Some("t".into()),
            title: "T \"quoted\"\nline".into(),
            message: "ok".into(),
            evidence: evidence.clone(),
            duration: std::time::Duration::from_millis(3),
            ..super::super::fixture::item(id, "tls", crate::status::Status::Pass)
        };
        let mut report = Report {
            file: "c.yaml".into(),
            ..super::super::fixture::report("c", vec![item("a"), item("b")])
        };
        for _ in 0..2 {
            let text = JsonReporter.render(&report);
            let whole = json!({
                "schema_version": SCHEMA_VERSION,
                "checklist": report.checklist,
                "title": report.title,
                "file": report.file,
                "environment": report.environment,
                "started_at": rfc3339(report.started_at),
                "duration_ms": 0,
                "exit_code": 0,
                "interrupted": false,
                "summary": report.summary(),
                "items": report.items,
            });
            let expected = format!(
                "{}\n",
                serde_json::to_string_pretty(&whole).expect("pretty")
            );
            assert_eq!(text, expected);
            report.items.clear();
        }
    }
}
