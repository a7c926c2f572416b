//! Overrides without forking: `overrides:` per environment or target in prodcheck.yaml
//! (severity, thresholds, probe parameters) and a local checklist that `extends:` a shipped
//! one (add, remove, override) — with `show`/`docs` naming where each change came from and
//! diagnostics at file:line:col for names that match nothing.

use crate::support::*;

const TUNED: &str = r#"name: tuned
vars:
  dir: ~
sections:
  - name: S
    items:
      - id: noisy
        title: Fails on purpose
        check: { exec: { shell: "echo CRITICAL - noisy; exit 2" } }
      - id: command
        title: A command passes
        check: { exec: { shell: "exit 2" } }
      - id: backup
        title: The backup is big enough
        check: { file: { path: "${dir}/b.dump", min_size: 1KiB } }
"#;

/// Severity of `noisy`, the `min_size` threshold of `backup`, the `shell` of `command`.
const OVERRIDES: &str = r#"      noisy: { severity: warning }
      backup:
        check: { min_size: 10B }
      command:
        check: { shell: "echo OK - overridden" }
"#;

fn tuned_project(config: &str) -> Project {
    let p = Project::new();
    p.file("c.yaml", TUNED);
    p.file("data/b.dump", &"-".repeat(100));
    p.file("prodcheck.yaml", config);
    p
}

fn statuses(ran: &Ran) -> Vec<(String, String, String)> {
    json(ran)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap_or_default().to_string(),
                i["status"].as_str().unwrap_or_default().to_string(),
                i["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn an_environment_overrides_severity_a_threshold_and_a_check_parameter() {
    let config = format!(
        "environments:\n  plain:\n    vars: {{ dir: data }}\n  staging:\n    vars: {{ dir: data }}\n    overrides:\n{OVERRIDES}"
    );
    let p = tuned_project(&config);
    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--env", "plain", "--report", "json"]));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(
        statuses(&ran),
        owned(&[
            ("noisy", "fail", "critical"),
            ("command", "fail", "critical"),
            ("backup", "fail", "critical"),
        ])
    );
    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--env", "staging", "--report", "json"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(
        statuses(&ran),
        owned(&[
            ("noisy", "fail", "warning"),
            ("command", "pass", "critical"),
            ("backup", "pass", "critical"),
        ])
    );
    assert!(
        message(&json(&ran), "command").contains("overridden"),
        "{}",
        ran.stdout
    );

    // `show` and `docs` display the effective checklist and where each change came from.
    let ran = run(p
        .cmd()
        .args(["show", "c.yaml", "--env", "staging", "--color", "never"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    for line in [
        "overridden: severity = warning ← prodcheck.yaml:7 (environment `staging`)",
        "overridden: check.min_size = 10B ← prodcheck.yaml:9 (environment `staging`)",
        "overridden: check.shell = echo OK - overridden ← prodcheck.yaml:11 (environment `staging`)",
    ] {
        assert!(
            ran.stdout.contains(line),
            "`{line}` missing:\n{}",
            ran.stdout
        );
    }
    assert!(
        ran.stdout.contains("noisy    exec  warning"),
        "{}",
        ran.stdout
    );
    let ran = run(p.cmd().args(["docs", "c.yaml", "--env", "staging"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains(
            "- Overridden: severity = warning ← prodcheck.yaml:7 (environment `staging`)"
        ),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("`min_size: 10B`"), "{}", ran.stdout);
}

#[test]
fn a_target_overrides_over_its_environment() {
    let config = format!(
        "environments:\n  staging:\n    vars: {{ dir: data }}\n    overrides:\n{OVERRIDES}targets:\n  api:\n    env: staging\n  strict:\n    env: staging\n    overrides:\n      noisy: {{ severity: critical }}\n  own:\n    vars: {{ dir: data }}\n    overrides:\n{}",
        OVERRIDES.replace("      ", "        ")
    );
    let p = tuned_project(&config);
    for (target, code, noisy) in [
        ("api", 0, "warning"),
        ("strict", 1, "critical"),
        ("own", 0, "warning"),
    ] {
        let ran = run(p
            .cmd()
            .args(["run", "c.yaml", "--target", target, "--report", "json"]));
        assert_eq!(ran.code, code, "{target}: {}{}", ran.stdout, ran.stderr);
        let report = json(&ran);
        assert_eq!(item(&report, "noisy")["severity"], noisy, "{target}");
        assert_eq!(item(&report, "backup")["status"], "pass", "{target}");
        assert_eq!(item(&report, "command")["status"], "pass", "{target}");
    }
    let ran = run(p
        .cmd()
        .args(["show", "c.yaml", "--target", "strict", "--color", "never"]));
    assert!(
        ran.stdout
            .contains("overridden: severity = critical ← prodcheck.yaml:16 (target `strict`)"),
        "{}",
        ran.stdout
    );
}

#[test]
fn overrides_naming_unknown_items_or_parameters_are_diagnostics_in_prodcheck_yaml() {
    let config = "environments:\n  staging:\n    vars: { dir: data }\n    overrides:\n      nosiy: { severity: warning }\n      backup: { check: { min_sise: 10B } }\n      command: { severity: sever }\n      tls-certificate: { severity: warning }\n";
    let p = tuned_project(config);
    let ran = run(p.cmd().args(["run", "c.yaml", "--env", "staging"]));
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    let expect = [
        (
            "prodcheck.yaml:5:7",
            "environment `staging`: `overrides`: no item `nosiy` in any checklist",
            "did you mean `noisy`?",
        ),
        (
            "prodcheck.yaml:6:26",
            "override of `backup`: the `file` probe has no parameter `min_sise`",
            "did you mean `min_size`?",
        ),
        ("prodcheck.yaml:7:28", "unknown value `sever`", "critical"),
    ];
    for (at, message, hint) in expect {
        assert!(ran.stderr.contains(at), "`{at}` missing:\n{}", ran.stderr);
        assert!(ran.stderr.contains(message), "`{message}`:\n{}", ran.stderr);
        assert!(ran.stderr.contains(hint), "`{hint}`:\n{}", ran.stderr);
    }
    // `tls-certificate` is an item of a shipped checklist: not a typo, not an error here.
    assert!(!ran.stderr.contains("tls-certificate"), "{}", ran.stderr);
    assert!(ran.stderr.contains("3 problems found"), "{}", ran.stderr);
    // `validate` checks every environment's overrides too, each problem once.
    let ran = run(p.cmd().args(["validate"]));
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(
        ran.stderr.matches("no item `nosiy`").count(),
        1,
        "{}",
        ran.stderr
    );
}

/// A local `checklists/pre-deploy.yaml` that extends the shipped one: two items removed, one
/// overridden, two added; every other item (and any later fix to it) comes from the shipped
/// checklist itself.
const EXTENDS: &str = r#"name: pre-deploy
extends: pre-deploy
remove: [websocket-echo, bundle-size]
overrides:
  security-headers:
    severity: warning
    check: { min_grade: C }
sections:
  - name: Security
    items:
      - id: our-header
        title: Our own header check
        check: { exec: { shell: "echo OK - header" } }
  - name: Ours
    items:
      - id: ours-signed
        title: Our release form is signed
        manual: { how: Look at the form. }
"#;

#[test]
fn a_local_checklist_extends_the_shipped_one() {
    let p = Project::new();
    p.file("checklists/pre-deploy.yaml", EXTENDS);
    let shipped_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/checklists/pre-deploy.yaml"
    ))
    .expect("shipped");
    let shipped = prodcheck::checklist::node::parse(&shipped_text).expect("yaml");
    let shipped_items: Vec<(String, String)> = match shipped.get("sections").map(|s| &s.value) {
        Some(prodcheck::checklist::node::Value::Seq(sections)) => sections
            .iter()
            .filter_map(|s| match s.get("items").map(|i| &i.value) {
                Some(prodcheck::checklist::node::Value::Seq(items)) => Some(items),
                _ => None,
            })
            .flatten()
            .filter_map(|i| Some((i.get("id")?.scalar_text()?, i.get("title")?.scalar_text()?)))
            .collect(),
        _ => Vec::new(),
    };
    assert!(shipped_items.len() > 50, "{}", shipped_items.len());

    let ran = run(p.cmd().args(["show", "pre-deploy", "--color", "never"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let out = &ran.stdout;
    assert!(out.contains("checklists/pre-deploy.yaml"), "{out}");
    assert!(
        out.contains("extends `pre-deploy` (builtin:pre-deploy): its later changes apply"),
        "{out}"
    );
    assert!(
        out.contains("removes `websocket-echo` (checklists/pre-deploy.yaml:3)"),
        "{out}"
    );
    assert!(
        out.contains("overridden: severity = warning ← checklists/pre-deploy.yaml:6"),
        "{out}"
    );
    assert!(
        out.contains("overridden: check.min_grade = C ← checklists/pre-deploy.yaml:7"),
        "{out}"
    );
    // Every shipped item but the two removed, with the shipped title; the two added.
    for (id, title) in &shipped_items {
        let listed = out
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{id} ")));
        if id == "websocket-echo" || id == "bundle-size" {
            assert!(!listed, "`{id}` was removed:\n{out}");
        } else {
            assert!(
                listed && out.contains(title.as_str()),
                "`{id}` ({title}) missing"
            );
        }
    }
    assert!(
        out.contains("our-header") && out.contains("ours-signed"),
        "{out}"
    );
    assert!(out.contains("\nOurs\n"), "a new section: {out}");
    let security = out.split("\nSecurity\n").nth(1).unwrap_or_default();
    let security = security.split("\n\n").next().unwrap_or_default();
    assert!(
        security.contains("our-header"),
        "joins the base's section: {security}"
    );

    // It runs: the added item passes, the overridden one (unconfigured: no base_url) carries
    // its new severity, so an automated run of both does not gate.
    let ran = run(p.cmd().args([
        "run",
        "pre-deploy",
        "--automated",
        "--only",
        "our-header",
        "--only",
        "security-headers",
        "--report",
        "json",
    ]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(item(&report, "our-header")["status"], "pass");
    assert_eq!(item(&report, "security-headers")["status"], "unconfigured");
    assert_eq!(item(&report, "security-headers")["severity"], "warning");
    assert_eq!(report["file"], "checklists/pre-deploy.yaml");
    let ran = run(p.cmd().args(["validate"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("ok checklists/pre-deploy.yaml"),
        "{}",
        ran.stdout
    );
    // prodcheck.yaml may still name the shipped items the local file replaces or removes:
    // they are items of a known checklist, not typos.
    p.file(
        "prodcheck.yaml",
        "environments:\n  staging:\n    not_applicable: { websocket-echo: none here }\n    overrides: { tls-certificate: { severity: warning } }\n",
    );
    let ran = run(p.cmd().args(["validate"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let ran = run(p.cmd().args(["validate", "--env", "staging"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);

    // Reports locate a base item at the `extends:` line of this file, an added one at its own.
    let ran = run(p.cmd().args([
        "run",
        "pre-deploy",
        "--automated",
        "--only",
        "our-header",
        "--only",
        "security-headers",
        "--report",
        "github",
    ]));
    assert!(
        ran.stdout.contains(
            "file=checklists/pre-deploy.yaml,line=2,title=prodcheck pre-deploy%3A security-headers"
        ),
        "{}",
        ran.stdout
    );
    let ran = run(p.cmd().args([
        "run",
        "pre-deploy",
        "--only",
        "our-header",
        "--report",
        "sarif",
    ]));
    assert!(ran.stdout.contains(r#""startLine": 11"#), "{}", ran.stdout);

    // --strict-vars names the base's line for a variable the base's item needs.
    let ran = run(p.cmd().args([
        "run",
        "pre-deploy",
        "--strict-vars",
        "--only",
        "tls-certificate",
    ]));
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    let line = shipped_text
        .lines()
        .position(|l| l.contains("tls: { host: \"${host}\""))
        .expect("the shipped tls item")
        + 1;
    assert!(
        ran.stderr.contains(&format!("builtin:pre-deploy:{line}:")),
        "{}",
        ran.stderr
    );

    // A variable of the base can be given in the local file.
    p.file(
        "checklists/pre-deploy.yaml",
        &EXTENDS.replace("remove:", "vars:\n  base_url: https://127.0.0.1:9\nremove:"),
    );
    let ran = run(p.cmd().args([
        "run",
        "pre-deploy",
        "--automated",
        "--only",
        "security-headers",
        "--report",
        "json",
    ]));
    let it = item(&json(&ran), "security-headers").clone();
    assert_ne!(it["status"], "unconfigured", "{it}");
}

#[test]
fn extends_diagnostics_point_into_the_local_file() {
    let p = Project::new();
    let cases = [
        (
            "name: mine\nextends: pre-deplyo\n",
            "mine.yaml:2:10",
            "unknown base checklist `pre-deplyo`",
            "did you mean `pre-deploy`?",
        ),
        (
            "name: mine\nextends: pre-deploy\nremove: [tls-certificat]\n",
            "mine.yaml:3:10",
            "`remove`: no item `tls-certificat` in `pre-deploy`",
            "did you mean `tls-certificate`?",
        ),
        (
            "name: mine\nextends: pre-deploy\noverrides:\n  tls-certificate:\n    check: { warn_dayz: 10 }\n",
            "mine.yaml:5:14",
            "the `tls` probe has no parameter `warn_dayz`",
            "did you mean `warn_days`?",
        ),
        (
            "name: mine\nextends: pre-deploy\noverrides:\n  tls-certificate:\n    severty: warning\n",
            "mine.yaml:5:5",
            "unknown field `severty`",
            "severity",
        ),
    ];
    for (text, at, message, hint) in cases {
        p.file("mine.yaml", text);
        let ran = run(p.cmd().args(["validate", "mine.yaml"]));
        assert_eq!(ran.code, 2, "{text}: {}{}", ran.stdout, ran.stderr);
        assert!(ran.stderr.contains(at), "{text}: `{at}`:\n{}", ran.stderr);
        assert!(ran.stderr.contains(message), "{text}:\n{}", ran.stderr);
        assert!(ran.stderr.contains(hint), "{text}:\n{}", ran.stderr);
    }
}
