//! Fleets through the CLI: `targets:` in prodcheck.yaml, `run --target GLOB` / `--all-targets`
//! against a good and a bad local service, the worst target's exit code, a part per target in
//! every report format, usage errors, and state (history, sign-offs, waivers) kept per target.

use crate::support::*;

/// One health check per target, one manual item, and an item every target passes.
const CHECKLIST: &str = r#"name: fleet
vars:
  base_url: ~
sections:
  - name: Service
    items:
      - id: health
        title: Health endpoint answers 200
        timeout: 3s
        check: { http: { url: "${base_url}/health", expect: { status: 200 } } }
      - id: runbook
        title: Runbook reviewed
        manual: { how: Read it. }
"#;

fn ok_server() -> RawServer {
    RawServer::respond(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
}

fn failing_server() -> RawServer {
    RawServer::respond(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\nboom",
    )
}

/// A project with `c.yaml` and targets `api-good`, `api-bad` (env `production`) and `web`.
fn project(good: &RawServer, bad: &RawServer) -> Project {
    let p = Project::new();
    p.file("c.yaml", CHECKLIST);
    p.file(
        "prodcheck.yaml",
        &format!(
            "environments:\n  production:\n    vars: {{ base_url: \"{}\" }}\ntargets:\n  api-good:\n    vars: {{ base_url: \"{}\" }}\n    labels: {{ team: shop }}\n  api-bad:\n    env: production\n  web:\n    vars: {{ base_url: \"{}\" }}\n",
            bad.url(""),
            good.url(""),
            good.url("")
        ),
    );
    p
}

fn target_names(report: &serde_json::Value) -> Vec<String> {
    report["targets"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The item `id` of target `target` in a fleet JSON report.
fn target_item<'a>(report: &'a serde_json::Value, target: &str, id: &str) -> &'a serde_json::Value {
    report["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["target"] == target && i["id"] == id)
        })
        .unwrap_or_else(|| panic!("no item `{id}` of target `{target}` in {report}"))
}

#[test]
fn a_glob_picks_targets_and_the_worst_target_sets_the_exit_code() {
    let (good, bad) = (ok_server(), failing_server());
    let p = project(&good, &bad);
    let ran = run(p.cmd().args([
        "run",
        "c.yaml",
        "--target",
        "api-*",
        "--automated",
        "--report",
        "json",
    ]));
    assert_code!(ran, 1, "api-bad fails");
    let report = json(&ran);
    assert_eq!(target_names(&report), ["api-good", "api-bad"]);
    assert_eq!(report["exit_code"], 1);
    assert_eq!(target_item(&report, "api-good", "health")["status"], "pass");
    let bad_health = target_item(&report, "api-bad", "health");
    assert_eq!(bad_health["status"], "fail");
    assert!(
        bad_health["message"]
            .as_str()
            .unwrap_or_default()
            .contains("500"),
        "{bad_health}"
    );
    let targets = report["targets"].as_array().cloned().unwrap_or_default();
    assert_eq!(targets[0]["exit_code"], 0);
    assert_eq!(targets[0]["labels"]["team"], "shop");
    assert_eq!(targets[1]["exit_code"], 1);
    assert_eq!(targets[1]["environment"], "production");
    assert_eq!(targets[1]["summary"]["fail"], 1);
    // The top-level summary counts every target's items.
    assert_eq!(report["summary"]["pass"], 1);
    assert_eq!(report["summary"]["skip"], 2, "the manual items, left out");
    assert_eq!(good.accepted.load(std::sync::atomic::Ordering::SeqCst), 1);

    // A glob that picks only good targets passes; --all-targets takes the worst of all three.
    p.case()
        .args(["run", "c.yaml", "--target", "web", "--automated"])
        .run();
    let ran = p
        .case()
        .args([
            "run",
            "c.yaml",
            "--all-targets",
            "--automated",
            "--report",
            "json",
        ])
        .code(1)
        .run();
    assert_eq!(target_names(&json(&ran)), ["api-good", "api-bad", "web"]);
}

/// One exec item whose exit code comes from the target's `code` variable.
fn exec_project(codes: &[(&str, u8)]) -> Project {
    let p = Project::new();
    p.file(
        "c.yaml",
        "name: codes\nvars:\n  code: ~\nsections:\n  - name: S\n    items:\n      - id: check\n        title: Check\n        check: { exec: { shell: \"exit ${code}\" } }\n",
    );
    let mut config = String::from("targets:\n");
    for (name, code) in codes {
        config.push_str(&format!("  {name}: {{ vars: {{ code: \"{code}\" }} }}\n"));
    }
    p.file("prodcheck.yaml", &config);
    p
}

#[test]
fn the_exit_code_is_the_worst_targets_with_the_usual_precedence() {
    // Nagios codes: 0 OK → pass, 2 CRITICAL → fail, 3 UNKNOWN → error.
    for (codes, want) in [
        (vec![("a", 0), ("b", 0)], 0),
        (vec![("a", 0), ("b", 3)], 3),
        (vec![("a", 3), ("b", 2), ("c", 0)], 1),
    ] {
        let p = exec_project(&codes);
        let ran = run(p
            .cmd()
            .args(["run", "c.yaml", "--all-targets", "--report", "json"]));
        assert_code!(ran, want, "{codes:?}");
        let report = json(&ran);
        let per_target: Vec<i64> = report["targets"]
            .as_array()
            .map(|a| a.iter().filter_map(|t| t["exit_code"].as_i64()).collect())
            .unwrap_or_default();
        let expected: Vec<i64> = codes
            .iter()
            .map(|(_, c)| match c {
                0 => 0,
                2 => 1,
                _ => 3,
            })
            .collect();
        assert_eq!(per_target, expected, "{codes:?}");
    }
}

#[test]
fn unknown_targets_and_bad_target_definitions_stop_the_run() {
    let (good, bad) = (ok_server(), failing_server());
    let p = project(&good, &bad);
    p.case()
        .args(["run", "c.yaml", "--target", "db-*"])
        .code(2)
        .stderr_has("--target `db-*` matches no target in prodcheck.yaml")
        .stderr_has("known targets: api-good, api-bad, web")
        .run();
    // One pattern that matches nothing stops the run even if another matches.
    p.case()
        .args(["run", "c.yaml", "--target", "web", "--target", "wbe"])
        .code(2)
        .any_stderr()
        .run();
    assert_eq!(good.accepted.load(std::sync::atomic::Ordering::SeqCst), 0);
    // --target and --all-targets together is a usage error too.
    p.case()
        .args(["run", "c.yaml", "--target", "web", "--all-targets"])
        .code(2)
        .any_stderr()
        .run();

    let empty = Project::new();
    empty.file("c.yaml", CHECKLIST);
    empty
        .case()
        .args(["run", "c.yaml", "--all-targets"])
        .code(2)
        .stderr_has("no targets are defined in prodcheck.yaml")
        .run();

    // A target naming an environment that does not exist: file, line and column.
    empty.file(
        "prodcheck.yaml",
        "environments:\n  production: {}\ntargets:\n  api:\n    env: prod\n",
    );
    empty
        .case()
        .args(["run", "c.yaml", "--all-targets"])
        .code(2)
        .stderr_has("target `api`: unknown environment `prod`")
        .stderr_has("prodcheck.yaml:5:10")
        .stderr_has("known environments: production")
        .run();

    // A target that leaves a needed variable unset: with --strict-vars, named, and nothing
    // runs; without, the item is `unconfigured` for each target (exit 4, like pending).
    empty.file("prodcheck.yaml", "targets:\n  api: {}\n  web: {}\n");
    let ran = run(empty
        .cmd()
        .args(["run", "c.yaml", "--all-targets", "--report", "json"]));
    assert_code!(ran, 4);
    let report = json(&ran);
    assert_eq!(report["summary"]["unconfigured"], 2, "{report}");
    let ran = run(empty
        .cmd()
        .args(["run", "c.yaml", "--all-targets", "--strict-vars"]));
    assert_code!(ran, 2);
    assert!(
        ran.stderr
            .contains("variable `base_url` is not set (targets api, web)"),
        "{}",
        ran.stderr
    );
}

#[test]
fn every_report_format_has_a_part_per_target() {
    let p = exec_project(&[("good", 0), ("bad", 2)]);
    let report = |format: &str| {
        let ran = run(p
            .cmd()
            .args(["run", "c.yaml", "--all-targets", "--report", format]));
        assert_code!(ran, 1, "{format}");
        ran.stdout
    };
    let junit = report("junit");
    assert!(
        junit.contains(r#"<testsuite name="good" tests="1" skipped="0" errors="0" failures="0">"#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<testsuite name="bad" tests="1" skipped="0" errors="0" failures="1">"#),
        "{junit}"
    );
    assert!(junit.contains(r#"classname="codes.bad.S""#), "{junit}");

    let sarif: serde_json::Value = serde_json::from_str(&report("sarif")).expect("SARIF is JSON");
    let runs = sarif["runs"].as_array().cloned().unwrap_or_default();
    let categories: Vec<&str> = runs
        .iter()
        .filter_map(|r| r["automationDetails"]["id"].as_str())
        .collect();
    assert_eq!(
        categories,
        ["prodcheck/codes/good/", "prodcheck/codes/bad/"]
    );
    assert_eq!(runs[1]["results"][0]["kind"], "fail");
    assert_eq!(runs[1]["results"][0]["properties"]["target"], "bad");
    assert_eq!(runs[0]["results"][0]["kind"], "pass");

    let tap = report("tap");
    assert!(tap.starts_with("TAP version 14\n1..2\n# Subtest: good\n    1..1\n    ok 1 - check: Check\nok 1 - good\n# Subtest: bad\n    1..1\n    not ok 1 - check: Check\n"), "{tap}");
    assert!(tap.ends_with("not ok 2 - bad\n"), "{tap}");

    let markdown = report("markdown");
    assert!(markdown.contains("· 2 targets"), "{markdown}");
    assert!(
        markdown.contains("| **bad** |  | ❌ exit 1: a gating item failed |"),
        "{markdown}"
    );
    assert!(markdown.contains("✅ 1 target(s) passed"), "{markdown}");

    let github = report("github");
    assert!(
        github.contains("title=prodcheck codes [bad]%3A check fail (critical)"),
        "{github}"
    );
    assert!(!github.contains("[good]"), "{github}");

    let textfile = report("prometheus");
    assert!(
        textfile.contains(r#"prodcheck_run_exit_code{checklist="codes",target="bad"} 1"#),
        "{textfile}"
    );
    assert!(
        textfile.contains(
            r#"prodcheck_item_status{checklist="codes",target="good",item="check",severity="critical",status="pass"} 1"#
        ),
        "{textfile}"
    );

    // HTML: every target in one table, a section for the one that needs a look.
    p.case()
        .args([
            "run",
            "c.yaml",
            "--all-targets",
            "--report",
            "html=report.html",
        ])
        .code(1)
        .run();
    let html = std::fs::read_to_string(p.path().join("report.html")).expect("html written");
    assert!(html.contains(r#"<section id="targets""#), "{html}");
    assert!(html.contains("2 targets"), "{html}");
    assert!(
        html.contains(r##"<a href="#target-bad"><code>bad</code></a>"##),
        "{html}"
    );
    assert!(html.contains(r#"<section id="target-bad""#), "{html}");
    assert!(!html.contains(r#"<section id="target-good""#), "{html}");
    assert!(html.contains("`exit 2` exited 2"), "{html}");

    // Human: the failing target gets a heading and the summary, the clean one a folded line.
    let human = report("human");
    assert!(
        human.contains("━━ bad — exit 1: a gating item failed"),
        "{human}"
    );
    assert!(human.contains("✔ 1 target(s) passed: good"), "{human}");
    assert!(
        human.contains("Targets: 1 exit 1 (bad), 1 exit 0"),
        "{human}"
    );
    assert!(!human.contains("━━ good"), "{human}");
    let verbose = run(p.cmd().args(["run", "c.yaml", "--all-targets", "-v"]));
    assert!(
        verbose.stdout.contains("━━ good — exit 0"),
        "{}",
        verbose.stdout
    );
}

#[test]
fn history_signoffs_and_waivers_stay_with_their_target() {
    let (good, bad) = (ok_server(), failing_server());
    let p = project(&good, &bad);
    // A sign-off for one target confirms the manual item for that target only.
    p.case()
        .args([
            "signoff", "c.yaml", "runbook", "--target", "api-good", "--by", "Ada",
        ])
        .stdout_has("for target `api-good`")
        .run();
    p.case()
        .args(["signoff", "c.yaml", "runbook", "--target", "nope"])
        .code(2)
        .stderr_has("known targets: api-good")
        .run();
    // A waiver for the bad target's health check.
    p.case()
        .args([
            "waive",
            "c.yaml",
            "health",
            "--target",
            "api-bad",
            "--reason",
            "vendor fix pending",
            "--until",
            "2099-01-01",
        ])
        .run();

    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--target", "api-*", "--report", "json"]));
    let report = json(&ran);
    assert_eq!(
        target_item(&report, "api-good", "runbook")["status"],
        "confirmed"
    );
    assert_eq!(
        target_item(&report, "api-bad", "runbook")["status"],
        "pending"
    );
    assert_eq!(
        target_item(&report, "api-bad", "health")["status"],
        "waived"
    );
    assert_code!(ran, 4, "api-bad's runbook is pending");

    // The waiver does not leak into a run without a target, nor a sign-off.
    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--env", "production", "--report", "json"]));
    let plain = json(&ran);
    assert_status(&plain, "health", "fail");
    assert_status(&plain, "runbook", "pending");

    // History: one file per target, each line naming its target; the plain run has its own.
    let lines = |name: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p.path().join(format!(".prodcheck/history/{name}.jsonl")))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("history line"))
            .collect()
    };
    let good_runs = lines("fleet@api-good");
    let bad_runs = lines("fleet@api-bad");
    assert_eq!((good_runs.len(), bad_runs.len()), (1, 1));
    assert_eq!(good_runs[0]["target"], "api-good");
    assert_eq!(bad_runs[0]["exit_code"], 4);
    assert_eq!(lines("fleet").len(), 1);
    assert!(lines("fleet")[0].get("target").is_none());
    assert!(lines("fleet@web").is_empty());

    // A second run compares each target with its own previous run: api-good now points at
    // the failing service, api-bad is unchanged (still waived).
    let config = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("config");
    p.file(
        "prodcheck.yaml",
        &config.replacen(&good.url(""), &bad.url(""), 1),
    );
    let ran = run(p.cmd().args(["run", "c.yaml", "--target", "api-*", "-v"]));
    let out = &ran.stdout;
    let bad_part = out
        .split("━━ api-bad")
        .nth(1)
        .unwrap_or_else(|| panic!("no api-bad heading: {out}"));
    let good_part = out
        .split("━━ api-good")
        .nth(1)
        .and_then(|s| s.split("━━ api-bad").next())
        .unwrap_or_else(|| panic!("no api-good heading: {out}"));
    assert!(good_part.contains("newly failing: health"), "{out}");
    assert!(!bad_part.contains("Since the previous run"), "{out}");
    p.case()
        .args(["history", "c.yaml", "--target", "api-bad"])
        .stdout_has("2 run(s)")
        .stdout_has("fleet@api-bad.jsonl")
        .run();
}

#[test]
fn a_watch_follows_one_target() {
    let p = Project::new();
    p.file(
        "c.yaml",
        "name: w\nvars:\n  code: ~\nsections:\n  - name: S\n    items:\n      - id: check\n        title: Check\n        for: 500ms\n        check: { exec: { shell: \"exit ${code}\" } }\n",
    );
    p.file(
        "prodcheck.yaml",
        "targets:\n  good: { vars: { code: \"0\" } }\n  bad: { vars: { code: \"2\" } }\n",
    );
    let watch = |target: &str| {
        run(p.cmd().args([
            "watch", "c.yaml", "--target", target, "--for", "1500ms", "--every", "250ms",
            "--report", "json",
        ]))
    };
    let good = watch("good");
    assert_code!(good, 0);
    let bad = watch("bad");
    assert_code!(bad, 1);
    assert_eq!(item(&json(&bad), "check")["status"], "fail");
    let both = watch("*");
    assert_code!(both, 2);
    assert!(
        both.stderr
            .contains("watch follows one target at a time; the selection names 2: good, bad"),
        "{}",
        both.stderr
    );
}
