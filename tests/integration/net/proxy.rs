//! An item's own `proxy:` and tunnels for the probes that do not speak HTTP: `tcp`, `tls` and
//! `websocket` go through a real tinyproxy with `CONNECT` (its log proves it), through a real
//! microsocks with SOCKS5 (the target sees the proxy's address), the item's proxy overrides
//! the run's, `NO_PROXY` bypasses it, and credentials from `${env:…}` never show.

use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use prodcheck::demo::pki::{Pki, server_config};

use crate::support::*;

/// A TCP port on 127.0.0.1 that accepts connections and records who connected.
struct PeerLog {
    port: u16,
    peers: Arc<Mutex<Vec<IpAddr>>>,
}

impl PeerLog {
    fn start() -> PeerLog {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let peers = Arc::new(Mutex::new(Vec::new()));
        let seen = peers.clone();
        // Ends with the test process; each accepted connection is dropped at once.
        std::thread::spawn(move || {
            for (stream, peer) in listener.incoming().filter_map(|s| {
                let s = s.ok()?;
                let peer = s.peer_addr().ok()?;
                Some((s, peer))
            }) {
                seen.lock().expect("lock").push(peer.ip());
                drop(stream);
            }
        });
        PeerLog { port, peers }
    }

    fn peers(&self) -> Vec<IpAddr> {
        self.peers.lock().expect("lock").clone()
    }
}

fn statuses(report: &serde_json::Value) -> Vec<String> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            format!(
                "{}={}",
                i["id"].as_str().unwrap_or("?"),
                i["status"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

#[test]
fn tcp_tls_and_websocket_tunnel_through_the_items_proxy_which_overrides_the_runs() {
    let Some(proxy) = start_tinyproxy() else {
        return;
    };
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let pki = Pki::new("prodcheck proxy CA").expect("CA");
    let leaf = pki.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let tls_app = AppServer::start_tls(
        Router::new().route("/", get(|| async { "ok" })),
        server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("tls config"),
    );
    let ws = echo_server(None);
    let plain = PeerLog::start();
    let direct = PeerLog::start();
    let web = AppServer::start(Router::new().route("/", get(|| async { "ok" })));
    let p = Project::new();
    let ca = p.file("ca.pem", &pki.ca_pem);
    let (tls_port, ws_port) = (tls_app.addr.port(), ws.addr.port());
    p.file(
        "c.yaml",
        &checklist_of(
            "10s",
            &[
                (
                    "tls",
                    &format!(
                        r#"tls: {{ host: 127.0.0.1, port: {tls_port}, ca_file: "{}", enumerate: false, proxy: "{proxy_url}" }}"#,
                        ca.display()
                    ),
                ),
                (
                    "tcp",
                    &format!(r#"tcp: {{ host: 127.0.0.1, port: {}, proxy: "{proxy_url}" }}"#, plain.port),
                ),
                (
                    "websocket",
                    &format!(
                        r#"websocket: {{ url: "ws://127.0.0.1:{ws_port}/", send: hi, expect: "echo: hi", proxy: "{proxy_url}" }}"#
                    ),
                ),
                // The run goes through a dead proxy; this item's own `none` goes direct.
                (
                    "direct",
                    &format!(r#"tcp: {{ host: 127.0.0.1, port: {}, proxy: none }}"#, direct.port),
                ),
                (
                    "http",
                    &format!(r#"http: {{ url: "{}", proxy: "{proxy_url}" }}"#, web.url("/")),
                ),
            ],
        ),
    );
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--proxy", &dead, "--report", "json"]));
    let report = json(&ran);
    assert_code!(ran, 0);
    assert!(proxied_to(&proxy, tls_port) >= 1, "tls did not tunnel");
    assert_eq!(proxied_to(&proxy, plain.port), 1);
    assert_eq!(proxied_to(&proxy, ws_port), 1);
    assert_eq!(proxied_to(&proxy, web.addr.port()), 1);
    assert_eq!(proxied_to(&proxy, direct.port), 0);
    assert_eq!(direct.peers().len(), 1, "the direct item connected itself");
    let shown = format!("{proxy_url}/");
    for id in ["tls", "tcp", "websocket", "http"] {
        assert_eq!(
            item(&report, id)["evidence"]["proxy"],
            shown,
            "{id}: {}",
            item(&report, id)
        );
    }
    assert!(item(&report, "direct")["evidence"].get("proxy").is_none());
    assert!(
        message(&report, "tcp").starts_with(&format!(
            "127.0.0.1:{} accepted a connection through {shown} in ",
            plain.port
        )),
        "{}",
        message(&report, "tcp")
    );
}

#[test]
fn environment_proxies_carry_tunnels_unless_no_proxy_names_the_host() {
    let Some(proxy) = start_tinyproxy() else {
        return;
    };
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let target = PeerLog::start();
    let text = checklist_of(
        "5s",
        &[(
            "tcp",
            &format!("tcp: {{ host: 127.0.0.1, port: {} }}", target.port),
        )],
    );
    let through = run_checklist_with_env(&text, &[("HTTPS_PROXY", &proxy_url)]);
    assert_code!(through, 0);
    assert_eq!(proxied_to(&proxy, target.port), 1);
    let bypass = run_checklist_with_env(
        &text,
        &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", "127.0.0.1")],
    );
    assert_code!(bypass, 0);
    assert_eq!(proxied_to(&proxy, target.port), 1, "NO_PROXY bypassed it");
    assert_eq!(
        item(&json(&bypass), "tcp")["evidence"]["address"],
        format!("127.0.0.1:{}", target.port)
    );
}

#[test]
fn proxy_credentials_from_the_environment_are_used_and_never_shown() {
    let Some(proxy) = start_tinyproxy_with("BasicAuth ops pr0xy-s3cret\n") else {
        return;
    };
    let target = PeerLog::start();
    let web = AppServer::start(Router::new().route("/", get(|| async { "ok" })));
    let with = |password: &str| format!("http://ops:{password}@127.0.0.1:{}", proxy.port);
    let ran = run_checklist_with_env(
        &checklist_of(
            "5s",
            &[
                (
                    "tcp",
                    &format!(
                        r#"tcp: {{ host: 127.0.0.1, port: {}, proxy: "{}" }}"#,
                        target.port,
                        with("${env:PROXY_PW}")
                    ),
                ),
                (
                    "http",
                    &format!(
                        r#"http: {{ url: "{}", proxy: "{}" }}"#,
                        web.url("/"),
                        with("${env:PROXY_PW}")
                    ),
                ),
                (
                    "wrong",
                    &format!(
                        r#"tcp: {{ host: 127.0.0.1, port: {}, proxy: "{}" }}"#,
                        target.port,
                        with("nope")
                    ),
                ),
                (
                    "none-given",
                    &format!(
                        r#"tcp: {{ host: 127.0.0.1, port: {}, proxy: "http://127.0.0.1:{}" }}"#,
                        target.port, proxy.port
                    ),
                ),
            ],
        ),
        &[("PROXY_PW", "pr0xy-s3cret")],
    );
    let report = json(&ran);
    assert!(!ran.stdout.contains("pr0xy-s3cret") && !ran.stderr.contains("pr0xy-s3cret"));
    assert_eq!(
        statuses(&report),
        ["tcp=pass", "http=pass", "wrong=error", "none-given=error"]
    );
    assert_code!(ran, 3);
    assert_eq!(
        item(&report, "tcp")["evidence"]["proxy"],
        format!("http://127.0.0.1:{}/", proxy.port)
    );
    let at = format!("http://127.0.0.1:{}/", proxy.port);
    let connect = format!("CONNECT 127.0.0.1:{}", target.port);
    // tinyproxy answers 401 to wrong credentials and 407 to none.
    assert_eq!(
        message(&report, "wrong"),
        format!("the proxy {at} rejected the credentials for {connect} (401)")
    );
    assert_eq!(
        message(&report, "none-given"),
        format!(
            "the proxy {at} wants credentials for {connect} (407); put them in the proxy URL: `http://user:${{env:PROXY_PASSWORD}}@host:port`"
        )
    );
    for id in ["wrong", "none-given"] {
        assert_eq!(item(&report, id)["evidence"]["no_answer"], "proxy");
    }
}

#[test]
fn a_dead_proxy_or_pinned_addresses_through_one_are_errors_not_failures() {
    let target = PeerLog::start();
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "dead",
                &format!(
                    r#"tcp: {{ host: 127.0.0.1, port: {}, proxy: "{dead}" }}"#,
                    target.port
                ),
            ),
            (
                "pinned",
                &format!(
                    r#"tcp: {{ host: shop.test, port: {}, resolve: ["127.0.0.1"], proxy: "{dead}" }}"#,
                    target.port
                ),
            ),
            (
                "dual",
                &format!(
                    r#"http: {{ url: "http://shop.test:{}/", resolve: ["127.0.0.1", "::1"], dual_stack: true, proxy: "{dead}" }}"#,
                    target.port
                ),
            ),
        ],
    ));
    let report = json(&ran);
    assert_code!(ran, 3);
    assert_eq!(
        statuses(&report),
        ["dead=error", "pinned=error", "dual=error"]
    );
    assert!(
        message(&report, "dead").starts_with(&format!("the proxy {dead}/ could not be reached")),
        "{}",
        message(&report, "dead")
    );
    assert!(
        message(&report, "pinned").starts_with(&format!(
            "`resolve` cannot be honoured through the proxy {dead}/"
        )),
        "{}",
        message(&report, "pinned")
    );
    assert!(
        message(&report, "dual").starts_with(&format!(
            "dual_stack cannot be checked through the proxy {dead}/"
        )),
        "{}",
        message(&report, "dual")
    );
    assert!(target.peers().is_empty(), "nothing may reach the target");
}

#[test]
fn socks5_proxies_carry_tunnels_and_http_with_their_login() {
    let Some(socks) = start_microsocks("ops", "s0cks-pw") else {
        return;
    };
    let target = PeerLog::start();
    // An HTTP server that answers with the address the request came from.
    let web = RawServer::start(|mut s| {
        let peer = s
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        let mut buf = [0u8; 2048];
        let _ = std::io::Read::read(&mut s, &mut buf);
        let body = format!("peer={peer}");
        let _ = std::io::Write::write_all(
            &mut s,
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    });
    let url = |password: &str| format!("socks5://ops:{password}@127.0.0.1:{}", socks.port);
    let ran = run_checklist_with_env(
        &checklist_of(
            "5s",
            &[
                (
                    "tcp",
                    &format!(
                        r#"tcp: {{ host: 127.0.0.1, port: {}, proxy: "{}" }}"#,
                        target.port,
                        url("${env:SOCKS_PW}")
                    ),
                ),
                (
                    "wrong",
                    &format!(
                        r#"tcp: {{ host: 127.0.0.1, port: {}, proxy: "{}" }}"#,
                        target.port,
                        url("nope")
                    ),
                ),
                // reqwest's own SOCKS5 for the HTTP-based probes: the server sees the proxy.
                (
                    "http",
                    &format!(
                        r#"http: {{ url: "{}", proxy: "{}", expect: {{ body_contains: "peer=127.0.0.2" }} }}"#,
                        web.url("/"),
                        url("${env:SOCKS_PW}")
                    ),
                ),
            ],
        ),
        &[("SOCKS_PW", "s0cks-pw")],
    );
    let report = json(&ran);
    assert!(!ran.stdout.contains("s0cks-pw"));
    assert_eq!(
        statuses(&report),
        ["tcp=pass", "wrong=error", "http=pass"],
        "{}",
        ran.stdout
    );
    let peers = target.peers();
    assert_eq!(
        peers,
        [IpAddr::from([127, 0, 0, 2])],
        "only the proxy connected"
    );
    assert_eq!(
        item(&report, "tcp")["evidence"]["proxy"],
        format!("socks5://127.0.0.1:{}/", socks.port)
    );
    assert_eq!(
        message(&report, "wrong"),
        format!(
            "the SOCKS5 proxy socks5://127.0.0.1:{}/ rejected the user name and password",
            socks.port
        )
    );
}
