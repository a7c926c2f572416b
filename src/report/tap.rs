//! `--report tap`: TAP version 14. A test point is `not ok` exactly when the item blocks the
//! gate; non-gating problems and waivers are `# TODO`, skips `# SKIP`; details go in YAML blocks.
//! A fleet run is one subtest per target.

use std::collections::BTreeMap;

use crate::status::Status;

use super::{ItemReport, Report, Reporter};

pub struct TapReporter;

/// Escapes a description or directive reason (`#` starts a directive, `\` escapes).
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('#', "\\#")
        .replace(['\n', '\r'], " ")
}

fn diagnostics(item: &ItemReport) -> String {
    let mut map: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    map.insert("message", item.message.clone().into());
    if let Some(fix) = item.fix.as_ref().filter(|_| item.needs_attention()) {
        map.insert("fix", fix.clone().into());
    }
    map.insert("severity", item.severity.as_str().into());
    map.insert("status", item.status.as_str().into());
    map.insert("kind", item.kind.clone().into());
    map.insert("duration_ms", (item.duration.as_millis() as u64).into());
    if !item.evidence.is_empty() {
        map.insert("evidence", serde_json::Value::Object(item.evidence.clone()));
    }
    if let Some(series) = &item.series {
        map.insert("series", serde_json::json!(series));
    }
    let yaml = serde_saphyr::to_string(&map).unwrap_or_else(|e| format!("error: \"{e}\"\n"));
    let mut out = String::from("  ---\n");
    for line in yaml.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("  ...\n");
    out
}

impl Reporter for TapReporter {
    fn render(&self, report: &Report) -> String {
        let mut out = String::from("TAP version 14\n");
        if !report.is_fleet() {
            out.push_str(&points(report, ""));
            return out;
        }
        // A fleet run: one subtest per target; its test point is `not ok` exactly when the
        // target's exit code is not 0.
        out.push_str(&format!("1..{}\n", report.targets.len()));
        for (n, (target, view)) in report.target_views().enumerate() {
            out.push_str(&format!("# Subtest: {}\n", escape(&target.name)));
            out.push_str(&points(&view, "    "));
            let ok = if target.exit_code == crate::exit_code::OK {
                "ok"
            } else {
                "not ok"
            };
            out.push_str(&format!("{ok} {} - {}\n", n + 1, escape(&target.name)));
        }
        out
    }
}

/// The plan and one test point per item, each line indented by `indent`.
fn points(report: &Report, indent: &str) -> String {
    let mut out = format!("{indent}1..{}\n", report.items.len());
    for (n, item) in report.items.iter().enumerate() {
        let blocks = report.blocks(item);
        let ok = if blocks { "not ok" } else { "ok" };
        let (ok, directive) = match item.status {
            Status::Skip | Status::NotApplicable => {
                (ok, format!(" # SKIP {}", escape(&item.message)))
            }
            Status::Waived => ("not ok", format!(" # TODO {}", escape(&item.message))),
            Status::Fail
            | Status::Error
            | Status::Declined
            | Status::Pending
            | Status::Unconfigured
                if !blocks =>
            {
                (
                    "not ok",
                    format!(" # TODO non-gating {} item", item.severity.as_str()),
                )
            }
            _ => (ok, String::new()),
        };
        out.push_str(&format!(
            "{indent}{ok} {} - {}: {}{directive}\n",
            n + 1,
            escape(&item.id),
            escape(&item.title)
        ));
        if !matches!(
            item.status,
            Status::Pass | Status::Confirmed | Status::Skip | Status::NotApplicable
        ) {
            for line in diagnostics(item).lines() {
                out.push_str(&format!("{indent}{line}\n"));
            }
        }
    }
    out
}
