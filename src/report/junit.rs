//! `--report junit`: JUnit XML for CI test dashboards — one testsuite per section, one
//! testcase per item; failures carry the message and the evidence. Built with quick-junit.

use crate::verdict::Status;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{ItemReport, Report, Reporter};

pub struct JunitReporter;

fn status(report: &Report, item: &ItemReport) -> TestCaseStatus {
    let detail = || {
        let mut lines = vec![item.message.clone()];
        lines.extend(item.fix_lines());
        lines.extend(item.evidence_lines());
        lines.join("\n")
    };
    let non_success = |kind| {
        let mut s = TestCaseStatus::non_success(kind);
        s.set_message(item.message.clone())
            .set_type(item.status.as_str())
            .set_description(detail());
        s
    };
    match item.status {
        Status::Fail | Status::Declined => non_success(NonSuccessKind::Failure),
        Status::Warn if report.blocks(item) => non_success(NonSuccessKind::Failure),
        Status::Pending if report.blocks(item) => non_success(NonSuccessKind::Failure),
        Status::Error => non_success(NonSuccessKind::Error),
        Status::Skip | Status::Pending | Status::Waived => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("{}: {}", item.status.as_str(), item.message))
                .set_type(item.status.as_str());
            s
        }
        Status::Pass | Status::Warn | Status::Confirmed => TestCaseStatus::success(),
    }
}

impl Reporter for JunitReporter {
    fn render(&self, report: &Report) -> String {
        let mut junit = quick_junit::Report::new(format!("prodcheck {}", report.checklist));
        junit.set_time(report.duration);
        let mut suite: Option<TestSuite> = None;
        for item in &report.items {
            if suite
                .as_ref()
                .is_none_or(|s| s.name.as_str() != item.section)
            {
                if let Some(done) = suite.take() {
                    junit.add_test_suite(done);
                }
                let mut s = TestSuite::new(item.section.clone());
                s.add_property(Property::new("checklist", report.checklist.clone()));
                if let Some(env) = &report.environment {
                    s.add_property(Property::new("environment", env.clone()));
                }
                suite = Some(s);
            }
            let mut case = TestCase::new(item.id.clone(), status(report, item));
            case.set_classname(format!("{}.{}", report.checklist, item.section))
                .set_time(item.duration)
                .add_property(Property::new("title", item.title.clone()))
                .add_property(Property::new("kind", item.kind.clone()))
                .add_property(Property::new("severity", item.severity.as_str()))
                .add_property(Property::new("status", item.status.as_str()));
            if item.status == Status::Warn || item.flaky || item.series.is_some() {
                let mut out = format!("{}: {}", item.status.as_str(), item.message);
                // A watched trigger's values over the window, whatever its verdict.
                if let Some(series) = item.series_text() {
                    out.push_str(&format!("\nseries: {series}"));
                }
                case.set_system_out(out);
            }
            if let Some(s) = suite.as_mut() {
                s.add_test_case(case);
            }
        }
        if let Some(done) = suite {
            junit.add_test_suite(done);
        }
        match junit.to_string() {
            Ok(mut xml) => {
                if !xml.ends_with('\n') {
                    xml.push('\n');
                }
                xml
            }
            Err(e) => format!("<!-- prodcheck: cannot render JUnit XML: {e} -->\n"),
        }
    }
}
