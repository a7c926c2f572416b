//! Progressive runs: an unset variable no longer stops the run. Every item that can run does;
//! an item whose variables are unset is `unconfigured` (gating like a pending manual item, 6
//! with `--automated`) unless prodcheck.yaml declares it `not_applicable`, in every format.

use crate::support::*;

/// One item that runs, one that needs `target_url` (unset), one manual: the smallest mix.
const MIXED: &str = r#"name: mixed
vars:
  target_url: ~
sections:
  - name: S
    items:
      - id: runs
        title: Runs without configuration
        tags: [local]
        check: { exec: { shell: "echo OK - fine" } }
      - id: needs-target
        title: Needs the target
        tags: [remote]
        check: { http: { url: "${target_url}/health" } }
      - id: needs-two
        title: Needs the target and a token
        severity: warning
        check: { http: { url: "${target_url}/api", headers: { Authorization: "Bearer ${token}" } } }
"#;

fn mixed_project(config: &str) -> Project {
    let p = Project::new();
    p.file(
        "c.yaml",
        &MIXED.replace("  target_url: ~\n", "  target_url: ~\n  token: ~\n"),
    );
    if !config.is_empty() {
        p.file("prodcheck.yaml", config);
    }
    p
}

#[test]
fn unset_variables_leave_their_items_unconfigured_and_the_rest_runs() {
    let p = mixed_project("");
    let ran = run(p.cmd().args(["run", "c.yaml", "--report", "json"]));
    // Like a pending manual item: not 0 (a gate never passes by omission), not 2.
    assert_eq!(ran.code, 4, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(item(&report, "runs")["status"], "pass");
    let it = item(&report, "needs-target");
    assert_eq!(it["status"], "unconfigured", "{it}");
    assert_eq!(
        it["evidence"]["unset_variables"],
        serde_json::json!(["target_url"])
    );
    let text = it["message"].as_str().unwrap_or_default();
    for needle in [
        "variable `target_url` is not set",
        "--var target_url=",
        "prodcheck.yaml",
        "init --discover",
        "not_applicable",
    ] {
        assert!(text.contains(needle), "`{needle}` missing: {text}");
    }
    let two = item(&report, "needs-two");
    assert_eq!(two["status"], "unconfigured");
    assert!(
        two["message"]
            .as_str()
            .unwrap_or_default()
            .contains("variables `target_url`, `token` are not set"),
        "{two}"
    );
    assert_eq!(report["summary"]["unconfigured"], 2);
    assert_eq!(report["schema_version"], 2);

    // The human report names each variable with the items waiting for it.
    let ran = run(p.cmd().args(["run", "c.yaml", "--color", "never"]));
    assert_eq!(ran.code, 4);
    assert!(
        ran.stdout.contains("○ 2 item(s) unconfigured")
            && ran.stdout.contains("  target_url: needs-target, needs-two")
            && ran.stdout.contains("  token: needs-two"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("exit 4"), "{}", ran.stdout);
}

#[test]
fn automated_runs_give_6_and_strict_vars_keep_exit_2() {
    let p = mixed_project("");
    let ran = run(p.cmd().args(["run", "c.yaml", "--automated"]));
    assert_eq!(ran.code, 6, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("--automated: gating items are unconfigured"),
        "{}",
        ran.stdout
    );
    // Only a non-gating (warning) item unconfigured: nothing blocks.
    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--automated", "--skip", "needs-target"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    // Selected items only: `--only runs` needs nothing.
    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--automated", "--only", "runs"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);

    let ran = run(p.cmd().args(["run", "c.yaml", "--strict-vars"]));
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.is_empty(),
        "a report was printed: {}",
        ran.stdout
    );
    assert!(
        ran.stderr
            .contains("variable `target_url` is not set (also used on lines"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("c.yaml:15:"), "{}", ran.stderr);
    // Once everything is set, --strict-vars runs.
    let ran = run(p.cmd().args([
        "run",
        "c.yaml",
        "--strict-vars",
        "--only",
        "runs",
        "--report",
        "json",
    ]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
}

#[test]
fn not_applicable_by_id_or_tag_is_reported_with_its_reason_and_does_not_gate() {
    let config = "environments:\n  staging:\n    vars: {}\n    not_applicable:\n      needs-target: no health endpoint on this worker\n      remote: nothing remote in staging\n";
    let p = mixed_project(config);
    let ran = run(p.cmd().args([
        "run",
        "c.yaml",
        "--env",
        "staging",
        "--automated",
        "--report",
        "json",
    ]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let it = item(&report, "needs-target");
    assert_eq!(it["status"], "not_applicable", "{it}");
    // The id's own entry wins over its tag's.
    assert_eq!(
        it["message"],
        "not applicable: no health endpoint on this worker (prodcheck.yaml:5, environment `staging`)"
    );
    assert_eq!(item(&report, "runs")["status"], "pass");
    // `needs-two` has no tag `remote`: still unconfigured (warning: it does not gate).
    assert_eq!(item(&report, "needs-two")["status"], "unconfigured");

    // By tag: a target of the same environment declares the tag not applicable.
    let config = "environments:\n  staging: { vars: {} }\ntargets:\n  worker:\n    env: staging\n    not_applicable: { remote: workers serve no HTTP }\n";
    let p = mixed_project(config);
    let ran = run(p.cmd().args([
        "run",
        "c.yaml",
        "--target",
        "worker",
        "--automated",
        "--report",
        "json",
    ]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let it = item(&json(&ran), "needs-target").clone();
    assert_eq!(it["status"], "not_applicable", "{it}");
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains("workers serve no HTTP (prodcheck.yaml:6, target `worker`)"),
        "{it}"
    );

    // A name that is no item or tag of any checklist is a diagnostic in prodcheck.yaml.
    let p =
        mixed_project("environments:\n  staging:\n    not_applicable:\n      needs-targte: typo\n");
    let ran = run(p.cmd().args(["run", "c.yaml", "--env", "staging"]));
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains(
            "environment `staging`: `not_applicable`: no item `needs-targte` in any checklist"
        ),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("prodcheck.yaml:4:7"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("did you mean `needs-target`?"),
        "{}",
        ran.stderr
    );
    // A reason is required.
    let p = mixed_project("environments:\n  staging:\n    not_applicable:\n      remote: ~\n");
    let ran = run(p.cmd().args(["run", "c.yaml", "--env", "staging"]));
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("needs a reason"), "{}", ran.stderr);
}

#[test]
fn every_report_format_shows_unconfigured_and_not_applicable_items() {
    let config =
        "environments:\n  staging:\n    not_applicable:\n      needs-two: the API is internal\n";
    let p = mixed_project(config);
    let formats = [
        "json",
        "junit",
        "tap",
        "sarif",
        "github",
        "markdown",
        "html",
        "prometheus",
    ];
    let mut cmd = p.cmd();
    cmd.args(["run", "c.yaml", "--env", "staging", "--color", "never"]);
    for f in formats {
        cmd.args(["--report", &format!("{f}=out.{f}")]);
    }
    let ran = run(&mut cmd);
    assert_eq!(ran.code, 4, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("N/A") && ran.stdout.contains("the API is internal"),
        "human: {}",
        ran.stdout
    );
    for f in formats {
        let text = std::fs::read_to_string(p.path().join(format!("out.{f}"))).expect("report");
        let lower = text.to_lowercase();
        for needle in ["needs-target", "target_url", "the api is internal"] {
            // Prometheus carries statuses, not messages.
            if f == "prometheus" && needle != "needs-target" {
                continue;
            }
            assert!(lower.contains(needle), "{f} lacks `{needle}`:\n{text}");
        }
        if f != "github" {
            assert!(lower.contains("unconfigured"), "{f}:\n{text}");
        }
    }
    let prom = std::fs::read_to_string(p.path().join("out.prometheus")).expect("prometheus");
    assert!(prom.contains(r#"status="unconfigured""#), "{prom}");
    assert!(prom.contains(r#"status="not_applicable""#), "{prom}");
    let tap = std::fs::read_to_string(p.path().join("out.tap")).expect("tap");
    assert!(
        tap.contains("not ok 2 - needs-target"),
        "a gating unconfigured item is not ok (and no TODO): {tap}"
    );
    assert!(
        tap.contains("ok 3 - needs-two: Needs the target and a token # SKIP not applicable"),
        "{tap}"
    );
    let junit = std::fs::read_to_string(p.path().join("out.junit")).expect("junit");
    assert!(
        junit.contains(r#"type="unconfigured""#) && junit.contains("<failure"),
        "{junit}"
    );
    let sarif = std::fs::read_to_string(p.path().join("out.sarif")).expect("sarif");
    assert!(sarif.contains(r#""kind": "notApplicable""#), "{sarif}");
}

#[test]
fn validate_env_lists_the_items_that_would_be_unconfigured() {
    let config = "environments:\n  staging:\n    vars: { target_url: \"http://127.0.0.1:9\" }\n    not_applicable: { needs-two: internal API }\n  bare: {}\n";
    let p = mixed_project(config);
    let ran = run(p.cmd().args(["validate", "c.yaml", "--env", "bare"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("unconfigured needs-target: `target_url` not set"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("unconfigured needs-two: `target_url`, `token` not set"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("2 item(s) would be unconfigured with `--env bare`"),
        "{}",
        ran.stdout
    );
    let ran = run(p.cmd().args(["validate", "c.yaml", "--env", "staging"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        !ran.stdout.contains("unconfigured needs-target"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(
            "not applicable needs-two: internal API (prodcheck.yaml:4, environment `staging`)"
        ),
        "{}",
        ran.stdout
    );
    let ran = run(p.cmd().args(["validate", "c.yaml", "--env", "prod"]));
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("unknown environment `prod`"),
        "{}",
        ran.stderr
    );
}

/// `watch` keeps the strict rule: a rollback trigger that cannot be evaluated would let a
/// rollout pass unwatched, so an unset variable stops the watch before it starts.
#[test]
fn a_watch_with_an_unconfigured_trigger_does_not_start() {
    let p = Project::new();
    p.file(
        "w.yaml",
        r#"name: w
vars:
  prometheus_url: ~
stages:
  - { name: canary }
sections:
  - name: Triggers
    stages: [canary]
    items:
      - id: error-rate
        title: Error rate under 1 %
        for: 1s
        check: { prometheus: { url: "${prometheus_url}", query: "vector(0)", expect: "< 0.01" } }
"#,
    );
    let ran = run(p.cmd().args([
        "watch", "w.yaml", "--stage", "canary", "--for", "2s", "--every", "1s",
    ]));
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("variable `prometheus_url` is not set"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("w.yaml:13:37"), "{}", ran.stderr);
}
