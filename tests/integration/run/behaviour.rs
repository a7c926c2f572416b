//! Runner behaviour through the CLI: exit codes, manual items, selection, secrets, JSON fields.

use axum::Router;
use axum::routing::get;

use crate::support::*;

fn app() -> Router {
    Router::new().route("/ok", get(|| async { "ok" })).route(
        "/echo-auth",
        get(|headers: axum::http::HeaderMap| async move {
            // Echoes the credential back, as a careless service might: it must still be redacted.
            format!(
                "auth was {}",
                headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
            )
        }),
    )
}

fn checklist(items: &str) -> String {
    Checklist::new("t")
        .title("Test list")
        .section("Main")
        .raw_items(items)
        .build()
}

fn http_item(id: &str, url: &str, extra: &str) -> String {
    format!(
        "      - id: {id}\n        title: {id} title\n        timeout: 2s\n{extra}        check: {{ http: {{ url: \"{url}\" }} }}\n"
    )
}

fn manual_item(id: &str, extra: &str) -> String {
    format!(
        "      - id: {id}\n        title: {id} title\n{extra}        manual: {{ how: Look at it. }}\n"
    )
}

#[test]
fn every_exit_code_is_reachable() {
    let server = AppServer::start(app());
    let ok = server.url("/ok");
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let p = Project::new();
    let cases: [(&str, String, i32); 5] = [
        ("pass", checklist(&http_item("a", &ok, "")), 0),
        (
            "fail",
            checklist(&(http_item("a", &ok, "") + &http_item("b", &refused, ""))),
            1,
        ),
        ("usage", "name: t\nsections: 3\n".to_string(), 2),
        (
            "error",
            checklist(&format!(
                "      - id: e\n        title: E\n        check: {{ http: {{ url: \"{ok}\", ca_file: /nonexistent/ca.pem }} }}\n"
            )),
            3,
        ),
        (
            "pending",
            checklist(&(http_item("a", &ok, "") + &manual_item("m", ""))),
            4,
        ),
    ];
    for (name, text, code) in cases {
        let file = p.file(&format!("{name}.yaml"), &text);
        let ran = run(p.cmd().args(["run", file.to_str().unwrap_or_default()]));
        assert_code!(ran, code, "case {name}");
    }

    // 5: the run finished but its report cannot be written. A passing gate must not pass
    // without its evidence; a failed gate keeps 1 (the decision stands).
    p.file("blocker", "a file where the report's directory should be");
    for (name, code) in [("pass", 5), ("fail", 1)] {
        let ran = run(p.cmd().args([
            "run",
            &format!("{name}.yaml"),
            "--report",
            "json=blocker/report.json",
        ]));
        assert_code!(ran, code, "case {name}");
        assert!(
            ran.stderr.contains("cannot create `blocker`")
                && ran.stderr.contains(&format!(
                    "the run itself ended with exit code {}",
                    if name == "pass" { 0 } else { 1 }
                )),
            "{}",
            ran.stderr
        );
    }
}

#[test]
fn precedence_fail_beats_error_beats_pending() {
    let server = AppServer::start(app());
    let ok = server.url("/ok");
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let err = format!(
        "      - id: e\n        title: E\n        check: {{ http: {{ url: \"{ok}\", ca_file: /nonexistent/ca.pem }} }}\n"
    );
    let p = Project::new();
    let all = p.file(
        "all.yaml",
        &checklist(&(manual_item("m", "") + &err + &http_item("f", &refused, ""))),
    );
    assert_eq!(
        run(p.cmd().args(["run", all.to_str().unwrap_or_default()])).code,
        1
    );
    let no_fail = p.file("nf.yaml", &checklist(&(manual_item("m", "") + &err)));
    assert_eq!(
        run(p.cmd().args(["run", no_fail.to_str().unwrap_or_default()])).code,
        3
    );
}

#[test]
fn non_gating_severities_do_not_change_the_exit_code_unless_fail_on_warning() {
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &checklist(
            &(http_item("w", &refused, "        severity: warning\n")
                + &http_item("i", &refused, "        severity: info\n")),
        ),
    );
    p.case()
        .args(["run", file.to_str().unwrap_or_default()])
        .stdout_has("(non-gating)")
        .run();
    assert_eq!(
        run(p.cmd().args([
            "run",
            file.to_str().unwrap_or_default(),
            "--fail-on",
            "warning"
        ]))
        .code,
        1
    );
}

#[test]
fn manual_items_are_pending_unless_confirmed() {
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &checklist(
            &(manual_item("docs", "") + &manual_item("runbook", "        severity: warning\n")),
        ),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 4);
    let report = json(&ran);
    assert_status(&report, "docs", "pending");
    assert!(
        item(&report, "docs")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("--confirm docs")
    );
    assert_eq!(item(&report, "docs")["kind"], "manual");
    assert_eq!(item(&report, "docs")["evidence"]["how"], "Look at it.");

    let ran = run(p.cmd().args([
        "run",
        file.to_str().unwrap_or_default(),
        "--confirm",
        "docs",
        "--report",
        "json",
    ]));
    assert_code!(ran, 0, "the warning-severity pending item does not gate");
    assert_eq!(item(&json(&ran), "docs")["status"], "confirmed");

    p.case()
        .args([
            "run",
            file.to_str().unwrap_or_default(),
            "--confirm",
            "dosc",
        ])
        .code(2)
        .stderr_has("--confirm `dosc`: no item id `dosc`")
        .run();
}

#[test]
fn only_and_skip_select_by_id_and_tag() {
    let server = AppServer::start(app());
    let ok = server.url("/ok");
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &checklist(
            &(http_item("good", &ok, "        tags: [fast]\n")
                + &http_item("bad", &refused, "        tags: [slow]\n")),
        ),
    );
    let path = file.to_str().unwrap_or_default();
    let ran = p
        .case()
        .args(["run", path, "--only", "fast", "--report", "json"])
        .run();
    let report = json(&ran);
    assert_status(&report, "bad", "skip");
    assert_status(&report, "good", "pass");
    assert_eq!(run(p.cmd().args(["run", path, "--skip", "bad"])).code, 0);
    assert_eq!(run(p.cmd().args(["run", path, "--only", "nope"])).code, 2);
}

#[test]
fn json_report_has_the_documented_fields() {
    let server = AppServer::start(app());
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &checklist(&(http_item("a", &server.url("/ok"), "") + &manual_item("m", ""))),
    );
    let out = p.path().join("out/report.json");
    let ran = p
        .case()
        .args([
            "run",
            file.to_str().unwrap_or_default(),
            "--report",
            &format!("json={}", out.display()),
        ])
        .code(4)
        .run();
    assert!(
        ran.stdout.contains("Summary:"),
        "human report still goes to stdout: {}",
        ran.stdout
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("report written"))
            .expect("JSON");
    for field in [
        "schema_version",
        "checklist",
        "started_at",
        "duration_ms",
        "exit_code",
        "summary",
        "items",
    ] {
        assert!(report.get(field).is_some(), "missing `{field}` in {report}");
    }
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["checklist"], "t");
    assert_eq!(report["exit_code"], 4);
    assert_eq!(report["summary"]["pass"], 1);
    assert_eq!(report["summary"]["pending"], 1);
    assert_eq!(report["summary"]["fail"], 0);
    let started = report["started_at"].as_str().unwrap_or_default();
    assert!(
        started.len() == 20 && started.ends_with('Z') && started.contains('T'),
        "{started}"
    );
    let it = item(&report, "a");
    for field in [
        "id",
        "title",
        "section",
        "severity",
        "kind",
        "status",
        "message",
        "evidence",
        "duration_ms",
        "attempts",
        "flaky",
    ] {
        assert!(it.get(field).is_some(), "item lacks `{field}`: {it}");
    }
    assert_eq!(it["section"], "Main");
    assert_eq!(it["severity"], "critical");
    assert_eq!(it["kind"], "http");
    assert_eq!(it["attempts"], 1);
    assert_eq!(it["flaky"], false);
}

#[test]
fn env_secrets_never_appear_in_human_or_json_output() {
    let server = AppServer::start(app());
    let canary = "canary-7f3e9a1b-secret";
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &format!(
            "name: t\nsections:\n  - name: Main\n    items:\n      - id: echo\n        title: Echo ${{env:PRODCHECK_TEST_TOKEN}}\n        check:\n          http:\n            url: \"{}?token=${{env:PRODCHECK_TEST_TOKEN}}\"\n            headers: {{ Authorization: \"Bearer ${{env:PRODCHECK_TEST_TOKEN}}\" }}\n            expect: {{ body_contains: nothing-like-this }}\n",
            server.url("/echo-auth")
        ),
    );
    let json_out = p.path().join("r.json");
    let ran = p
        .case()
        .env("PRODCHECK_TEST_TOKEN", canary)
        .args([
            "run",
            file.to_str().unwrap_or_default(),
            "--report",
            &format!("json={}", json_out.display()),
        ])
        .code(1)
        .run();
    let json_text = std::fs::read_to_string(&json_out).expect("json");
    for (what, text) in [
        ("stdout", &ran.stdout),
        ("stderr", &ran.stderr),
        ("json", &json_text),
    ] {
        assert!(!text.contains(canary), "secret leaked in {what}:\n{text}");
    }
    assert!(
        json_text.contains("auth was Bearer ***"),
        "the echoed body is redacted, not dropped: {json_text}"
    );
    assert!(ran.stdout.contains("token=***"), "{}", ran.stdout);
}

#[test]
fn results_come_back_in_checklist_order() {
    let server = AppServer::start(app());
    let ok = server.url("/ok");
    let p = Project::new();
    let items: String = (0..30)
        .map(|i| http_item(&format!("item-{i}"), &ok, ""))
        .collect();
    let file = p.file("c.yaml", &checklist(&items));
    let ran = p
        .case()
        .args([
            "run",
            file.to_str().unwrap_or_default(),
            "--report",
            "json",
            "--concurrency",
            "8",
        ])
        .run();
    let ids: Vec<String> = json(&ran)["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<String> = (0..30).map(|i| format!("item-{i}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn retries_mark_a_late_pass_as_flaky() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = Router::new().route(
        "/flaky",
        get(move || {
            let n = h.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    (axum::http::StatusCode::BAD_GATEWAY, "warming up")
                } else {
                    (axum::http::StatusCode::OK, "ok")
                }
            }
        }),
    );
    let server = AppServer::start(app);
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &checklist(&http_item(
            "f",
            &server.url("/flaky"),
            "        retries: 2\n        retry_delay: 700ms\n",
        )),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 0);
    let it = item(&json(&ran), "f").clone();
    assert_eq!(it["attempts"], 2);
    assert_eq!(it["flaky"], true);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // The second attempt came after the item's `retry_delay`, not at once.
    assert!(it["duration_ms"].as_u64().unwrap_or(0) >= 700, "{it}");
}

#[test]
fn ctrl_c_prints_the_partial_report_and_exits_130() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let server = AppServer::start(app());
    let silent = RawServer::silent();
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &checklist(&(http_item("quick", &server.url("/ok"), "")
            + &format!("      - id: slow\n        title: slow\n        timeout: 60s\n        check: {{ http: {{ url: \"{}\" }} }}\n", silent.url("/")))),
    );
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("prodcheck"))
        .current_dir(p.path())
        .args(["run", file.to_str().unwrap_or_default(), "--report", "json"])
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn prodcheck");
    // Wait until the slow item is in flight (the silent server accepted its connection).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while silent.accepted.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow probe never connected"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let code = child.wait().expect("wait").code();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read");
    assert_eq!(code, Some(130), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a partial JSON report");
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["exit_code"], 130);
    assert_status(&report, "quick", "pass");
    assert_status(&report, "slow", "skip");
    assert_eq!(item(&report, "slow")["message"], "interrupted");
    // State is written too: the interrupted run is in the history.
    let history = std::fs::read_to_string(p.path().join(".prodcheck/history/t.jsonl"))
        .expect("history written");
    let last: serde_json::Value =
        serde_json::from_str(history.lines().last().unwrap_or_default()).expect("a JSON line");
    assert_eq!(last["interrupted"], true);
    assert_eq!(last["exit_code"], 130);
}

/// `--var` values are text: an IPv6 literal in brackets stays an address (it used to be read
/// as a YAML list and stop the run), a number stays usable in text; a variable the checklist
/// declares as a list still takes flow syntax.
#[test]
fn var_values_are_text_unless_the_variable_is_a_list() {
    let server = AppServer::start(app());
    let port = server
        .url("/")
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
        .expect("port");
    let p = Project::new();
    p.file(
        "c.yaml",
        "name: t\nvars: { host: example.invalid, port: 1, paths: [/nope] }\nsections:\n  - name: Main\n    items:\n      - id: ok\n        title: ok\n        timeout: 2s\n        check: { http: { url: \"http://${host}:${port}/ok\" } }\n      - id: auth\n        title: auth\n        timeout: 2s\n        check: { auth: { urls: \"${paths}\" } }\n",
    );
    let ran = run(p.cmd().args([
        "run",
        "c.yaml",
        "--var",
        "host=[::1]",
        "--var",
        &format!("port={port}"),
        "--var",
        &format!("paths=[http://127.0.0.1:{port}/ok]"),
        "--report",
        "json",
    ]));
    assert_ne!(ran.code, 2, "{}", ran.stderr);
    let report = json(&ran);
    let ok = item(&report, "ok");
    assert!(
        ok["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("http://[::1]:{port}/ok")),
        "{ok}"
    );
    // The list variable became a list of one URL: the auth item judged it.
    let auth = item(&report, "auth");
    assert!(
        auth["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("127.0.0.1:{port}/ok")),
        "{auth}"
    );
}

/// `--automated` leaves manual items out, so a pipeline step gets 0 or 1, never a 4 (pending)
/// it did not ask for; the same run without it is pending.
#[test]
fn automated_runs_leave_manual_items_out() {
    let server = AppServer::start(app());
    let ok = server.url("/ok");
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &checklist(&(http_item("a", &ok, "") + &manual_item("m", ""))),
    );
    let path = file.to_str().unwrap_or_default();
    assert_eq!(run(p.cmd().args(["run", path])).code, 4);
    let ran = p
        .case()
        .args(["run", path, "--automated", "--report", "json"])
        .run();
    let m = item(&json(&ran), "m").clone();
    assert_eq!(m["status"], "skip", "{m}");
    assert_eq!(m["message"], "manual item left out (--automated)", "{m}");
}
