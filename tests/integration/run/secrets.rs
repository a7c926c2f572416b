//! A canary secret passed through `${env:…}` into URLs, headers, bodies, database and cache
//! URLs and even a mistyped parameter must not appear in any output or state file.

use axum::Router;
use axum::routing::{get, post};

use crate::support::*;

const CANARY: &str = "canary-9b1f27-top-secret";
/// A value no variable holds: the login route answers it and `capture:` takes it.
const CAPTURED: &str = "canary-c4f7e0-captured-token";
const FORMATS: &[&str] = &[
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

fn echo_app() -> Router {
    Router::new()
        .route(
            "/echo",
            get(
                |headers: axum::http::HeaderMap, uri: axum::http::Uri| async move {
                    // A careless service that echoes credentials back.
                    format!("uri {uri} auth {:?}", headers.get("authorization"))
                },
            ),
        )
        .route(
            "/login",
            post(|| async { format!("{{\"token\":\"{CAPTURED}\"}}") }),
        )
        .route(
            "/body",
            post(|body: String| async move { format!("you sent {body}") }),
        )
}

fn all_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            all_files(&path, out)
        } else {
            out.push(path)
        }
    }
}

#[test]
fn the_canary_never_appears_in_reports_state_or_messages() {
    let server = AppServer::start(echo_app());
    let closed = closed_port();
    let p = Project::new();
    let text = format!(
        r#"name: secrets
sections:
  - name: Everywhere
    items:
      - id: in-url-and-header
        title: URL and header carry ${{env:PRODCHECK_CANARY}}
        check:
          http:
            url: "{echo}?token=${{env:PRODCHECK_CANARY}}"
            headers: {{ Authorization: "Bearer ${{env:PRODCHECK_CANARY}}" }}
            expect: {{ body_contains: never-there }}
      - id: in-body
        title: Body
        check:
          http:
            url: "{body}"
            method: POST
            body: "password=${{env:PRODCHECK_CANARY}}"
            expect: {{ status: 201 }}
      - id: database
        title: Database URL
        timeout: 3s
        check: {{ postgres: {{ url: "postgres://app:${{env:PRODCHECK_CANARY}}@127.0.0.1:{closed}/app" }} }}
      - id: cache
        title: Cache URL
        timeout: 3s
        check: {{ redis: {{ url: "redis://:${{env:PRODCHECK_CANARY}}@127.0.0.1:{closed}" }} }}
      - id: command
        title: Command output
        check: {{ exec: {{ shell: "echo 'CRITICAL - leaked ${{env:PRODCHECK_CANARY}}'; exit 2" }} }}
      - id: login
        title: Login hands out a token
        check: {{ http: {{ url: "{login}", method: POST, body: "user=ci" }} }}
        capture: {{ token: {{ json: /token }} }}
      - id: captured-token
        title: The captured token in a URL and a header, echoed back
        needs: [login]
        check:
          http:
            url: "{echo}?session=${{capture:token}}"
            headers: {{ Authorization: "Bearer ${{capture:token}}" }}
            expect: {{ body_contains: never-there }}
      - id: confirm-me
        title: Manual ${{env:PRODCHECK_CANARY}}
        manual: {{ how: "Check ${{env:PRODCHECK_CANARY}}" }}
"#,
        echo = server.url("/echo"),
        body = server.url("/body"),
        login = server.url("/login"),
    );
    let file = p.file("secrets.yaml", &text);
    let mut cmd = p.cmd();
    cmd.env("PRODCHECK_CANARY", CANARY).args([
        "run",
        file.to_str().unwrap_or_default(),
        "--confirm",
        "confirm-me",
    ]);
    for f in FORMATS {
        cmd.args(["--report", &format!("{f}=reports/out.{f}")]);
    }
    let ran = run(&mut cmd);
    assert_code!(ran, 1);
    // A sign-off and a second run write more state.
    let signed = p
        .case()
        .env("PRODCHECK_CANARY", CANARY)
        .args([
            "signoff",
            file.to_str().unwrap_or_default(),
            "confirm-me",
            "--note",
            "looked",
        ])
        .run();
    let again = run(p.cmd().env("PRODCHECK_CANARY", CANARY).args([
        "run",
        file.to_str().unwrap_or_default(),
        "-vv",
    ]));

    let mut files = Vec::new();
    all_files(p.path(), &mut files);
    let written: Vec<_> = files
        .iter()
        .filter(|f| !f.ends_with("secrets.yaml"))
        .collect();
    assert!(
        written.len() >= FORMATS.len() + 2,
        "reports, history and sign-offs were written: {written:?}"
    );
    for f in written {
        let content = String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).into_owned();
        assert!(
            !content.contains(CANARY) && !content.contains(CAPTURED),
            "secret leaked into {}:\n{content}",
            f.display()
        );
    }
    for (what, out) in [
        ("stdout", &ran.stdout),
        ("stderr", &ran.stderr),
        ("signoff", &signed.stdout),
        ("second run", &again.stdout),
        ("second run stderr", &again.stderr),
    ] {
        assert!(
            !out.contains(CANARY) && !out.contains(CAPTURED),
            "secret leaked on {what}:\n{out}"
        );
    }
    // Redacted, not dropped: the echoed credential shows as ***.
    let json = std::fs::read_to_string(p.path().join("reports/out.json")).expect("json report");
    assert!(json.contains("Bearer ***"), "{json}");
    // The captured token went out (the echo quotes it back) and came back redacted.
    assert!(json.contains("session=***"), "{json}");
}

#[test]
fn the_canary_never_appears_in_diagnostics() {
    let p = Project::new();
    let file = p.file(
        "bad.yaml",
        "name: t\nsections:\n  - name: S\n    items:\n      - id: a\n        title: A\n        check: { tcp: { host: x, port: \"${env:PRODCHECK_CANARY}\" } }\n      - id: b\n        title: B\n        check: { http: { url: \"${env:PRODCHECK_CANARY}\" } }\n",
    );
    let ran = p
        .case()
        .env("PRODCHECK_CANARY", CANARY)
        .args(["run", file.to_str().unwrap_or_default()])
        .code(2)
        .stderr_has("expected u16")
        .run();
    assert!(
        !ran.stderr.contains(CANARY) && !ran.stdout.contains(CANARY),
        "secret leaked in a diagnostic:\n{}",
        ran.stderr
    );
}
