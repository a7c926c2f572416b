//! Every report format from one run: snapshot-tested, secrets absent, and each checked by a
//! real consumer where one exists (promtool, junitparser, the SARIF 2.1.0 schema, tap.py).

use axum::Router;
use axum::routing::get;

use crate::support::*;

const CANARY: &str = "canary-4d2c-report-secret";
const FORMATS: [(&str, &str); 8] = [
    ("human", "human.txt"),
    ("junit", "xml"),
    ("markdown", "md"),
    ("sarif", "sarif"),
    ("tap", "tap"),
    ("github", "txt"),
    ("prometheus", "prom"),
    ("json", "json"),
];

fn checklist(ok: &str, refused: &str) -> String {
    format!(
        r#"name: reports
title: "Report | formats"
sections:
  - name: Web
    items:
      - id: health
        title: "Health #1 answers"
        check: {{ http: {{ url: "{ok}?token=${{env:PRODCHECK_TEST_TOKEN}}" }} }}
      - id: api-down
        title: 'API answers: "quickly", always'
        timeout: 2s
        fix: Start the API, or point `api_url` at where it runs.
        docs: https://wiki.example/runbooks/api
        check: {{ http: {{ url: "{refused}" }} }}
      - id: bad-ca
        title: Internal CA
        check: {{ http: {{ url: "{ok}", ca_file: /nonexistent/ca.pem }} }}
  - name: Process
    items:
      - id: runbook
        title: Runbook <reviewed> & current
        manual: {{ how: Read it. }}
      - id: legacy
        title: Legacy endpoint
        severity: warning
        timeout: 2s
        check: {{ http: {{ url: "{refused}" }} }}
      - id: skipped
        title: Skipped one
        check: {{ http: {{ url: "{ok}" }} }}
"#
    )
}

/// The reports of one run, by format.
struct Outputs {
    _project: Project,
    code: i32,
    files: Vec<(&'static str, String)>,
}

impl Outputs {
    fn get(&self, format: &str) -> &str {
        self.files
            .iter()
            .find(|(f, _)| *f == format)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no {format} report"))
    }
}

fn run_all_formats() -> Outputs {
    let server = AppServer::start(Router::new().route("/ok", get(|| async { "ok" })));
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let p = Project::new();
    p.file("c.yaml", &checklist(&server.url("/ok"), &refused));
    p.file(
        ".prodcheck/waivers.yaml",
        "waivers:\n  - checklist: reports\n    item: legacy\n    by: Ops\n    at: 2026-01-01T00:00:00Z\n    until: 2999-12-31\n    reason: retired next quarter\n",
    );
    let mut cmd = p.cmd();
    cmd.env("PRODCHECK_TEST_TOKEN", CANARY)
        .args(["run", "c.yaml", "--skip", "skipped"]);
    for (format, ext) in FORMATS {
        cmd.args(["--report", &format!("{format}=out/report.{ext}")]);
    }
    let ran = run(&mut cmd);
    assert!(!ran.stdout.contains(CANARY) && !ran.stderr.contains(CANARY));
    let files = FORMATS
        .iter()
        .map(|(format, ext)| {
            let path = p.path().join(format!("out/report.{ext}"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{format} report not written ({e}):\n{}", ran.stderr));
            assert!(!text.contains(CANARY), "secret leaked in {format}:\n{text}");
            (*format, text)
        })
        .collect();
    Outputs {
        _project: p,
        code: ran.code,
        files,
    }
}

#[test]
fn every_format_matches_its_snapshot() {
    let out = run_all_formats();
    assert_eq!(out.code, 1, "api-down fails the run");
    let settings = stable_snapshots();
    settings.bind(|| {
        for (format, _) in FORMATS.iter().filter(|(f, _)| *f != "json") {
            insta::assert_snapshot!(format!("report_{format}"), out.get(format));
        }
    });
}

/// The formats a CI system shows next to a failure carry the item's fix (and docs link).
#[test]
fn junit_sarif_and_github_carry_each_fix() {
    let out = run_all_formats();
    let fix = "Start the API, or point `api_url` at where it runs.";
    for format in ["junit", "sarif", "github"] {
        let text = out.get(format);
        assert!(
            text.contains(&format!("fix: {fix}")),
            "{format} report lost the fix `{fix}`:\n{text}"
        );
        assert!(
            text.contains("https://wiki.example/runbooks/api"),
            "{format} report lost the docs link:\n{text}"
        );
    }
}

/// The human report at `-v` and `-vv`, and in colour (what a terminal shows).
#[test]
fn human_report_at_each_verbosity_matches_its_snapshot() {
    let server = AppServer::start(Router::new().route("/ok", get(|| async { "ok" })));
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let p = Project::new();
    p.file("c.yaml", &checklist(&server.url("/ok"), &refused));
    let settings = stable_snapshots();
    for (name, flags) in [
        ("report_human_v", &["-v"][..]),
        ("report_human_vv", &["-vv"][..]),
        ("report_human_color", &["--color", "always"][..]),
    ] {
        let mut case = p
            .case()
            .env("PRODCHECK_TEST_TOKEN", CANARY)
            .args(["run", "c.yaml", "--skip", "skipped"])
            .args(flags)
            .code(1);
        if flags[0].starts_with("-v") {
            // -v states the run's pacing plan on stderr (the report stays on stdout).
            case = case.stderr_has("plan: 127.0.0.1: 4 paced requests at 5/s");
        }
        let ran = case.run();
        assert!(!ran.stdout.contains(CANARY), "secret leaked at {flags:?}");
        settings.bind(|| insta::assert_snapshot!(name, ran.stdout));
    }
}

#[test]
fn prometheus_report_passes_promtool() {
    let Some(promtool) = require_binary("promtool", "prometheus") else {
        return;
    };
    let out = run_all_formats();
    let text = out.get("prometheus");
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start promtool");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), text.as_bytes())
        .expect("feed promtool");
    let res = child.wait_with_output().expect("promtool");
    assert!(
        res.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(text.contains(
        r#"prodcheck_item_status{checklist="reports",item="api-down",severity="critical",status="fail"} 1"#
    ));
    assert!(text.contains(r#"status="waived"} 1"#));
}

#[test]
fn junit_report_parses_with_junitparser() {
    if !require_python_module("junitparser", "junitparser") {
        return;
    }
    let out = run_all_formats();
    let p = Project::new();
    let path = p.file("r.xml", out.get("junit"));
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        msg = case.result[0].message if case.result else ""
        print(f"{suite.name}|{case.name}|{','.join(kinds) or 'ok'}|{msg}")
"#;
    let listed = python(script, &[path.to_str().unwrap_or_default()]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 6, "one testcase per item:\n{listed}");
    for (prefix, kind) in [
        ("Web|health|", "ok"),
        ("Web|api-down|", "Failure"),
        ("Web|bad-ca|", "Error"),
        ("Process|runbook|", "Failure"),
        ("Process|legacy|", "Skipped"),
        ("Process|skipped|", "Skipped"),
    ] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{listed}"));
        assert!(line.contains(&format!("|{kind}|")), "{line}");
    }
}

#[test]
fn sarif_report_validates_against_the_2_1_0_schema() {
    let out = run_all_formats();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../fixtures/sarif-schema-2.1.0.json"))
            .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("compile SARIF schema");
    let sarif: serde_json::Value = serde_json::from_str(out.get("sarif")).expect("SARIF is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let api = results
        .iter()
        .find(|r| r["properties"]["item"] == "api-down")
        .expect("api-down result");
    let loc = &api["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "c.yaml");
    assert_eq!(loc["region"]["startLine"], 9, "the item's line in c.yaml");
    assert_eq!(api["kind"], "fail");
    assert_eq!(api["level"], "error");
    let rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(rules, ["http", "manual"], "one rule per probe kind");
}

#[test]
fn tap_report_parses_with_tap_py() {
    if !require_python_module("tap.parser", "tap.py[yaml]") {
        return;
    }
    let out = run_all_formats();
    let p = Project::new();
    let path = p.file("r.tap", out.get("tap"));
    let script = r#"
import sys
from tap.parser import Parser
lines = list(Parser().parse_file(sys.argv[1]))
assert lines[0].category == "version" and lines[0].version == 14, lines[0]
plan = [l for l in lines if l.category == "plan"][0]
tests = [l for l in lines if l.category == "test"]
assert plan.expected_tests == len(tests), (plan.expected_tests, len(tests))
for t in tests:
    yaml = "yaml" if t.yaml_block else "-"
    print(f"{t.number}|{'ok' if t.ok else 'not ok'}|todo={t.todo}|skip={t.skip}|{yaml}")
"#;
    let listed = python(script, &[path.to_str().unwrap_or_default()]);
    assert_eq!(
        listed,
        "1|ok|todo=False|skip=False|-\n\
         2|not ok|todo=False|skip=False|yaml\n\
         3|not ok|todo=False|skip=False|yaml\n\
         4|not ok|todo=False|skip=False|yaml\n\
         5|not ok|todo=True|skip=False|yaml\n\
         6|ok|todo=False|skip=True|-\n",
        "tap.py's view of the report:\n{}",
        out.get("tap")
    );
}

/// Decodes a workflow-command value the way the runner does.
fn unescape(text: &str) -> String {
    text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[test]
fn github_annotations_are_well_formed_workflow_commands() {
    let out = run_all_formats();
    let text = out.get("github");
    let mut seen = Vec::new();
    for line in text.lines() {
        let rest = line.strip_prefix("::").unwrap_or_else(|| panic!("{line}"));
        let (command, rest) = rest.split_once(' ').expect("command and properties");
        assert!(["error", "warning", "notice"].contains(&command), "{line}");
        let (props, message) = rest.split_once("::").expect("`::` before the message");
        let props: Vec<(&str, &str)> = props
            .split(',')
            .map(|kv| kv.split_once('=').expect("key=value"))
            .collect();
        let keys: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["file", "line", "title"], "{line}");
        assert!(props.iter().all(|(_, v)| !v.contains(':')), "{line}");
        assert_eq!(props[0].1, "c.yaml");
        assert!(props[1].1.parse::<u32>().is_ok_and(|n| n > 0), "{line}");
        let title = unescape(props[2].1);
        seen.push((command.to_string(), title, unescape(message)));
    }
    let find = |id: &str| {
        seen.iter()
            .find(|(_, t, _)| t.contains(&format!(" {id} ")))
            .unwrap_or_else(|| panic!("no annotation for {id}:\n{text}"))
    };
    assert_eq!(find("api-down").0, "error");
    assert!(
        find("api-down")
            .2
            .starts_with("API answers: \"quickly\", always\n")
    );
    assert_eq!(find("legacy").0, "notice");
    assert_eq!(find("runbook").0, "error");
    assert!(seen.iter().all(|(_, t, _)| !t.contains(" health ")));
}
