//! Flows through `serve`: each scrape logs in, the API items send the captured token, and
//! neither the scrape's answer nor the serve log (which quotes messages) shows the token.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{get_http, sample};
use crate::support::*;

const TOKEN: &str = "tok-88aa-served-secret";

#[test]
fn a_scrape_runs_the_login_flow_and_never_shows_the_token() {
    let api = login_server(TOKEN);
    let base = api.url("");
    let p = Project::new();
    p.file(
        "checklists/shop.yaml",
        &format!(
            "name: shop\nsections:\n  - name: S\n    items:\n      - id: login\n        title: Login\n        timeout: 3s\n        check: {{ http: {{ url: \"{base}/login\", method: POST, body: '{{\"user\": \"{LOGIN_USER}\", \"password\": \"${{env:LOGIN_PASSWORD}}\"}}' }} }}\n        capture: {{ token: {{ json: /token }} }}\n      - id: orders\n        title: Orders\n        needs: [login]\n        timeout: 3s\n        check: {{ http: {{ url: \"{base}/api/orders\", headers: {{ Authorization: \"Bearer ${{capture:token}}\" }} }} }}\n      - id: quoted\n        title: Quotes the token\n        needs: [login]\n        timeout: 3s\n        check: {{ http: {{ url: \"{base}/api/orders?t=${{capture:token}}\", expect: {{ status: 418 }} }} }}\n"
        ),
    );
    let log = p.path().join("serve.log");
    let child = Command::new(assert_cmd::cargo::cargo_bin("prodcheck"))
        .current_dir(p.path())
        .env("LOGIN_PASSWORD", LOGIN_PASSWORD)
        .args(["serve", "--listen", "127.0.0.1:0", "--checklist", "shop"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start prodcheck serve");
    let mut server = ServerProcess {
        child,
        port: 0,
        dir: tempfile::tempdir().expect("dir"),
        stop_signal: "-TERM",
    };
    let mut found = None;
    wait_until(Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        found = text
            .split_once("://127.0.0.1:")
            .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse::<u16>().ok());
        found.is_some()
    });
    server.port = found.unwrap_or_else(|| {
        panic!(
            "prodcheck serve did not start:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    server.wait_listening(Duration::from_secs(30), &log);

    let (status, body) = get_http(server.port, "/probe?checklist=shop", &[]);
    assert_eq!(status, 200, "{body}");
    for (id, want) in [("login", "pass"), ("orders", "pass"), ("quoted", "fail")] {
        let item = format!("item=\"{id}\"");
        let status = format!("status=\"{want}\"");
        assert_eq!(
            sample(
                &body,
                "prodcheck_item_status",
                &[item.as_str(), status.as_str()]
            ),
            Some(1.0),
            "{id} {want}: {body}"
        );
    }
    assert!(!body.contains(TOKEN), "{body}");
    // The log names the failing item with its message: the token is redacted there too.
    let mut text = String::new();
    wait_until(Duration::from_secs(5), || {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        text.contains("quoted: fail")
    });
    assert!(text.contains("/api/orders?t=***"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}
