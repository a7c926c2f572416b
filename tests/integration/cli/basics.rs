//! Commands other than `run`, colour handling and usage errors.

use crate::support::*;

const ESC: &str = "\u{1b}[";

#[test]
fn no_color_and_non_terminal_output_have_no_escape_codes() {
    let p = Project::new();
    let list = Checklist::new("t").item(Item::manual("m", "{ how: x }").title("M"));
    let file = p.file("c.yaml", &list.build());
    let path = file.to_str().unwrap_or_default();
    let ran = run(p.cmd().args(["run", path]));
    assert!(
        !ran.stdout.contains(ESC) && !ran.stderr.contains(ESC),
        "piped output is plain: {:?}",
        ran.stdout
    );
    let ran = run(p
        .cmd()
        .env("NO_COLOR", "1")
        .args(["run", path, "--color", "auto"]));
    assert!(!ran.stdout.contains(ESC));
    let ran = run(p.cmd().args(["run", path, "--color", "always"]));
    assert!(
        ran.stdout.contains(ESC),
        "--color always forces colour: {:?}",
        ran.stdout
    );
    let ran = run(p
        .cmd()
        .env("NO_COLOR", "1")
        .args(["run", path, "--color", "never"]));
    assert!(!ran.stdout.contains(ESC));
}

#[test]
fn list_and_show_describe_the_shipped_checklists() {
    ["pre-deploy", "deploy", "post-deploy", "maintenance"]
        .iter()
        .fold(Case::new().args(["list"]), |case, name| {
            case.stdout_has(name)
        })
        .run();
    Case::new()
        .args(["show", "pre-deploy"])
        .stdout_has("health-endpoint")
        .stdout_has("http")
        .stdout_has("critical")
        .run();
}

#[test]
fn a_local_checklist_overrides_the_shipped_one() {
    let p = Project::new();
    let list = Checklist::new("pre-deploy")
        .title("Local override")
        .item(Item::manual("local-only", "{ how: x }").title("L"));
    p.file("checklists/pre-deploy.yaml", &list.build());
    let ran = run(p.cmd().arg("list"));
    assert!(
        ran.stdout.contains("checklists/pre-deploy.yaml"),
        "{}",
        ran.stdout
    );
    let ran = p
        .case()
        .args(["run", "pre-deploy", "--confirm", "local-only"])
        .run();
    assert!(ran.stdout.contains("local-only"));
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["run", "pre-deploy", "--var", "novalue"],
            "is not KEY=VALUE",
        ),
        (
            &["run", "pre-deploy", "--report", "xml"],
            "unknown report format `xml`",
        ),
        (&["run", "pre-deploy", "--report", "json="], "names no file"),
        (
            &["run", "no-such-list"],
            "no checklist named `no-such-list`",
        ),
        (
            &["run", "pre-deploy", "--env", "prod"],
            "unknown environment `prod`",
        ),
        (&["probe", "htp", "url=x"], "did you mean `http`"),
    ];
    for (args, expected) in cases {
        Case::new().args(args).code(2).stderr_has(expected).run();
    }
}

#[test]
fn environments_and_vars_override_checklist_defaults() {
    let p = Project::new();
    p.file(
        "prodcheck.yaml",
        "environments:\n  staging:\n    vars: { who: staging-team }\n",
    );
    let file = p.file("c.yaml", "name: t\nvars: { who: nobody }\nsections:\n  - name: S\n    items:\n      - id: m\n        title: Ask ${who}\n        manual: { how: x }\n");
    let path = file.to_str().unwrap_or_default();
    assert!(
        run(p.cmd().args(["run", path, "-v"]))
            .stdout
            .contains("Ask nobody")
    );
    assert!(
        run(p.cmd().args(["run", path, "--env", "staging", "-v"]))
            .stdout
            .contains("Ask staging-team")
    );
    assert!(
        run(p
            .cmd()
            .args(["run", path, "--env", "staging", "--var", "who=cli", "-v"]))
        .stdout
        .contains("Ask cli")
    );
}

#[test]
fn schema_is_json_and_covers_probe_kinds() {
    let ran = run(prodcheck().arg("schema"));
    assert_code!(ran, 0);
    let schema: serde_json::Value = serde_json::from_str(&ran.stdout).expect("schema is JSON");
    let text = schema.to_string();
    assert!(
        text.contains("\"http\"") && text.contains("max_redirects"),
        "{text}"
    );
}

#[test]
fn demo_runs_pre_deploy_against_a_local_service() {
    let ran = run(prodcheck().arg("demo"));
    assert_code!(ran, 0);
    let out = &ran.stdout;
    assert!(
        out.contains("pre-deploy") && out.contains("Point prodcheck at your service"),
        "{out}"
    );
    // Every automated kind gives a real verdict: nothing is `error`.
    assert!(!out.contains("! ERROR"), "{out}");
    // The deliberate flaws, and what the service gets right.
    for (status, id) in [
        ("FAIL", "cors-policy"),
        ("WARN", "tls-certificate"),
        ("PASS", "health-endpoint"),
        ("PASS", "rate-limiting"),
        ("PASS", "security-headers"),
        ("PASS", "https-redirect"),
        ("PASS", "auth-required"),
        ("PASS", "domain-caa"),
        ("PASS", "websocket-echo"),
        ("PASS", "fresh-backup"),
        ("PASS", "cdn-config"),
        ("PENDING", "rollback-plan"),
    ] {
        // At default verbosity a pass is folded into its section's "N passed: ids" line (cut
        // to the width) and a pending item into the pending block; other statuses have a line.
        let lines: Vec<&str> = out.lines().filter(|l| l.contains(id)).collect();
        match status {
            "PASS" => assert!(
                lines
                    .iter()
                    .all(|l| !l.contains("FAIL") && !l.contains("WARN") && !l.contains("ERROR")),
                "`{id}` should pass: {lines:?}"
            ),
            "PENDING" => assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("  ") && !l.contains('[')),
                "`{id}` should be in the pending block:\n{out}"
            ),
            other => assert!(
                lines.iter().any(|l| l.contains(other)),
                "`{id}` should be {other}: {lines:?}\n{out}"
            ),
        }
    }
    assert!(out.contains("25 pass"), "{out}");
    assert!(out.contains("exit 1: a gating item failed"), "{out}");
    let strict = run(prodcheck().args(["demo", "--strict"]));
    assert_code!(strict, 1, "--strict passes the run's exit code through");
}

#[test]
fn init_writes_a_usable_config_and_refuses_to_overwrite() {
    let p = Project::new();
    p.case().arg("init").run();
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("written");
    assert!(
        text.contains("staging:") && text.contains("production:") && text.contains("base_url"),
        "{text}"
    );
    // The written file is accepted as configuration.
    p.case()
        .args([
            "run",
            "pre-deploy",
            "--env",
            "staging",
            "--only",
            "rollback-plan",
        ])
        .code(4)
        .run();
    p.case()
        .arg("init")
        .code(2)
        .stderr_has("already exists")
        .run();
    assert_eq!(
        std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("still there"),
        text
    );
}
