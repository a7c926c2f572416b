//! `prodcheck serve` as Prometheus sees it: a real Prometheus scraping it on 127.0.0.1 against
//! a good and a bad local service, and the exporter's guarantees asked of it directly — a
//! scrape cannot change what is probed (400/404), basic auth and TLS from the web config (401),
//! the scrape deadline, SIGHUP reloads — plus the shipped examples through promtool.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

/// A project with `svc` and one environment per `(name, service)`.
fn project(envs: &[(&str, &Service)], ca: &Path) -> Project {
    let p = Project::new();
    p.file("checklists/svc.yaml", CHECKLIST);
    p.file("checklists/slow.yaml", SLOW);
    let mut config = String::from("environments:\n");
    for (name, svc) in envs {
        config.push_str(&format!(
            "  {name}:\n    vars: {{ base_url: \"{}\", ca_file: \"{}\" }}\n",
            svc.app.https_url(""),
            ca.display()
        ));
    }
    p.file("prodcheck.yaml", &config);
    p
}

/// `prodcheck serve` started by the test on a port the kernel picks (read back from its log,
/// so parallel tests cannot race for one); stopped by its PID on drop.
fn exporter(p: &Project, extra: &[&str]) -> ServerProcess {
    let log = p.path().join("serve.log");
    let child = Command::new(assert_cmd::cargo::cargo_bin("prodcheck"))
        .current_dir(p.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--checklist", "svc", "--checklist", "slow"])
        .args(extra)
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

/// An instant query against Prometheus' HTTP API: the `result` array.
fn prom_query(port: u16, expr: &str) -> Vec<serde_json::Value> {
    let q: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Vec::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let (_, body) = exchange(&mut s, &format!("/api/v1/query?query={q}"), &[]);
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["data"]["result"].as_array().cloned())
        .unwrap_or_default()
}

/// A real Prometheus scraping the exporter every second for each environment, with the
/// shipped example's relabelling (instance = checklist/env).
fn prometheus(exporter_port: u16, envs: &[&str]) -> Option<ServerProcess> {
    let binary = require_binary("prometheus", "prometheus")?;
    let dir = tempfile::tempdir().expect("prometheus dir");
    let port = closed_port();
    let config = dir.path().join("prometheus.yml");
    let mut text =
        String::from("global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n");
    for env in envs {
        text.push_str(&format!(
            "  - job_name: prodcheck-{env}\n    metrics_path: /probe\n    params: {{ checklist: [svc], env: [{env}] }}\n    static_configs: [{{ targets: ['127.0.0.1:{exporter_port}'] }}]\n    relabel_configs:\n      - {{ source_labels: [__param_checklist, __param_env], separator: /, target_label: instance }}\n"
        ));
    }
    std::fs::write(&config, text).expect("config");
    let log = dir.path().join("prometheus.log");
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start prometheus");
    let mut server = ServerProcess {
        child,
        port,
        dir,
        stop_signal: "-TERM",
    };
    server.wait_listening(Duration::from_secs(30), &log);
    Some(server)
}

/// The one series `expr` returns, once it has one, as (labels, value).
fn wait_series(prom: u16, expr: &str) -> (serde_json::Value, f64) {
    let mut last = Vec::new();
    let found = wait_until(Duration::from_secs(60), || {
        last = prom_query(prom, expr);
        last.len() == 1
    });
    assert!(
        found,
        "`{expr}` never had exactly one series; last answer: {last:?}"
    );
    let value = last[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    (last[0]["metric"].clone(), value)
}

#[test]
fn prometheus_scrapes_the_good_and_the_bad_service() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let bad = service(&ca, 500, 10);
    let p = project(&[("good", &good), ("bad", &bad)], &ca_file(&ca));
    let serve = exporter(&p, &["--timeout-offset", "100ms"]);
    let Some(prom) = prometheus(serve.port, &["good", "bad"]) else {
        return;
    };
    let port = prom.port;
    // The series arrive through Prometheus' API, labelled as the scrape config says.
    let (labels, _) = wait_series(
        port,
        r#"prodcheck_item_status{env="good",item="health",status="pass"} == 1"#,
    );
    assert_eq!(labels["instance"], "svc/good", "{labels}");
    assert_eq!(labels["checklist"], "svc");
    assert_eq!(labels["severity"], "critical");
    wait_series(
        port,
        r#"prodcheck_item_status{env="bad",item="health",status="fail"} == 1"#,
    );
    wait_series(
        port,
        r#"prodcheck_item_status{env="good",item="cert",status="pass"} == 1"#,
    );
    wait_series(
        port,
        r#"prodcheck_item_status{env="bad",item="cert",status="fail"} == 1"#,
    );
    let (_, good_days) = wait_series(
        port,
        r#"(prodcheck_certificate_expiry_timestamp_seconds{env="good",item="cert"} - time()) / 86400"#,
    );
    let (_, bad_days) = wait_series(
        port,
        r#"(prodcheck_certificate_expiry_timestamp_seconds{env="bad",item="cert"} - time()) / 86400"#,
    );
    assert!(
        (89.0..=90.0).contains(&good_days),
        "good certificate: {good_days} days"
    );
    assert!(
        (9.0..=10.0).contains(&bad_days),
        "bad certificate: {bad_days} days"
    );
    let (_, p95) = wait_series(
        port,
        r#"prodcheck_latency_seconds{env="good",item="speed",quantile="0.95"}"#,
    );
    assert!(p95 > 0.0 && p95 < 5.0, "p95 {p95}");
    wait_series(
        port,
        r#"prodcheck_http_response_seconds{env="good",item="health"}"#,
    );
    let (_, good_code) = wait_series(port, r#"prodcheck_run_exit_code{env="good"} == 0"#);
    let (_, bad_code) = wait_series(port, r#"prodcheck_run_exit_code{env="bad"} == 1"#);
    assert_eq!((good_code, bad_code), (0.0, 1.0));
    wait_series(port, r#"up{job="prodcheck-good"} == 1"#);
    // Scrapes ran neither the disruptive probe nor the manual item: no series for them, and
    // the services never saw a request on /burst.
    for item in ["burst", "runbook"] {
        let series = prom_query(port, &format!(r#"prodcheck_item_status{{item="{item}"}}"#));
        assert!(series.is_empty(), "{item} appeared: {series:?}");
    }
    assert_eq!(
        good.hits.load(Ordering::SeqCst) + bad.hits.load(Ordering::SeqCst),
        0
    );
}

fn ca_file(ca: &pki::Pki) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("serve-ca")
        .tempdir()
        .expect("dir")
        .keep();
    let path = dir.join("ca.pem");
    std::fs::write(&path, &ca.ca_pem).expect("write CA");
    path
}

#[test]
fn a_scrape_can_name_only_what_the_config_defines() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    // A canary standing in for anything a scrape might try to reach.
    let canary = RawServer::respond(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let p = project(&[("good", &good)], &ca_file(&ca));
    let serve = exporter(&p, &[]);
    let c = canary.url("/");
    let cases: &[(&str, u16)] = &[
        (&format!("/probe?checklist=svc&env=good&target={c}"), 400),
        (&format!("/probe?checklist=svc&env=good&url={c}"), 400),
        (
            &format!("/probe?checklist=svc&env=good&var=base_url%3D{c}"),
            400,
        ),
        (
            &format!("/probe?checklist=svc&env=good&host={}", canary.addr),
            400,
        ),
        ("/probe?checklist=svc&env=good&debug=1", 400),
        ("/probe?checklist=svc&checklist=svc", 400),
        ("/probe?env=good", 400),
        ("/probe?checklist=..%2F..%2Fetc%2Fpasswd", 400),
        ("/probe?checklist=%2Ftmp%2Fx.yaml", 400),
        ("/probe?checklist=svc&env=good&item=burst", 400),
        ("/probe?checklist=svc&env=good&item=runbook", 400),
        ("/probe?checklist=nope&env=good", 404),
        ("/probe?checklist=pre-deploy&env=good", 404),
        ("/probe?checklist=svc&env=production", 404),
        ("/probe?checklist=svc&env=good&item=nope", 404),
        ("/probe?checklist=svc&env=good&tag=nope", 404),
        ("/elsewhere", 404),
    ];
    for (path, want) in cases {
        let (status, body) = get_http(serve.port, path, &[]);
        assert_eq!(status, *want, "{path}: {body}");
        assert_eq!(
            body.trim_end().lines().count(),
            1,
            "{path}: one line, got {body:?}"
        );
    }
    assert_eq!(
        canary.accepted.load(Ordering::SeqCst),
        0,
        "a scrape reached the canary"
    );
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=good&target=x", &[]);
    assert_eq!(status, 400);
    assert!(body.contains("cannot choose what is probed"), "{body}");
    let (_, body) = get_http(serve.port, "/probe?checklist=svc&env=production", &[]);
    assert!(body.contains("known: good"), "{body}");
    let (_, metrics) = get_http(serve.port, "/metrics", &[]);
    let bad_requests = sample(
        &metrics,
        "prodcheck_exporter_requests_rejected_total",
        &[r#"reason="bad_request""#],
    );
    assert_eq!(bad_requests, Some(12.0), "{metrics}");
    // A good scrape still works, and runs only the automated, non-disruptive items.
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=good&item=health", &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &[r#"item="health""#, r#"status="pass""#]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[r#"env="good""#]),
        Some(0.0),
        "{body}"
    );
    assert!(
        !body.contains(r#"item="cert""#),
        "item= narrows the run: {body}"
    );
    // Whole answers are valid exposition text, lint included.
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=good", &[]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("# TYPE prodcheck_latency_seconds summary"),
        "{body}"
    );
    for family in [
        "prodcheck_certificate_expiry_timestamp_seconds",
        "prodcheck_item_duration_seconds",
    ] {
        assert!(
            body.contains(&format!("# TYPE {family} gauge")),
            "{family}: {body}"
        );
    }
    promtool_check_metrics(&body);
    promtool_check_metrics(&get_http(serve.port, "/metrics", &[]).1);
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

#[test]
fn waivers_recorded_with_prodcheck_waive_apply_to_scrapes() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let bad = service(&ca, 500, 90);
    let p = project(&[("bad", &bad)], &ca_file(&ca));
    let serve = exporter(&p, &[]);
    let path = "/probe?checklist=svc&env=bad&item=health";
    let (_, body) = get_http(serve.port, path, &[]);
    assert_eq!(
        sample(&body, "prodcheck_item_status", &[r#"status="fail""#]),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[]),
        Some(1.0),
        "{body}"
    );
    let ran = run(p.cmd().args([
        "waive",
        "svc",
        "health",
        "--reason",
        "known outage",
        "--until",
        "2099-01-01",
        "--by",
        "ops",
    ]));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // Read at every scrape: no reload needed.
    let (_, body) = get_http(serve.port, path, &[]);
    assert_eq!(
        sample(&body, "prodcheck_item_status", &[r#"status="waived""#]),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[]),
        Some(0.0),
        "{body}"
    );
    assert!(
        !p.path().join(".prodcheck/history").exists(),
        "scrapes write no history"
    );
}

#[test]
fn the_answer_comes_before_the_scrape_timeout() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let p = project(&[("good", &good)], &ca_file(&ca));
    let serve = exporter(&p, &["--timeout-offset", "500ms"]);
    let started = Instant::now();
    let (status, body) = get_http(
        serve.port,
        "/probe?checklist=slow&env=good",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "2")],
    );
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(
        took < Duration::from_secs(2),
        "answered after the scrape timeout: {took:?}"
    );
    assert!(
        took >= Duration::from_millis(1400),
        "answered early: {took:?}"
    );
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &[r#"item="slow""#, r#"status="error""#]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &[r#"item="health""#, r#"status="pass""#]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[]),
        Some(3.0),
        "{body}"
    );
    let (_, metrics) = get_http(serve.port, "/metrics", &[]);
    assert_eq!(
        sample(
            &metrics,
            "prodcheck_exporter_timed_out_items_total",
            &[r#"env="good""#]
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "prodcheck_exporter_runs_in_flight", &[]),
        Some(0.0)
    );
    let (status, body) = get_http(
        serve.port,
        "/probe?checklist=svc&env=good",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "soon")],
    );
    assert_eq!(status, 400, "{body}");
}

#[test]
fn basic_auth_and_tls_come_from_the_web_config() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let p = project(&[("good", &good)], &ca_file(&ca));
    let leaf = ca.leaf_for_days(&["localhost"], 30).expect("leaf");
    p.file("tls/serve.crt", &leaf.cert_pem);
    p.file("tls/serve.key", &leaf.key_pem().expect("key pem"));
    let hash = bcrypt::hash("s3cret", 4).expect("hash");
    p.file(
        "tls/web.yml",
        &format!("tls_server_config:\n  cert_file: serve.crt\n  key_file: serve.key\nbasic_auth_users:\n  prometheus: '{hash}'\n"),
    );
    let serve = exporter(&p, &["--web.config.file", "tls/web.yml"]);
    let get = |path: &str, auth: Option<&str>| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.ca_der.clone()).expect("root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        let tcp = TcpStream::connect(("127.0.0.1", serve.port)).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let header = auth.map(|a| ("Authorization", a));
        exchange(&mut tls, path, header.as_slice())
    };
    use base64::Engine as _;
    let basic = |user: &str, pass: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
    };
    for path in [
        "/metrics",
        "/probe?checklist=svc&env=good",
        "/probe?checklist=svc&target=x",
    ] {
        assert_eq!(get(path, None).0, 401, "{path} without credentials");
        assert_eq!(
            get(path, Some(&basic("prometheus", "wrong"))).0,
            401,
            "{path}"
        );
        assert_eq!(get(path, Some(&basic("nobody", "s3cret"))).0, 401, "{path}");
    }
    let (status, body) = get(
        "/probe?checklist=svc&env=good&item=health",
        Some(&basic("prometheus", "s3cret")),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#"item="health",severity="critical",status="pass""#),
        "{body}"
    );
    let (_, metrics) = get("/metrics", Some(&basic("prometheus", "s3cret")));
    assert_eq!(
        sample(
            &metrics,
            "prodcheck_exporter_requests_rejected_total",
            &[r#"reason="unauthorized""#]
        ),
        Some(9.0),
        "{metrics}"
    );
    // Plain HTTP to the TLS port gets no metrics.
    let (status, _) = get_http(serve.port, "/metrics", &[]);
    assert_ne!(status, 200);
}

#[test]
fn a_public_listener_needs_auth_and_bad_web_configs_stop_the_start() {
    let p = Project::new();
    let ran = run(p.cmd().args(["serve", "--listen", "0.0.0.0:0"]));
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("not a loopback address"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("--web.config.file"), "{}", ran.stderr);
    p.file("web.yml", "basic_auth_users:\n  prometheus: hunter2\n");
    let ran = run(p.cmd().args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--web.config.file",
        "web.yml",
    ]));
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("basic_auth_users.prometheus is not a bcrypt hash"),
        "{}",
        ran.stderr
    );
    p.file(
        "web.yml",
        "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_ca_file: ca.pem\n",
    );
    let ran = run(p.cmd().args(["serve", "--web.config.file", "web.yml"]));
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("client_ca_file"), "{}", ran.stderr);
    let ran = run(p.cmd().args(["serve", "--checklist", "nope"]));
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("--checklist `nope`"), "{}", ran.stderr);
}

#[test]
fn sighup_reloads_and_a_bad_config_keeps_the_old_one() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let ca_path = ca_file(&ca);
    let p = project(&[("good", &good)], &ca_path);
    let serve = exporter(&p, &[]);
    let hup = || {
        let pid = serve.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
    };
    let reloads = |result: &str| {
        let (_, m) = get_http(serve.port, "/metrics", &[]);
        sample(
            &m,
            "prodcheck_exporter_config_reloads_total",
            &[&format!(r#"result="{result}""#)],
        )
    };
    p.file("prodcheck.yaml", "environments:\n  good:\n    varz: {}\n");
    hup();
    assert!(wait_until(Duration::from_secs(10), || reloads("failure") == Some(1.0)));
    let (_, m) = get_http(serve.port, "/metrics", &[]);
    assert_eq!(
        sample(&m, "prodcheck_exporter_config_last_reload_successful", &[]),
        Some(0.0)
    );
    let log = std::fs::read_to_string(p.path().join("serve.log")).unwrap_or_default();
    assert!(log.contains("still serving the previous config"), "{log}");
    assert!(
        log.contains("prodcheck.yaml:3:5"),
        "the log says where: {log}"
    );
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=good&item=health", &[]);
    assert_eq!(status, 200, "the old config still answers: {body}");
    drop(project_with_second_env(&p, &good, &ca_path));
    hup();
    assert!(wait_until(Duration::from_secs(10), || reloads("success") == Some(2.0)));
    let (status, body) = get_http(
        serve.port,
        "/probe?checklist=svc&env=second&item=health",
        &[],
    );
    assert_eq!(status, 200, "the new environment answers: {body}");
}

/// Rewrites `p`'s config with the environments `good` and `second`.
fn project_with_second_env(p: &Project, svc: &Service, ca: &Path) -> PathBuf {
    let vars = format!(
        "{{ base_url: \"{}\", ca_file: \"{}\" }}",
        svc.app.https_url(""),
        ca.display()
    );
    p.file(
        "prodcheck.yaml",
        &format!("environments:\n  good:\n    vars: {vars}\n  second:\n    vars: {vars}\n"),
    )
}

#[test]
fn shipped_prometheus_examples_pass_promtool() {
    let Some(promtool) = require_binary("promtool", "prometheus") else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus");
    for args in [
        vec!["check", "rules", "rules.yml"],
        vec!["test", "rules", "rules_test.yml"],
        vec!["check", "config", "prometheus.yml"],
        vec!["check", "web-config", "web-config.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("promtool");
        assert!(
            out.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every prodcheck metric the rules and the dashboard use is documented in the README.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let dashboard = std::fs::read_to_string(dir.join("grafana-dashboard.json")).expect("dashboard");
    serde_json::from_str::<serde_json::Value>(&dashboard).expect("the dashboard is JSON");
    let rules = std::fs::read_to_string(dir.join("rules.yml")).expect("rules");
    for text in [&dashboard, &rules] {
        for name in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if name.starts_with("prodcheck_") {
                assert!(
                    readme.contains(name),
                    "`{name}` is used in examples/prometheus but not documented in README.md"
                );
            }
        }
    }
}
