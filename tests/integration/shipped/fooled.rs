//! Shipped items against servers that fooled their old versions: an nginx limiter without
//! Retry-After, a WebSocket heartbeat saying `ping`, a fast 401, `max-age=0`, a stale DNS
//! record, a walsender in pg_stat_activity, the repository scanned instead of the image.

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::http::header;
use axum::routing::get;

use crate::support::*;

/// Runs `ids` of the shipped `checklist` with `vars`; the exit code and the JSON report.
fn shipped(checklist: &str, ids: &[&str], vars: &[(&str, String)]) -> (i32, serde_json::Value) {
    let p = Project::new();
    let mut cmd = p.cmd();
    cmd.args(["run", checklist, "--non-interactive", "--report", "json"]);
    for id in ids {
        cmd.args(["--only", id]);
    }
    for (k, v) in vars {
        cmd.arg("--var").arg(format!("{k}={v}"));
    }
    let ran = run(&mut cmd);
    assert!(
        !ran.stdout.trim().is_empty(),
        "no report (exit {}): {}",
        ran.code,
        ran.stderr
    );
    (ran.code, json(&ran))
}

fn status_and_message(report: &serde_json::Value, id: &str) -> (String, String) {
    crate::shipped::conventions::status_and_message(report, id)
}

/// nginx `limit_req` as shipped: 503 and no Retry-After. The limiter works: a warning naming
/// the nginx recipe, not the failure `require_retry_after: true` made of it.
#[test]
fn a_working_nginx_limiter_without_retry_after_warns_with_the_recipe() {
    let conf = "limit_req_zone $binary_remote_addr zone=z:1m rate=1r/m;\n  server { listen 127.0.0.1:{PORT0}; root {DIR}/www; location / { limit_req zone=z burst=3 nodelay; } }";
    let Some(nginx) = crate::support::Nginx::start(1, conf) else {
        return;
    };
    nginx.write("www/index.html", "ok\n");
    let (code, report) = shipped(
        "pre-deploy",
        &["rate-limiting"],
        &[("rate_limit_url", nginx.url(0, "/"))],
    );
    let (status, message) = status_and_message(&report, "rate-limiting");
    assert_eq!(status, "warn", "{message}");
    // The shipped item bursts 8 at a time: which request was first refused varies.
    assert!(
        message.contains("throttled at request") && message.contains("with 503"),
        "{message}"
    );
    assert!(
        message.contains("limit_req_status 429;")
            && message.contains("add_header Retry-After 60 always;"),
        "{message}"
    );
    assert_eq!(code, 0, "a warning does not gate: {report}");
    let fix = item(&report, "rate-limiting")["fix"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(fix.contains("limit_req_status 429"), "{fix}");
}

/// A socket that only pushes ActionCable-style frames (`{"type":"ping",…}`): the old item
/// (`send: ping`, `expect: ping`) passed it; an echo of a token made up for the run does not.
#[test]
fn a_heartbeat_saying_ping_is_not_an_echo() {
    let heartbeat = AppServer::start(Router::new().route(
        "/cable",
        get(|ws: WebSocketUpgrade| async move {
            ws.on_upgrade(|mut socket| async move {
                let _ = socket.send(Message::text(r#"{"type":"welcome"}"#)).await;
                for n in 0..50u32 {
                    let frame = format!(r#"{{"type":"ping","message":{n}}}"#);
                    if socket.send(Message::text(frame)).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        }),
    ));
    let url = format!("ws://127.0.0.1:{}/cable", heartbeat.addr.port());
    let (_, report) = shipped("pre-deploy", &["websocket-echo"], &[("ws_url", url)]);
    let (status, message) = status_and_message(&report, "websocket-echo");
    assert_eq!(status, "fail", "{message}");
    assert!(message.contains("the endpoint does not echo"), "{message}");
    assert!(message.contains("prodcheck-echo-"), "{message}");

    let echo = crate::support::echo_server(None);
    let url = format!("ws://127.0.0.1:{}/", echo.addr.port());
    let (_, report) = shipped("post-deploy", &["realtime-websocket"], &[("ws_url", url)]);
    let (status, message) = status_and_message(&report, "realtime-websocket");
    assert_eq!(status, "pass", "{message}");
}

/// An API that answers 401 in a millisecond is not fast: the latency items expect 200.
#[test]
fn a_fast_401_is_not_a_fast_success() {
    let api = AppServer::start(Router::new().route(
        "/api/orders",
        get(|| async { (axum::http::StatusCode::UNAUTHORIZED, "log in\n") }),
    ));
    let (_, report) = shipped(
        "pre-deploy",
        &["response-times"],
        &[("api_url", api.url("/api/orders"))],
    );
    let (status, message) = status_and_message(&report, "response-times");
    assert_eq!(status, "fail", "{message}");
    assert!(message.contains("status 401, expected 200"), "{message}");
}

/// `max-age=0` contains `max-age=` (the old substring check) and no header at all is no CDN
/// configuration either; a year, immutable, is.
#[test]
fn max_age_zero_or_no_cache_header_is_not_a_cdn_configuration() {
    let asset = AppServer::start(
        Router::new()
            .route(
                "/zero.js",
                get(|| async { ([(header::CACHE_CONTROL, "public, max-age=0")], "x") }),
            )
            .route("/none.js", get(|| async { "x" }))
            .route(
                "/year.js",
                get(|| async {
                    (
                        [
                            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                            (header::AGE, "42"),
                        ],
                        "x",
                    )
                }),
            ),
    );
    for (path, want, says) in [
        ("/zero.js", "fail", "keeps it 0 s, under min_max_age 1day"),
        ("/none.js", "fail", "no Cache-Control header"),
        ("/year.js", "pass", "max-age=31536000"),
    ] {
        let (_, report) = shipped(
            "pre-deploy",
            &["cdn-config"],
            &[("static_asset_url", asset.url(path))],
        );
        let (status, message) = status_and_message(&report, "cdn-config");
        assert_eq!(status, want, "{path}: {message}");
        assert!(message.contains(says), "{path}: {message}");
    }
}

const ZONE: &str = r#"
$ORIGIN shop.fooled.test.
$TTL 300
@      IN SOA  ns1.shop.fooled.test. admin.shop.fooled.test. 2026120701 3600 600 86400 300
@      IN NS   ns1.shop.fooled.test.
ns1    IN A    127.0.0.1
@      IN A    127.0.0.1
@      IN A    127.0.0.9
"#;

/// A stale second address beside the load balancer's passed the old subset check; now it
/// fails, and with no expected addresses the item says what the name resolved to.
#[test]
fn domain_resolves_says_what_it_found_and_a_stale_address_fails() {
    let dns = Background::spawn(|| async {
        let dns = prodcheck::demo::dns::serve("shop.fooled.test.", ZONE)
            .await
            .expect("dns server");
        Background::hold(dns.addr, dns)
    });
    let vars = |expected: &str| {
        vec![
            ("dns_name", "shop.fooled.test".to_string()),
            ("nameserver", dns.addr.to_string()),
            ("expected_addresses", expected.to_string()),
        ]
    };
    let (_, report) = shipped("pre-deploy", &["domain-resolves"], &vars("[127.0.0.1]"));
    let (status, message) = status_and_message(&report, "domain-resolves");
    assert_eq!(status, "fail", "{message}");
    assert!(message.contains("unexpected `127.0.0.9`"), "{message}");
    let (_, report) = shipped("pre-deploy", &["domain-resolves"], &vars("[]"));
    let (status, message) = status_and_message(&report, "domain-resolves");
    assert_eq!(status, "pass", "{message}");
    assert!(
        message.contains("127.0.0.1") && message.contains("any answer accepted"),
        "{message}"
    );
    let (_, report) = shipped(
        "pre-deploy",
        &["domain-resolves"],
        &vars("[127.0.0.1, 127.0.0.9]"),
    );
    assert_eq!(status_and_message(&report, "domain-resolves").0, "pass");
}

/// The scan runs `trivy image IMAGE` when the image that ships is named (the old default
/// scanned the working tree whatever shipped), and `trivy fs .` otherwise.
#[test]
fn the_security_scan_scans_the_named_image() {
    let p = Project::new();
    let bin = p.path().join("bin");
    let log = p.path().join("trivy.args");
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\necho 'Total: 0 (HIGH: 0, CRITICAL: 0)'\n",
        log.display()
    );
    let trivy = p.file("bin/trivy", &script);
    std::fs::set_permissions(&trivy, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (image, scanned) in [
        (
            Some("registry.test/shop:1.4.2"),
            "image --exit-code 2 --severity HIGH,CRITICAL --no-progress registry.test/shop:1.4.2",
        ),
        (
            None,
            "fs --exit-code 2 --severity HIGH,CRITICAL --no-progress .",
        ),
    ] {
        let _ = std::fs::remove_file(&log);
        for checklist in ["pre-deploy", "maintenance"] {
            let mut cmd = p.cmd();
            cmd.env("PATH", &path)
                .args(["run", checklist, "--only", "security-scan", "--all"])
                .args(["--non-interactive", "--report", "json"]);
            if let Some(i) = image {
                cmd.args(["--var", &format!("image={i}")]);
            }
            let ran = run(&mut cmd);
            let (status, message) = status_and_message(&json(&ran), "security-scan");
            assert_eq!(status, "pass", "{checklist}: {message}");
        }
        let args = std::fs::read_to_string(&log).expect("trivy ran");
        let lines: Vec<&str> = args.lines().collect();
        assert_eq!(lines, [scanned, scanned], "{args}");
    }
}

/// One value from `sql` as the postgres superuser.
fn psql_value(port: u16, sql: &str) -> String {
    let Some(bin) = require_binary("psql", "postgresql-client") else {
        panic!("psql is needed to read pg_stat_activity");
    };
    let out = std::process::Command::new(bin)
        .env("PGPASSWORD", crate::support::PG_PASSWORD)
        .args(["-X", "-q", "-t", "-A", "-h", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres"])
        .args(["-c", sql])
        .output()
        .expect("run psql");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A replica streaming from the primary (here `pg_receivewal`) keeps a walsender "active" for
/// as long as it streams: the old query counted it as a query running over 5 s. Client
/// backends only; and the same replica satisfies a stated `min_replicas: 1`.
#[test]
fn a_walsender_is_not_a_slow_query_and_counts_as_a_replica() {
    let Some((pg, _)) = crate::support::start_postgres(false) else {
        return;
    };
    let Some(bin) = crate::support::postgres_bin_dir() else {
        return;
    };
    let wal = tempfile::tempdir().expect("wal dir");
    let mut receiver = std::process::Command::new(bin.join("pg_receivewal"))
        .env("PGPASSWORD", crate::support::PG_PASSWORD)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            "postgres",
        ])
        .arg("-D")
        .arg(wal.path())
        .args(["--no-loop", "--no-sync"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start pg_receivewal");
    let old_query = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' \
                     AND now() - query_start > interval '5 seconds'";
    let streaming = wait_until(Duration::from_secs(20), || {
        psql_value(pg.port, old_query) == "1"
    });
    let database_url = format!(
        "postgres://postgres:{}@127.0.0.1:{}/postgres",
        crate::support::PG_PASSWORD,
        pg.port
    );
    let post = shipped(
        "post-deploy",
        &["database-performance"],
        &[("database_url", database_url.clone())],
    );
    let deploy = shipped(
        "deploy",
        &["database-replicas"],
        &[
            ("database_url", database_url),
            ("min_replicas", "1".to_string()),
        ],
    );
    let _ = receiver.kill();
    let _ = receiver.wait();
    assert!(
        streaming,
        "the walsender did not show as a 5 s active backend (the old query's false alarm)"
    );
    let (status, message) = status_and_message(&post.1, "database-performance");
    assert_eq!(status, "pass", "{message}");
    let (status, message) = status_and_message(&deploy.1, "database-replicas");
    assert_eq!(status, "pass", "{message}");
}

/// The Prometheus form of the backup checks against a real Prometheus: a backup job that
/// reports a success 10 minutes ago passes all three checklists, 3 days ago fails them, and
/// a job that never reported is "not recorded", not a pass.
#[test]
fn backups_checked_through_prometheus_follow_the_last_success_time() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let job = |age: u64| {
        let at = now - age;
        AppServer::start(Router::new().route(
            "/metrics",
            get(move || async move {
                format!("backup_last_success_timestamp_seconds{{database=\"shop\"}} {at}\n")
            }),
        ))
    };
    let (fresh, stale) = (job(600), job(3 * 86_400));
    let jobs = vec![
        ("backup-fresh".to_string(), vec![fresh.addr.port()]),
        ("backup-stale".to_string(), vec![stale.addr.port()]),
    ];
    let Some((_prom, url)) = crate::shipped::conventions::prometheus_with(&jobs) else {
        return;
    };
    for (metric, want, says) in [
        (
            "backup_last_success_timestamp_seconds{job=\"backup-fresh\"}",
            "pass",
            "is ",
        ),
        (
            "backup_last_success_timestamp_seconds{job=\"backup-stale\"}",
            "fail",
            "found 259",
        ),
        (
            "backup_last_success_timestamp_seconds{job=\"backup-none\"}",
            "fail",
            "is not recorded",
        ),
    ] {
        for (checklist, id) in [
            ("pre-deploy", "fresh-backup-metric"),
            ("post-deploy", "backups-running-metric"),
            ("maintenance", "backups-completed-metric"),
        ] {
            let (_, report) = shipped(
                checklist,
                &[id],
                &[
                    ("prometheus_url", url.clone()),
                    ("backup_timestamp_metric", metric.to_string()),
                ],
            );
            let (status, message) = status_and_message(&report, id);
            assert_eq!(status, want, "{checklist}/{id} with {metric}: {message}");
            assert!(message.contains(says), "{checklist}/{id}: {message}");
        }
    }
}
