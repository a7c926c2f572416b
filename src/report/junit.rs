//! `--report junit`: JUnit XML for CI test dashboards — one testsuite per section (per target
//! in a fleet run), one testcase per item; failures carry the message and the evidence.

use crate::status::Status;
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
        Status::Pending | Status::Unconfigured if report.blocks(item) => {
            non_success(NonSuccessKind::Failure)
        }
        Status::Error => non_success(NonSuccessKind::Error),
        Status::Skip
        | Status::Pending
        | Status::Waived
        | Status::Unconfigured
        | Status::NotApplicable => {
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
        if report.is_fleet() {
            // One testsuite per target: dashboards show which service is red at a glance.
            for (target, view) in report.target_views() {
                let mut suite = TestSuite::new(target.name.clone());
                suite.add_property(Property::new("checklist", report.checklist.clone()));
                suite.add_property(Property::new("target", target.name.clone()));
                if let Some(env) = &target.environment {
                    suite.add_property(Property::new("environment", env.clone()));
                }
                for (k, v) in &target.labels {
                    suite.add_property(Property::new(format!("label.{k}"), v.clone()));
                }
                for item in &view.items {
                    let class = format!("{}.{}.{}", report.checklist, target.name, item.section);
                    suite.add_test_case(case(&view, item, class));
                }
                junit.add_test_suite(suite);
            }
        } else {
            for suite in sections(report) {
                junit.add_test_suite(suite);
            }
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

/// One testsuite per section, in checklist order.
fn sections(report: &Report) -> Vec<TestSuite> {
    let mut suites = Vec::new();
    let mut suite: Option<TestSuite> = None;
    for item in &report.items {
        if suite
            .as_ref()
            .is_none_or(|s| s.name.as_str() != item.section)
        {
            if let Some(done) = suite.take() {
                suites.push(done);
            }
            let mut s = TestSuite::new(item.section.clone());
            s.add_property(Property::new("checklist", report.checklist.clone()));
            if let Some(env) = &report.environment {
                s.add_property(Property::new("environment", env.clone()));
            }
            suite = Some(s);
        }
        let class = format!("{}.{}", report.checklist, item.section);
        if let Some(s) = suite.as_mut() {
            s.add_test_case(case(report, item, class));
        }
    }
    suites.extend(suite);
    suites
}

fn case(report: &Report, item: &ItemReport, classname: String) -> TestCase {
    let mut case = TestCase::new(item.id.clone(), status(report, item));
    case.set_classname(classname)
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
    case
}
