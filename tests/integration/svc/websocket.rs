//! The `websocket` probe against an in-process echo server on 127.0.0.1 (plain and TLS with
//! a CA generated at test time). Messages starting with `slow` are echoed after 300 ms.

use crate::support::*;

#[test]
fn echo_round_trip_passes_and_wrong_reply_slow_reply_and_no_server_fail() {
    let server = echo_server(None);
    let not_ws =
        RawServer::respond(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    let url = format!("ws://127.0.0.1:{}/socket", server.addr.port());
    let ran = run_checklist(&checklist_of(
        "3s",
        &[
            (
                "echo",
                &format!(
                    "websocket: {{ url: '{url}', send: ping-42, expect: 'echo: ping-42', max_latency: 2s }}"
                ),
            ),
            ("handshake", &format!("websocket: {{ url: '{url}' }}")),
            (
                "wrong",
                &format!("websocket: {{ url: '{url}', send: hello, expect: world }}"),
            ),
            (
                "slow",
                &format!(
                    "websocket: {{ url: '{url}', send: slow-1, expect: slow-1, max_latency: 100ms }}"
                ),
            ),
            (
                "notws",
                &format!("websocket: {{ url: 'ws://{}/' }}", not_ws.addr),
            ),
            (
                "down",
                &format!("websocket: {{ url: 'ws://127.0.0.1:{}/' }}", closed_port()),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "echo", "pass");
    assert_eq!(item(&report, "echo")["evidence"]["reply"], "echo: ping-42");
    assert_status(&report, "handshake", "pass");
    let wrong = message(&report, "wrong");
    assert_eq!(item(&report, "wrong")["status"], "fail", "{wrong}");
    assert!(
        wrong.contains("expected a reply containing `world`"),
        "{wrong}"
    );
    let slow = message(&report, "slow");
    assert_eq!(item(&report, "slow")["status"], "fail", "{slow}");
    assert!(
        slow.contains("round trip took") && slow.contains("expected at most 100 ms"),
        "{slow}"
    );
    let notws = message(&report, "notws");
    assert_eq!(item(&report, "notws")["status"], "fail", "{notws}");
    assert!(notws.contains("HTTP 200"), "{notws}");
    assert_status(&report, "down", "fail");
}

#[test]
fn wss_is_verified_against_ca_file() {
    let pki = prodcheck::demo::pki::Pki::new("prodcheck ws CA").expect("CA");
    let leaf = pki.leaf_for_days(&["localhost"], 30).expect("leaf");
    let config = prodcheck::demo::pki::server_config(vec![leaf.cert_der.clone()], leaf.key())
        .expect("tls config");
    let server = echo_server(Some(config));
    let p = Project::new();
    let ca = p.file("ca.pem", &pki.ca_pem);
    let url = format!("wss://localhost:{}/", server.addr.port());
    let file = p.file(
        "c.yaml",
        &checklist_of(
            "3s",
            &[
                (
                    "trusted",
                    &format!(
                        "websocket: {{ url: '{url}', ca_file: '{}', send: hi, expect: hi }}",
                        ca.display()
                    ),
                ),
                ("untrusted", &format!("websocket: {{ url: '{url}' }}")),
            ],
        ),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "trusted", "pass");
    let untrusted = message(&report, "untrusted");
    assert_eq!(item(&report, "untrusted")["status"], "fail", "{untrusted}");
    assert!(untrusted.contains("certificate"), "{untrusted}");
}

/// `headers` go on the upgrade request: a socket behind a token answers 101 with it and 401
/// without, and the token from `${env:…}` never shows.
#[test]
fn upgrade_requests_carry_the_items_headers() {
    use axum::extract::ws::{Message as AxMessage, WebSocketUpgrade};
    use axum::response::IntoResponse;
    let app = axum::Router::new().route(
        "/ws",
        axum::routing::get(
            |headers: axum::http::HeaderMap, upgrade: WebSocketUpgrade| async move {
                let token = headers.get("authorization").and_then(|v| v.to_str().ok());
                if token != Some("Bearer ws-canary-token") {
                    return axum::http::StatusCode::UNAUTHORIZED.into_response();
                }
                upgrade.on_upgrade(|mut socket| async move {
                    while let Some(Ok(AxMessage::Text(t))) = socket.recv().await {
                        let reply = format!("echo: {}", t.as_str());
                        if socket.send(AxMessage::Text(reply.into())).await.is_err() {
                            return;
                        }
                    }
                })
            },
        ),
    );
    let server = AppServer::start(app);
    let url = server.url("/ws").replacen("http://", "ws://", 1);
    let text = checklist_of(
        "5s",
        &[
            (
                "with-token",
                &format!(
                    r#"websocket: {{ url: "{url}", send: ping, expect: "echo: ping", headers: {{ Authorization: "Bearer ${{env:WS_TOKEN}}" }} }}"#
                ),
            ),
            ("without", &format!(r#"websocket: {{ url: "{url}" }}"#)),
        ],
    );
    let ran = run_checklist_with_env(&text, &[("WS_TOKEN", "ws-canary-token")]);
    let report = json(&ran);
    assert_eq!(item(&report, "with-token")["status"], "pass", "{report}");
    assert_eq!(item(&report, "without")["status"], "fail", "{report}");
    assert!(
        message(&report, "without").contains("401"),
        "{}",
        message(&report, "without")
    );
    assert!(!ran.stdout.contains("ws-canary-token"), "token leaked");
}
