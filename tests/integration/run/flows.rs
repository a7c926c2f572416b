//! Flows end to end: a login captures a token that API items send; the API rejects calls
//! without it. Wrong credentials skip the API items naming the login; a capture that finds
//! nothing fails the login saying what it looked for; the token is redacted in every format.

use crate::support::*;

const TOKEN: &str = "tok-5e1d-captured-secret";
const FORMATS: [&str; 9] = [
    "json",
    "junit",
    "markdown",
    "sarif",
    "tap",
    "github",
    "prometheus",
    "human",
    "html",
];

/// A login (capturing the token from the body, the session header and the cookie) and the
/// items that use them; `capture` replaces the token's capture (a miss, say).
fn flow(base: &str, capture: &str) -> String {
    format!(
        r#"name: flows
sections:
  - name: Login
    items:
      - id: login
        title: The CI user logs in
        timeout: 3s
        check:
          http:
            url: "{base}/login"
            method: POST
            headers: {{ Content-Type: application/json }}
            body: '{{"user": "{LOGIN_USER}", "password": "${{env:LOGIN_PASSWORD}}"}}'
        capture:
          token: {capture}
          session: {{ header: X-Session }}
          sid: {{ cookie: sid }}
  - name: API
    items:
      - id: orders
        title: Orders answer with the token
        needs: [login]
        timeout: 3s
        check:
          http:
            url: "{base}/api/orders"
            headers: {{ Authorization: "Bearer ${{capture:token}}" }}
            expect: {{ status: 200, json: {{ /orders/0/id: 1 }} }}
      - id: orders-by-session
        title: Orders answer with the session header's value
        needs: [login]
        timeout: 3s
        check:
          http:
            url: "{base}/api/orders"
            headers: {{ Authorization: "Bearer ${{capture:session}}" }}
      - id: token-in-url
        title: The cookie's value in a URL (the message quotes it)
        needs: [login]
        severity: info
        timeout: 3s
        check: {{ http: {{ url: "{base}/api/orders?sid=${{capture:sid}}", expect: {{ status: 418 }} }} }}
      - id: orders-anonymous
        title: Orders refuse a call without the token
        timeout: 3s
        check: {{ http: {{ url: "{base}/api/orders", expect: {{ status: 401 }} }} }}
"#
    )
}

fn run_flow(p: &Project, password: &str, extra: &[&str]) -> Ran {
    run(p
        .cmd()
        .env("LOGIN_PASSWORD", password)
        .args(["run", "flows.yaml", "--report", "json"])
        .args(extra))
}

#[test]
fn a_login_hands_its_token_to_the_api_items_that_need_it() {
    let server = login_server(TOKEN);
    let p = Project::new();
    p.file("flows.yaml", &flow(&server.url(""), "{ json: /token }"));
    let ran = run_flow(&p, LOGIN_PASSWORD, &[]);
    assert_code!(ran, 0);
    let report = json(&ran);
    for id in ["login", "orders", "orders-by-session", "orders-anonymous"] {
        assert_eq!(item(&report, id)["status"], "pass", "{id}: {report:#}");
    }
    assert_eq!(
        item(&report, "login")["evidence"]["captures"]["token"],
        "captured (the JSON pointer `/token` in the body)"
    );
    // The informational item fails on purpose: its message quotes the URL, token redacted.
    let url_item = item(&report, "token-in-url");
    assert_eq!(url_item["status"], "fail", "{url_item:#}");
    let message = item_message(url_item);
    assert!(message.contains("/api/orders?sid=***"), "{message}");
    assert!(!ran.stdout.contains(TOKEN), "{}", ran.stdout);
}

#[test]
fn wrong_credentials_fail_the_login_and_skip_the_api_items_naming_it() {
    let server = login_server(TOKEN);
    let p = Project::new();
    p.file("flows.yaml", &flow(&server.url(""), "{ json: /token }"));
    let ran = run_flow(&p, "wrong-password", &[]);
    assert_code!(ran, 1);
    let report = json(&ran);
    let login = item(&report, "login");
    assert_eq!(login["status"], "fail", "{login:#}");
    assert!(
        item_message(login).contains("expected status 2xx, got 401"),
        "{login:#}"
    );
    for id in ["orders", "orders-by-session", "token-in-url"] {
        let it = item(&report, id);
        assert_eq!(it["status"], "skip", "{id}: {it:#}");
        assert_eq!(it["message"], "needs `login`, which failed", "{id}");
    }
    assert_eq!(item(&report, "orders-anonymous")["status"], "pass");
}

#[test]
fn a_capture_that_finds_nothing_fails_the_login_saying_what_it_looked_for() {
    let server = login_server(TOKEN);
    let p = Project::new();
    p.file(
        "flows.yaml",
        &flow(&server.url(""), "{ json: /access_token }"),
    );
    let ran = run_flow(&p, LOGIN_PASSWORD, &[]);
    assert_code!(ran, 1);
    let report = json(&ran);
    let login = item(&report, "login");
    assert_eq!(login["status"], "fail", "{login:#}");
    assert!(
        item_message(login).contains(
            "capture `token`: the JSON pointer `/access_token` in the body was not found"
        ),
        "{login:#}"
    );
    assert_eq!(item(&report, "orders")["status"], "skip");
    assert!(
        !ran.stdout.contains(TOKEN),
        "the other captures stay secret too"
    );
}

#[test]
fn the_token_never_appears_in_any_report_format_history_or_log() {
    let server = login_server(TOKEN);
    let p = Project::new();
    p.file("flows.yaml", &flow(&server.url(""), "{ json: /token }"));
    let mut cmd = p.cmd();
    cmd.env("LOGIN_PASSWORD", LOGIN_PASSWORD)
        .args(["run", "flows.yaml", "-vv"]);
    for f in FORMATS {
        cmd.args(["--report", &format!("{f}=reports/out.{f}")]);
    }
    let ran = run(&mut cmd);
    assert_code!(ran, 0);
    assert!(!ran.stdout.contains(TOKEN), "{}", ran.stdout);
    assert!(!ran.stderr.contains(TOKEN), "{}", ran.stderr);
    for f in FORMATS {
        let text = std::fs::read_to_string(p.path().join(format!("reports/out.{f}")))
            .unwrap_or_else(|e| panic!("no {f} report ({e})"));
        assert!(!text.contains(TOKEN), "token leaked into {f}:\n{text}");
        // The failing item's message quotes the URL: redacted, not dropped (the Prometheus
        // exposition carries no messages).
        if f != "prometheus" {
            assert!(
                text.contains("***"),
                "{f}: the quoted token is not redacted:\n{text}"
            );
        }
    }
    let mut history = 0;
    for entry in walk(&p.path().join(".prodcheck")) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap_or_default()).into_owned();
        assert!(
            !text.contains(TOKEN),
            "token leaked into {}",
            entry.display()
        );
        history += 1;
    }
    assert!(history > 0, "the run wrote its history");
}

/// A token with a quote and a backslash: a JSON body breaks unless it is escaped.
const QUOTED_TOKEN: &str = r#"tok-"q"\z-captured-secret"#;

#[test]
fn a_captured_value_goes_into_a_json_body_escaped_by_the_json_filter() {
    let server = login_server(QUOTED_TOKEN);
    let base = server.url("");
    let p = Project::new();
    p.file(
        "flows.yaml",
        &format!(
            r#"name: flows
sections:
  - name: Login
    items:
      - id: login
        title: The CI user logs in
        timeout: 3s
        check:
          http:
            url: "{base}/login"
            method: POST
            body: '{{"user": "{LOGIN_USER}", "password": "${{env:LOGIN_PASSWORD}}"}}'
        capture:
          token: {{ json: /token }}
  - name: API
    items:
      - id: escaped
        title: The token in a JSON body, through |json
        needs: [login]
        timeout: 3s
        check:
          http:
            url: "{base}/api/orders"
            method: POST
            headers: {{ Content-Type: application/json }}
            body: '{{"token": ${{capture:token|json}}}}'
      - id: pasted
        title: The token pasted between quotes breaks the body
        needs: [login]
        severity: info
        timeout: 3s
        check:
          http:
            url: "{base}/api/orders"
            method: POST
            headers: {{ Content-Type: application/json }}
            body: '{{"token": "${{capture:token}}"}}'
"#
        ),
    );
    let ran = run(p.cmd().env("LOGIN_PASSWORD", LOGIN_PASSWORD).args([
        "run",
        "flows.yaml",
        "-vv",
        "--report",
        "json",
    ]));
    let report = json(&ran);
    assert_eq!(item(&report, "login")["status"], "pass", "{report:#}");
    assert_eq!(item(&report, "escaped")["status"], "pass", "{report:#}");
    assert_eq!(item(&report, "pasted")["status"], "fail", "{report:#}");
    // Neither the token nor its escaped form shows anywhere.
    let escaped = r#"tok-\"q\\z-captured-secret"#;
    for text in [&ran.stdout, &ran.stderr] {
        assert!(
            !text.contains(QUOTED_TOKEN) && !text.contains(escaped),
            "{text}"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
