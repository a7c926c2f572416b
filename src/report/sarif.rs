//! `--report sarif`: SARIF 2.1.0 for code-scanning dashboards. One rule per probe kind; one
//! result per item, located at the item's line in the checklist file; one run per fleet target.

use crate::status::Status;
use serde_json::{Value, json};

use super::{ItemReport, Report, Reporter, TargetReport, rfc3339};
use crate::checklist::Severity;

pub struct SarifReporter;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF `kind` and `level` (a level other than `none` is only allowed with `fail`).
fn kind_and_level(item: &ItemReport) -> (&'static str, &'static str) {
    let level = match item.severity {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    match item.status {
        Status::Pass | Status::Confirmed => ("pass", "none"),
        Status::Fail | Status::Declined | Status::Waived => ("fail", level),
        Status::Warn => ("fail", "warning"),
        Status::Error | Status::Pending | Status::Unconfigured => ("open", "none"),
        Status::Skip | Status::NotApplicable => ("notApplicable", "none"),
    }
}

/// Percent-encodes what a URI reference cannot hold (spaces, `%`, non-ASCII).
fn uri_reference(path: &str) -> String {
    crate::redact::percent_encode(path, b"/:@!$&'()*+,;=")
}

fn rule(kind: &str) -> Value {
    let text = if kind == "manual" {
        "A manual confirmation by a human".to_string()
    } else {
        format!("The `{kind}` probe")
    };
    json!({
        "id": kind,
        "name": kind,
        "shortDescription": { "text": text },
        "helpUri": format!("{}#probe-catalogue", env!("CARGO_PKG_REPOSITORY")),
    })
}

impl Reporter for SarifReporter {
    fn render(&self, report: &Report) -> String {
        // A fleet run is one SARIF run per target, each with its own category
        // (`automationDetails.id`): code scanning keys alerts by tool, category and location,
        // and every target's results sit on the same checklist lines, so one category per
        // target keeps one service's fixed alert from closing another's open one.
        let runs: Vec<Value> = if report.is_fleet() {
            report
                .target_views()
                .map(|(t, view)| sarif_run(&view, Some(t)))
                .collect()
        } else {
            vec![sarif_run(report, None)]
        };
        let doc = json!({
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": runs,
        });
        let mut text = serde_json::to_string_pretty(&doc)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}

/// One SARIF run: the report's items (one target's, in a fleet run).
fn sarif_run(report: &Report, target: Option<&TargetReport>) -> Value {
    let mut kinds: Vec<&str> = report.items.iter().map(|i| i.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let uri = uri_reference(&report.source_path());
    let results: Vec<Value> = report
        .items
        .iter()
        .map(|item| {
            let (kind, level) = kind_and_level(item);
            let mut result = json!({
                "ruleId": item.kind,
                "ruleIndex": kinds.iter().position(|k| *k == item.kind).unwrap_or(0),
                "kind": kind,
                "level": level,
                "message": { "text": sarif_text(item) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": { "startLine": item.line.max(1) }
                    },
                    "logicalLocations": [{
                        "name": item.id,
                        "fullyQualifiedName": match target {
                            Some(t) => format!("{}/{}/{}", report.checklist, t.name, item.id),
                            None => format!("{}/{}", report.checklist, item.id),
                        },
                        "kind": "object"
                    }]
                }],
                "properties": {
                    "item": item.id,
                    "section": item.section,
                    "severity": item.severity.as_str(),
                    "status": item.status.as_str(),
                    "gating": report.gates(item),
                    "duration_ms": item.duration.as_millis() as u64,
                    "evidence": item.evidence,
                }
            });
            if let Some(t) = target {
                result["properties"]["target"] = json!(t.name);
            }
            if let Some(series) = &item.series {
                result["properties"]["series"] = json!(series);
            }
            if item.status == Status::Waived {
                result["suppressions"] =
                    json!([{ "kind": "external", "justification": item.message }]);
            }
            result
        })
        .collect();
    let category = match target {
        Some(t) => format!("prodcheck/{}/{}/", report.checklist, t.name),
        None => format!("prodcheck/{}/", report.checklist),
    };
    let mut properties = json!({
        "checklist": report.checklist,
        "environment": report.environment,
    });
    if let Some(t) = target {
        properties["target"] = json!(t.name);
        properties["labels"] = json!(t.labels);
    }
    json!({
        "tool": { "driver": {
            "name": "prodcheck",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": env!("CARGO_PKG_REPOSITORY"),
            "rules": kinds.iter().map(|k| rule(k)).collect::<Vec<_>>(),
        }},
        "automationDetails": { "id": category },
        "invocations": [{
            "executionSuccessful": !report.interrupted,
            "exitCode": report.exit_code,
            "startTimeUtc": rfc3339(report.started_at),
        }],
        "artifacts": [{ "location": { "uri": uri } }],
        "results": results,
        "properties": properties,
    })
}

/// The result's text: title, message, and the fix when the item needs attention.
fn sarif_text(item: &ItemReport) -> String {
    let message = if item.message.is_empty() {
        item.status.as_str()
    } else {
        &item.message
    };
    let mut text = format!("{}: {message}", item.title);
    for line in item.fix_lines() {
        text.push_str(&format!("\n{line}"));
    }
    text
}
