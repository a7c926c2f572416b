//! Sign-offs, waivers, history and due lists through the CLI: what `.prodcheck/` records and
//! how the next run counts it, including concurrent runs that must not lose history lines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::routing::get;

use crate::support::*;

fn checklist(name: &str, items: &str) -> String {
    Checklist::new(name)
        .section("Main")
        .raw_items(items)
        .build()
}

fn manual(id: &str, every: &str) -> String {
    format!(
        "      - id: {id}\n        title: {id} title\n        manual: {{ how: Look at it.{every} }}\n"
    )
}

fn http(id: &str, url: &str) -> String {
    format!(
        "      - id: {id}\n        title: {id} title\n        timeout: 2s\n        check: {{ http: {{ url: \"{url}\" }} }}\n"
    )
}

fn history_lines(p: &Project, name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(p.path().join(format!(".prodcheck/history/{name}.jsonl")))
        .unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad history line ({e}): {l}")))
        .collect()
}

#[test]
fn a_signoff_counts_in_a_later_non_interactive_run() {
    let p = Project::new();
    p.file("c.yaml", &checklist("s", &manual("docs", ", every: 30d")));
    p.case()
        .args([
            "signoff", "c.yaml", "docs", "--by", "Ada", "--note", "read v2",
        ])
        .stdout_has("valid until")
        .run();
    let yaml = std::fs::read_to_string(p.path().join(".prodcheck/signoffs.yaml")).expect("written");
    assert!(
        yaml.contains("by: Ada") && yaml.contains("until:"),
        "{yaml}"
    );

    let ran = p.case().args(["run", "c.yaml", "--report", "json"]).run();
    let docs = item(&json(&ran), "docs").clone();
    assert_eq!(docs["status"], "confirmed");
    let msg = docs["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("confirmed by Ada until 20") && msg.ends_with(": read v2"),
        "{msg}"
    );

    p.case()
        .args(["signoff", "c.yaml", "nope"])
        .code(2)
        .stderr_has("no item `nope` in checklist `s`")
        .run();
}

#[test]
fn an_expired_signoff_leaves_the_item_pending() {
    let p = Project::new();
    p.file("c.yaml", &checklist("s", &manual("docs", ", every: 30d")));
    p.file(
        ".prodcheck/signoffs.yaml",
        "signoffs:\n  - checklist: s\n    item: docs\n    by: Ada\n    at: 2020-01-01T00:00:00Z\n    until: 2020-01-31T00:00:00Z\n",
    );
    let ran = p
        .case()
        .args(["run", "c.yaml", "--report", "json"])
        .code(4)
        .run();
    let docs = item(&json(&ran), "docs").clone();
    assert_eq!(docs["status"], "pending");
    assert!(
        docs["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("sign-off expired on 2020-01-31T00:00:00Z (by Ada)"),
        "{docs}"
    );
}

#[test]
fn a_signoff_without_cadence_covers_the_next_run_only() {
    let p = Project::new();
    p.file("c.yaml", &checklist("s", &manual("docs", "")));
    let ran = run(p.cmd().args(["signoff", "c.yaml", "docs", "--by", "Bo"]));
    assert!(ran.stdout.contains("next run only"), "{}", ran.stdout);
    p.case().args(["run", "c.yaml", "--report", "json"]).run();
    let second = p
        .case()
        .args(["run", "c.yaml", "--report", "json"])
        .code(4)
        .run();
    assert!(
        item(&json(&second), "docs")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("covered one run only"),
        "{}",
        second.stdout
    );
}

/// An expired waiver changes words, never the observed status: an `error` stays `error` (exit
/// 3) and a `pending` manual item stays `pending` (exit 4), as InSpec reports expired waivers.
#[test]
fn an_expired_waiver_reports_what_was_observed() {
    let p = Project::new();
    let unknown = "      - id: unknown\n        title: unknown title\n        check: { exec: { shell: \"echo 'UNKNOWN - cannot tell'; exit 3\" } }\n";
    p.file("e.yaml", &checklist("x", unknown));
    p.file("m.yaml", &checklist("x", &manual("docs", "")));
    let waivers = |item: &str| {
        format!(
            "waivers:\n  - checklist: x\n    item: {item}\n    by: Cy\n    at: 2020-01-01T00:00:00Z\n    until: 2020-06-30\n    reason: known gap\n"
        )
    };

    p.file(".prodcheck/waivers.yaml", &waivers("unknown"));
    let ran = run(p.cmd().args(["run", "e.yaml", "--report", "json"]));
    assert_code!(ran, 3, "an expired waiver keeps an error an error");
    let unknown = item(&json(&ran), "unknown").clone();
    assert_eq!(unknown["status"], "error", "{unknown}");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap_or_default()
            .contains("waiver by Cy expired on 2020-06-30"),
        "{unknown}"
    );
    let human = run(p.cmd().args(["run", "e.yaml"]));
    assert!(
        human.stdout.contains("expired waiver") && human.stdout.contains("unknown"),
        "the summary names expired waivers: {}",
        human.stdout
    );

    p.file(".prodcheck/waivers.yaml", &waivers("docs"));
    let ran = run(p
        .cmd()
        .args(["run", "m.yaml", "--non-interactive", "--report", "json"]));
    assert_code!(ran, 4, "an expired waiver keeps a pending item pending");
    let docs = item(&json(&ran), "docs").clone();
    assert_eq!(docs["status"], "pending", "{docs}");
    assert_eq!(docs["waiver"]["expired"], true, "{docs}");
}

#[test]
fn a_waiver_holds_until_its_date_then_the_item_fails() {
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let p = Project::new();
    p.file("c.yaml", &checklist("w", &http("down", &refused)));
    assert_eq!(run(p.cmd().args(["run", "c.yaml"])).code, 1);

    p.case()
        .args([
            "waive",
            "c.yaml",
            "down",
            "--reason",
            "vendor outage",
            "--until",
            "2999-12-31",
            "--by",
            "Cy",
        ])
        .run();
    let ran = run(p.cmd().args(["run", "c.yaml", "--report", "json"]));
    assert_code!(ran, 0, "an active waiver does not gate");
    let down = item(&json(&ran), "down").clone();
    assert_eq!(down["status"], "waived");
    assert!(
        down["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("waived by Cy until 2999-12-31: vendor outage (was fail: "),
        "{down}"
    );

    p.file(
        ".prodcheck/waivers.yaml",
        "waivers:\n  - checklist: w\n    item: down\n    by: Cy\n    at: 2020-01-01T00:00:00Z\n    until: 2020-06-30\n    reason: vendor outage\n",
    );
    let ran = p
        .case()
        .args(["run", "c.yaml", "--report", "json"])
        .code(1)
        .run();
    let down = item(&json(&ran), "down").clone();
    assert_eq!(down["status"], "fail");
    assert_eq!(down["observed_status"], "fail");
    let message = down["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("fail: "), "{down}");
    assert!(
        message.contains("waiver by Cy expired on 2020-06-30: vendor outage"),
        "{down}"
    );
    assert_eq!(down["waiver"]["expired"], true, "{down}");

    p.case()
        .args([
            "waive",
            "c.yaml",
            "down",
            "--reason",
            "x",
            "--until",
            "2020-01-01",
        ])
        .code(2)
        .stderr_has("is in the past")
        .run();
    p.case()
        .args([
            "waive", "c.yaml", "down", "--reason", "x", "--until", "soon",
        ])
        .code(2)
        .stderr_has("not a date like 2026-12-31")
        .run();
}

#[test]
fn a_broken_state_file_is_a_usage_error_naming_the_file() {
    let p = Project::new();
    p.file("c.yaml", &checklist("s", &manual("docs", "")));
    p.file(
        ".prodcheck/signoffs.yaml",
        "signoffs:\n  - checklist: s\n    when: yesterday\n",
    );
    p.case()
        .args(["run", "c.yaml"])
        .code(2)
        .stderr_has("signoffs.yaml` is not a valid state file")
        .stderr_has("help:")
        .run();
}

#[test]
fn history_records_each_run_and_reports_show_what_changed() {
    let flip = Arc::new(AtomicBool::new(false));
    let f = flip.clone();
    let app = Router::new()
        .route(
            "/a",
            get(move || {
                let broken = f.load(Ordering::SeqCst);
                async move {
                    if broken {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down")
                    } else {
                        (axum::http::StatusCode::OK, "ok")
                    }
                }
            }),
        )
        .route("/ok", get(|| async { "ok" }));
    let server = AppServer::start(app);
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let canary = "canary-91ab-history-secret";
    let p = Project::new();
    let items = http("a", &server.url("/a"))
        + &http("b", &refused)
        + &http(
            "c",
            &format!("{}?t=${{env:PRODCHECK_TEST_TOKEN}}", server.url("/ok")),
        );
    p.file("c.yaml", &checklist("h", &items));
    let runc = |p: &Project, extra: &[&str]| {
        let mut cmd = p.cmd();
        cmd.env("PRODCHECK_TEST_TOKEN", canary)
            .args(["run", "c.yaml"])
            .args(extra);
        run(&mut cmd)
    };

    let first = runc(&p, &[]);
    assert_code!(first, 1);
    assert!(
        !first.stdout.contains("Since the previous run"),
        "{}",
        first.stdout
    );

    // b gets fixed (now a different URL would be needed): instead a breaks, b keeps failing.
    flip.store(true, Ordering::SeqCst);
    let second = runc(&p, &[]);
    assert!(
        second.stdout.contains("Since the previous run"),
        "{}",
        second.stdout
    );
    assert!(
        second.stdout.contains("newly failing: a"),
        "{}",
        second.stdout
    );
    let history = history_lines(&p, "h");
    let first_started = history[0]["started_at"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        second
            .stdout
            .contains(&format!("still failing: b (since {first_started})")),
        "{}",
        second.stdout
    );

    flip.store(false, Ordering::SeqCst);
    let md = p.path().join("summary.md");
    let third = runc(&p, &["--report", &format!("markdown={}", md.display())]);
    assert!(third.stdout.contains("fixed: a"), "{}", third.stdout);
    let md = std::fs::read_to_string(md).expect("markdown");
    assert!(
        md.contains("<summary>Since the previous run") && md.contains("- fixed: a"),
        "{md}"
    );

    let history = history_lines(&p, "h");
    assert_eq!(history.len(), 3);
    let codes: Vec<i64> = history
        .iter()
        .map(|h| h["exit_code"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(codes, [1, 1, 1]);
    assert_eq!(history[1]["items"][0]["status"], "fail");
    assert_eq!(history[2]["items"][0]["status"], "pass");
    assert!(history[2]["items"][0]["duration_ms"].is_u64());
    let raw =
        std::fs::read_to_string(p.path().join(".prodcheck/history/h.jsonl")).expect("history");
    assert!(!raw.contains(canary), "secret leaked into history:\n{raw}");
    assert!(raw.contains("t=***"), "{raw}");

    let ran = p
        .case()
        .args(["history", "c.yaml"])
        .stdout_has("h: 3 run(s)")
        .run();
    assert_eq!(ran.stdout.matches("exit 1").count(), 3, "{}", ran.stdout);
}

#[test]
fn concurrent_runs_keep_every_history_record() {
    let server = AppServer::start(Router::new().route("/ok", get(|| async { "ok" })));
    let p = Arc::new(Project::new());
    // A generous timeout: six processes on a shared CI machine must not turn into errors.
    let items =
        http("i0", &server.url("/ok")).replace("timeout: 2s", "timeout: 30s") + &manual("m", "");
    p.file("c.yaml", &checklist("conc", &items));
    let runs: Vec<_> = (0..6)
        .map(|_| {
            let p = p.clone();
            std::thread::spawn(move || run(p.cmd().args(["run", "c.yaml"])))
        })
        .collect();
    for r in runs {
        let ran = r.join().expect("thread");
        assert_code!(ran, 4);
    }
    assert_eq!(history_lines(&p, "conc").len(), 6, "no run lost its record");
}

#[test]
fn due_lists_and_maintenance_runs_only_due_items() {
    let server = AppServer::start(Router::new().route("/ok", get(|| async { "ok" })));
    let p = Project::new();
    p.file(
        "checklists/maintenance.yaml",
        &checklist(
            "maintenance",
            &(http("health", &server.url("/ok")) + &manual("backups", ", every: 7d")),
        ),
    );
    p.case()
        .args(["due", "maintenance"])
        .stdout_has("2 of 2 item(s) due")
        .stdout_has("never passed or signed off (every 7days)")
        .run();

    p.case()
        .args(["run", "maintenance", "--confirm", "backups"])
        .run();
    let ran = run(p.cmd().args(["due", "maintenance"]));
    assert!(ran.stdout.contains("1 of 2 item(s) due"), "{}", ran.stdout);
    assert!(ran.stdout.contains("not due  backups"), "{}", ran.stdout);

    let ran = p
        .case()
        .args(["run", "maintenance", "--report", "json"])
        .run();
    let report = json(&ran);
    assert_status(&report, "health", "pass");
    assert_status(&report, "backups", "skip");
    assert!(
        item(&report, "backups")["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("not due until "),
        "{report}"
    );
    let ran = run(p
        .cmd()
        .args(["run", "maintenance", "--all", "--report", "json"]));
    assert_code!(ran, 4, "--all asks the manual item again");
    assert_eq!(item(&json(&ran), "backups")["status"], "pending");
}

#[test]
fn runs_killed_at_any_moment_leave_history_parseable() {
    let p = Project::new();
    p.file("c.yaml", &checklist("killed", &manual("m", "")));
    let bin = assert_cmd::cargo::cargo_bin("prodcheck");
    let mut finished = 0;
    for i in 0..24u64 {
        let mut child = std::process::Command::new(&bin)
            .current_dir(p.path())
            .env("CI", "true")
            .args(["run", "c.yaml"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start prodcheck");
        // Staggered SIGKILLs land before, during and after the history write.
        std::thread::sleep(std::time::Duration::from_millis(i * 4));
        let _ = child.kill();
        if child.wait().is_ok_and(|s| s.code().is_some()) {
            finished += 1;
        }
        let lines = history_lines(&p, "killed");
        assert!(lines.len() >= finished, "a finished run lost its record");
    }
}
