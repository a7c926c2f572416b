//! Reports built in code for unit tests of the formats, `serve` and recording: one item and one
//! report with every field at a plain default, changed by struct update where a test cares.

use std::time::{Duration, UNIX_EPOCH};

use super::{ItemReport, Report};
use crate::checklist::Severity;
use crate::status::Status;

/// Item `id` of kind `kind` in section "S": critical, gating, observed as `status`, tried once.
pub fn item(id: &str, kind: &str, status: Status) -> ItemReport {
    ItemReport {
        target: None,
        id: id.into(),
        title: id.into(),
        section: "S".into(),
        severity: Severity::Critical,
        kind: kind.into(),
        status,
        observed: status,
        gating: true,
        message: String::new(),
        evidence: serde_json::Map::new(),
        duration: Duration::ZERO,
        attempts: 1,
        flaky: false,
        line: 1,
        tags: Vec::new(),
        fix: None,
        docs: None,
        note: None,
        waiver: None,
        exit_code: u8::from(status.is_failing()),
        prompted: false,
        series: None,
    }
}

/// A report of checklist `checklist` (`builtin:NAME`) holding `items`, started at the epoch;
/// its exit code is 1 when an item's is.
pub fn report(checklist: &str, items: Vec<ItemReport>) -> Report {
    Report {
        checklist: checklist.into(),
        title: None,
        file: format!("builtin:{checklist}"),
        environment: None,
        started_at: UNIX_EPOCH,
        duration: Duration::ZERO,
        exit_code: u8::from(items.iter().any(|i| i.exit_code == 1)),
        interrupted: false,
        fail_on_warning: false,
        items,
        changes: None,
        targets: Vec::new(),
        recent_runs: Vec::new(),
        watch: None,
    }
}
