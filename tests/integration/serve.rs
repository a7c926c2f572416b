//! `prodcheck serve` as Prometheus sees it (`prometheus`), the exporter's guarantees asked of
//! it directly (`guards`: what a scrape may name, the deadline; `web`: auth, TLS, reloads), and
//! the shipped examples through promtool. Shared here: local services, the project, the process.

mod fleet;
mod flows;
mod guards;
mod needs;
mod prometheus;
mod reasons;
mod scoped;
mod shards;
mod web;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use prodcheck::demo::pki;

use crate::support::*;

/// A local HTTPS service: `/health` answers `health_status`; `/burst` counts its hits; `/slow`
/// answers after 20 s.
struct Service {
    app: AppServer,
    hits: Arc<AtomicUsize>,
}

fn service(pki: &pki::Pki, health_status: u16, cert_days: i64) -> Service {
    let hits = Arc::new(AtomicUsize::new(0));
    let burst = hits.clone();
    let app = Router::new()
        .route(
            "/health",
            get(move || async move {
                let code = axum::http::StatusCode::from_u16(health_status).expect("status");
                (code, r#"{"status":"ok"}"#)
            }),
        )
        .route(
            "/burst",
            get(move || {
                burst.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(20)).await;
                "late"
            }),
        );
    let leaf = pki.leaf_for_days(&["localhost"], cert_days).expect("leaf");
    let tls = pki::server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("tls");
    Service {
        app: AppServer::start_tls(app, tls),
        hits,
    }
}

/// The checklist the exporter serves: probes with figures, a disruptive probe and a manual
/// item (neither may run from a scrape).
const CHECKLIST: &str = r#"name: svc
vars:
  base_url: ~
  ca_file: ~
  host: ${base_url|host}
  port: ${base_url|port}
sections:
  - name: S
    items:
      - id: health
        title: Health endpoint answers 200
        check: { http: { url: "${base_url}/health", ca_file: "${ca_file}", expect: { status: 200 } } }
      - id: cert
        title: Certificate not close to expiry
        check: { tls: { host: "${host}", port: "${port}", ca_file: "${ca_file}", warn_days: 30, fail_days: 14 } }
      - id: speed
        title: Health endpoint is fast
        check: { latency: { url: "${base_url}/health", ca_file: "${ca_file}", samples: 3, warmup: 0, p95: 5s } }
      - id: burst
        title: Rate limited
        check: { rate_limit: { url: "${base_url}/burst" } }
      - id: runbook
        title: Runbook reviewed
        manual: { how: Read it. }
"#;

/// A second served checklist: one quick item and one that outlives any scrape timeout.
const SLOW: &str = r#"name: slow
vars:
  base_url: ~
  ca_file: ~
sections:
  - name: S
    items:
      - id: health
        title: Health endpoint answers 200
        check: { http: { url: "${base_url}/health", ca_file: "${ca_file}", expect: { status: 200 } } }
      - id: slow
        title: Slow endpoint
        timeout: 30s
        check: { http: { url: "${base_url}/slow", ca_file: "${ca_file}" } }
"#;

/// A project with `svc`, `slow`, the CA file `ca.pem` and one environment per
/// `(name, service)`.
fn project(envs: &[(&str, &Service)], ca: &pki::Pki) -> Project {
    let p = Project::new();
    p.file("checklists/svc.yaml", CHECKLIST);
    p.file("checklists/slow.yaml", SLOW);
    p.file("ca.pem", &ca.ca_pem);
    write_config(&p, envs);
    p
}

/// (Re)writes `p`'s prodcheck.yaml with one environment per `(name, service)`.
fn write_config(p: &Project, envs: &[(&str, &Service)]) {
    let ca = p.path().join("ca.pem");
    let mut config = String::from("environments:\n");
    for (name, svc) in envs {
        config.push_str(&format!(
            "  {name}:\n    vars: {{ base_url: \"{}\", ca_file: \"{}\" }}\n",
            svc.app.https_url(""),
            ca.display()
        ));
    }
    p.file("prodcheck.yaml", &config);
}

/// `prodcheck serve` started by the test on a port the kernel picks (read back from its log,
/// so parallel tests cannot race for one); stopped by its PID on drop.
fn exporter(p: &Project, extra: &[&str]) -> ServerProcess {
    let log = p.path().join("serve.log");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("prodcheck"));
    cmd.current_dir(p.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--checklist", "svc", "--checklist", "slow"])
        .args(extra);
    let dir = tempfile::tempdir().expect("dir");
    let mut server = ServerProcess::spawn("prodcheck serve", &mut cmd, 0, dir, "-TERM", Some(&log));
    let listening = |text: &str| {
        let (_, rest) = text.split_once("listening on ")?;
        let (_, rest) = rest.split_once("://127.0.0.1:")?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse::<u16>()
            .ok()
    };
    let mut port = None;
    wait_until(Duration::from_secs(30), || {
        port = listening(&std::fs::read_to_string(&log).unwrap_or_default());
        port.is_some()
    });
    server.port = port.unwrap_or_else(|| {
        panic!(
            "prodcheck serve did not start:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    server.wait_listening(Duration::from_secs(30), &log);
    server
}

/// One plain HTTP/1.0 GET with timeouts: (status, body).
fn get_http(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    exchange(&mut s, path, headers)
}

fn exchange(s: &mut impl ReadWrite, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// The value of the sample of `metric` whose labels include every `k="v"` in `labels`.
fn sample(body: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    body.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// `promtool check metrics` accepts `text` (format and lint).
fn promtool_check_metrics(text: &str) {
    let Some(promtool) = require_binary("promtool", "prometheus") else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
