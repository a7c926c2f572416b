//! Client certificates (`client_cert` / `client_key`) against real servers that demand them:
//! nginx (`ssl_verify_client on`), redis (`tls-auth-clients yes`), PostgreSQL (`hostssl …
//! clientcert=verify-ca`), Prometheus (`RequireAndVerifyClientCert`) and a rustls WebSocket
//! server. Without a certificate each fails saying the server demands one and which CA it
//! names; with one it passes; the key, given as `${env:CLIENT_KEY}` text, never shows.

use std::path::PathBuf;
use std::sync::Arc;

use prodcheck::demo::pki::{Leaf, Pki, self_signed_leaf};

use crate::support::*;

/// A server CA with a leaf for 127.0.0.1/localhost, a client CA with a client certificate,
/// and a stranger's self-signed client certificate, as files in `dir`.
struct Mtls {
    dir: tempfile::TempDir,
    server_ca: Pki,
    server: Leaf,
    client_ca: Pki,
    client: Leaf,
    stranger: Leaf,
}

impl Mtls {
    fn new() -> Mtls {
        let server_ca = Pki::new("prodcheck server CA").expect("server CA");
        let server = server_ca
            .leaf_for_days(&["localhost", "127.0.0.1"], 90)
            .expect("server leaf");
        let client_ca = Pki::new("prodcheck client CA").expect("client CA");
        let client = client_ca
            .client_leaf("deploy-bot", 30)
            .expect("client leaf");
        let stranger = self_signed_leaf(&["intruder"], 30).expect("stranger");
        let m = Mtls {
            dir: tempfile::tempdir().expect("dir"),
            server_ca,
            server,
            client_ca,
            client,
            stranger,
        };
        m.write("server-ca.pem", &m.server_ca.ca_pem);
        m.write("server.crt", &m.server.cert_pem);
        m.write("server.key", &key_pem(&m.server));
        m.write("client-ca.pem", &m.client_ca.ca_pem);
        m.write("client.crt", &m.client.cert_pem);
        m.write("client.key", &key_pem(&m.client));
        m.write("stranger.crt", &m.stranger.cert_pem);
        m.write("stranger.key", &key_pem(&m.stranger));
        m
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).expect("write pem");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// The client key as text, for `${env:CLIENT_KEY}`.
    fn client_key(&self) -> String {
        key_pem(&self.client)
    }
}

/// What a server that asks for a client certificate from the test's client CA makes the
/// probe say when none is given.
const ASKS: &str = "the server asks for a client certificate (it accepts certificates issued by `CN=prodcheck client CA`) and none was given: set `client_cert` and `client_key`";

fn run_with_key(m: &Mtls, items: &[(&str, &str)]) -> (Ran, serde_json::Value) {
    let ran = run_checklist_with_env(
        &checklist_of("10s", items),
        &[
            ("CLIENT_KEY", &m.client_key()),
            ("REDIS_PW", REDIS_PASSWORD),
            ("PG_PW", PG_PASSWORD),
        ],
    );
    assert!(
        !ran.stdout.contains("PRIVATE KEY") && !ran.stderr.contains("PRIVATE KEY"),
        "the client key leaked:\n{}{}",
        ran.stdout,
        ran.stderr
    );
    let report = json(&ran);
    (ran, report)
}

fn assert_status(report: &serde_json::Value, id: &str, status: &str) {
    assert_eq!(
        item(report, id)["status"],
        status,
        "{id}: {}",
        item(report, id)
    );
}

#[test]
fn nginx_demands_a_client_certificate_and_the_probes_say_which_ca() {
    let m = Mtls::new();
    let servers = format!(
        r#"
  server {{
    listen 127.0.0.1:{{PORT0}} ssl;
    ssl_certificate {dir}/server.crt; ssl_certificate_key {dir}/server.key;
    ssl_client_certificate {dir}/client-ca.pem; ssl_verify_client on;
    location / {{ return 200 "hello $ssl_client_s_dn\n"; }}
  }}
"#,
        dir = m.dir.path().display()
    );
    let Some(nginx) = Nginx::start(1, &servers) else {
        return;
    };
    let port = nginx.ports[0];
    let url = format!("https://localhost:{port}/");
    let ca = m.p("server-ca.pem");
    let cert = m.p("client.crt");
    let (ran, report) = run_with_key(
        &m,
        &[
            (
                "http-none",
                &format!(r#"http: {{ url: "{url}", ca_file: "{ca}" }}"#),
            ),
            (
                "http-cert",
                &format!(
                    r#"http: {{ url: "{url}", ca_file: "{ca}", client_cert: "{cert}", client_key: "${{env:CLIENT_KEY}}", expect: {{ body_contains: "CN=deploy-bot" }} }}"#
                ),
            ),
            (
                "http-stranger",
                &format!(
                    r#"http: {{ url: "{url}", ca_file: "{ca}", client_cert: "{}", client_key: "{}" }}"#,
                    m.p("stranger.crt"),
                    m.p("stranger.key")
                ),
            ),
            (
                "tls-none",
                &format!(
                    r#"tls: {{ host: localhost, port: {port}, ca_file: "{ca}", enumerate: false }}"#
                ),
            ),
            (
                "tls-cert",
                &format!(
                    r#"tls: {{ host: localhost, port: {port}, ca_file: "{ca}", enumerate: false, client_cert: "{cert}", client_key: "{}" }}"#,
                    m.p("client.key")
                ),
            ),
            (
                "tcp-cert",
                &format!(
                    r#"tcp: {{ host: localhost, port: {port}, tls: true, ca_file: "{ca}", client_cert: "{cert}", client_key: "${{env:CLIENT_KEY}}" }}"#
                ),
            ),
        ],
    );
    assert_code!(ran, 1);
    // nginx completes the handshake and answers 400: the probe asks what it wanted.
    assert_status(&report, "http-none", "fail");
    assert_eq!(
        message(&report, "http-none"),
        format!("GET {url}: expected status 2xx, got 400; {ASKS}")
    );
    assert_eq!(
        item(&report, "http-none")["evidence"]["client_auth"]["ca_names"],
        serde_json::json!(["CN=prodcheck client CA"])
    );
    assert_status(&report, "http-cert", "pass");
    assert_status(&report, "http-stranger", "fail");
    assert!(
        message(&report, "http-stranger").ends_with(
            "the server asks for a client certificate (it accepts certificates issued by `CN=prodcheck client CA`) and was given `CN=intruder` (issued by `CN=intruder`)"
        ),
        "{}",
        message(&report, "http-stranger")
    );
    // The tls probe reports the request (and the CA names) without failing on it.
    assert_status(&report, "tls-none", "pass");
    assert!(
        message(&report, "tls-none").ends_with(
            "; the server asks for a client certificate (it accepts certificates issued by `CN=prodcheck client CA`), none given"
        ),
        "{}",
        message(&report, "tls-none")
    );
    let auth = &item(&report, "tls-none")["evidence"]["client_auth"];
    assert_eq!(auth["requested"], true, "{auth}");
    assert_eq!(auth["presented"], serde_json::Value::Null, "{auth}");
    assert_status(&report, "tls-cert", "pass");
    assert_eq!(
        item(&report, "tls-cert")["evidence"]["client_auth"]["presented"],
        "CN=deploy-bot"
    );
    assert_status(&report, "tcp-cert", "pass");
}

/// A rustls server config for the test's server leaf that requires a client certificate
/// from the client CA (a rustls server aborts the handshake without one).
fn requiring_server(m: &Mtls) -> rustls::ServerConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(m.client_ca.ca_der.clone()).expect("client CA");
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .expect("client verifier");
    let mut config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![m.server.cert_der.clone()], m.server.key())
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

#[test]
fn websocket_presents_the_client_certificate_a_rustls_server_requires() {
    let m = Mtls::new();
    let server = echo_server(Some(requiring_server(&m)));
    let url = format!("wss://localhost:{}/", server.addr.port());
    let ca = m.p("server-ca.pem");
    let (ran, report) = run_with_key(
        &m,
        &[
            (
                "none",
                &format!(
                    r#"websocket: {{ url: "{url}", ca_file: "{ca}", send: hi, expect: "echo: hi" }}"#
                ),
            ),
            (
                "cert",
                &format!(
                    r#"websocket: {{ url: "{url}", ca_file: "{ca}", send: hi, expect: "echo: hi", client_cert: "{}", client_key: "${{env:CLIENT_KEY}}" }}"#,
                    m.p("client.crt")
                ),
            ),
            (
                "tls-none",
                &format!(
                    r#"tls: {{ host: localhost, port: {}, ca_file: "{ca}", enumerate: false }}"#,
                    server.addr.port()
                ),
            ),
        ],
    );
    assert_code!(ran, 1);
    assert_status(&report, "none", "fail");
    assert!(
        message(&report, "none").ends_with(ASKS),
        "{}",
        message(&report, "none")
    );
    assert_status(&report, "cert", "pass");
    assert_eq!(
        item(&report, "cert")["evidence"]["client_auth"]["presented"],
        "CN=deploy-bot"
    ); // Over TLS 1.3 a rustls server refuses the missing certificate after the client's side of
    // the handshake is done: the tls probe (which sends nothing) sees the request only.
    assert_status(&report, "tls-none", "pass");
    assert_eq!(
        item(&report, "tls-none")["evidence"]["client_auth"]["ca_names"],
        serde_json::json!(["CN=prodcheck client CA"])
    );
}

#[test]
fn a_tls_handshake_the_server_ends_for_want_of_a_client_certificate_fails_saying_so() {
    let m = Mtls::new();
    let Some(openssl) = require_binary("openssl", "openssl") else {
        return;
    };
    let port = closed_port();
    // TLS 1.2 with -Verify: the server ends the handshake itself when no certificate comes.
    let mut child = std::process::Command::new(openssl)
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-www",
            "-no_tls1_3",
        ])
        .args(["-cert", &m.p("server.crt"), "-key", &m.p("server.key")])
        .args(["-Verify", "1", "-CAfile", &m.p("client-ca.pem")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let up = wait_until(std::time::Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let ca = m.p("server-ca.pem");
    let tls = |extra: &str| {
        format!(
            r#"tls: {{ host: localhost, port: {port}, ca_file: "{ca}", enumerate: false{extra} }}"#
        )
    };
    let with_cert = format!(
        r#", client_cert: "{}", client_key: "${{env:CLIENT_KEY}}""#,
        m.p("client.crt")
    );
    let ran = up.then(|| run_with_key(&m, &[("none", &tls("")), ("cert", &tls(&with_cert))]));
    let _ = child.kill();
    let _ = child.wait();
    let (ran, report) = ran.expect("openssl s_server did not listen");
    assert_code!(ran, 1);
    assert_status(&report, "none", "fail");
    assert!(
        message(&report, "none").contains(
            "the server demands a client certificate (it accepts certificates issued by `CN=prodcheck client CA`) and none was given: set `client_cert` and `client_key`"
        ),
        "{}",
        message(&report, "none")
    );
    assert_status(&report, "cert", "pass");
}

#[test]
fn redis_with_tls_auth_clients_needs_the_client_certificate() {
    let m = Mtls::new();
    let Some(redis) = start_redis_with(|_| {
        [
            ("--tls-cert-file", m.p("server.crt")),
            ("--tls-key-file", m.p("server.key")),
            ("--tls-ca-cert-file", m.p("client-ca.pem")),
            ("--tls-auth-clients", "yes".to_string()),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect()
    }) else {
        return;
    };
    let url = format!("rediss://:${{env:REDIS_PW}}@127.0.0.1:{}", redis.port);
    let ca = m.p("server-ca.pem");
    let (ran, report) = run_with_key(
        &m,
        &[
            (
                "none",
                &format!(r#"redis: {{ url: "{url}", ca_file: "{ca}" }}"#),
            ),
            (
                "cert",
                &format!(
                    r#"redis: {{ url: "{url}", ca_file: "{ca}", client_cert: "{}", client_key: "${{env:CLIENT_KEY}}" }}"#,
                    m.p("client.crt")
                ),
            ),
        ],
    );
    assert_code!(ran, 1);
    assert_status(&report, "none", "fail");
    // redis-server sends no CA names in its CertificateRequest, and the message says so.
    assert!(
        message(&report, "none").ends_with(
            "the server asks for a client certificate (it names no CA) and none was given: set `client_cert` and `client_key`"
        ),
        "{}",
        message(&report, "none")
    );
    assert_status(&report, "cert", "pass");
    assert_eq!(
        item(&report, "cert")["evidence"]["client_cert"]["subject"],
        "CN=deploy-bot"
    );
}

#[test]
fn postgres_clientcert_verify_ca_takes_sslcert_in_the_url_or_client_cert() {
    let m = Mtls::new();
    let Some((pg, ca)) = start_postgres_with(true, Some(&m.client_ca.ca_pem)) else {
        return;
    };
    let ca = ca.expect("server CA written").display().to_string();
    let base = format!(
        "postgres://postgres:${{env:PG_PW}}@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert={ca}",
        pg.port
    );
    let (cert, key) = (m.p("client.crt"), m.p("client.key"));
    let (ran, report) = run_with_key(
        &m,
        &[
            ("none", &format!(r#"postgres: {{ url: "{base}" }}"#)),
            (
                "url-cert",
                &format!(r#"postgres: {{ url: "{base}&sslcert={cert}&sslkey={key}" }}"#),
            ),
            (
                "param-cert",
                &format!(
                    r#"postgres: {{ url: "{base}", client_cert: "{cert}", client_key: "${{env:CLIENT_KEY}}" }}"#
                ),
            ),
        ],
    );
    assert_code!(ran, 1);
    assert_status(&report, "none", "fail");
    let none = message(&report, "none");
    assert!(
        none.contains("PostgreSQL rejected the credentials") && none.ends_with(ASKS),
        "{none}"
    );
    assert_status(&report, "url-cert", "pass");
    assert_status(&report, "param-cert", "pass");
    assert_eq!(
        item(&report, "param-cert")["evidence"]["client_cert"]["subject"],
        "CN=deploy-bot"
    );
}

#[test]
fn prometheus_behind_mutual_tls_is_queried_with_the_client_certificate() {
    let m = Mtls::new();
    let Some(binary) = require_binary("prometheus", "prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("prometheus dir");
    let port = closed_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global: { scrape_interval: 15s }\n").expect("config");
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n",
            m.p("server.crt"),
            m.p("server.key"),
            m.p("client-ca.pem")
        ),
    )
    .expect("web config");
    let _prometheus = launch_prometheus_with(
        &binary,
        dir,
        port,
        &config,
        &[format!("--web.config.file={}", web.display())],
    );
    let url = format!("https://localhost:{port}");
    let ca = m.p("server-ca.pem");
    let (ran, report) = run_with_key(
        &m,
        &[
            (
                "none",
                &format!(
                    r#"prometheus: {{ url: "{url}", ca_file: "{ca}", query: "vector(1)", expect: "== 1" }}"#
                ),
            ),
            (
                "cert",
                &format!(
                    r#"prometheus: {{ url: "{url}", ca_file: "{ca}", query: "vector(1)", expect: "== 1", client_cert: "{}", client_key: "${{env:CLIENT_KEY}}" }}"#,
                    m.p("client.crt")
                ),
            ),
        ],
    );
    // Prometheus is an instrument: a query it would not take is `error` (exit 3).
    assert_code!(ran, 3);
    assert_status(&report, "none", "error");
    assert!(
        message(&report, "none").ends_with(ASKS),
        "{}",
        message(&report, "none")
    );
    assert_status(&report, "cert", "pass");
}
