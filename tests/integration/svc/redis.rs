//! The `redis` probe against a real `redis-server` on 127.0.0.1 with a password, started on
//! a free port in a temp dir and stopped by its PID.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

pub(crate) const PASSWORD: &str = "s3cr3t-redis-pw";

pub(crate) fn start_redis() -> Option<ServerProcess> {
    start_redis_with(|_| Vec::new())
}

/// Starts redis-server with what `more` returns for its temp dir. With such (TLS)
/// arguments, `port` is the TLS port and the plain port is off.
pub(crate) fn start_redis_with(
    more: impl FnOnce(&std::path::Path) -> Vec<String>,
) -> Option<ServerProcess> {
    let binary = require_binary("redis-server", "redis-server")?;
    let dir = tempfile::tempdir().expect("redis dir");
    let port = closed_port();
    let log = dir.path().join("redis.log");
    let extra = more(dir.path());
    let ports: Vec<String> = if extra.is_empty() {
        vec!["--port".into(), port.to_string()]
    } else {
        vec![
            "--port".into(),
            "0".into(),
            "--tls-port".into(),
            port.to_string(),
        ]
    };
    let child = Command::new(binary)
        .args(["--bind", "127.0.0.1"])
        .args(&ports)
        .args(&extra)
        .args(["--requirepass", PASSWORD, "--maxmemory", "100mb"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path())
        .arg("--logfile")
        .arg(&log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let mut server = ServerProcess {
        child,
        port,
        dir,
        stop_signal: "-TERM",
    };
    server.wait_listening(Duration::from_secs(10), &log);
    Some(server)
}

fn redis_run(text: &str) -> Ran {
    run_checklist_with_env(text, &[("REDIS_PW", PASSWORD)])
}

#[test]
fn healthy_master_passes_ping_role_memory_and_persistence() {
    let Some(redis) = start_redis() else { return };
    let url = format!("redis://:${{env:REDIS_PW}}@127.0.0.1:{}/0", redis.port);
    let ran = redis_run(&checklist_of(
        "5s",
        &[(
            "cache",
            &format!(
                "redis: {{ url: '{url}', role: master, max_memory_ratio: 0.9, persistence: true }}"
            ),
        )],
    ));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert!(
        message(&report, "cache").contains("PONG"),
        "{}",
        message(&report, "cache")
    );
    assert_eq!(item(&report, "cache")["evidence"]["role"], "master");
    assert!(
        !ran.stdout.contains(PASSWORD),
        "password leaked: {}",
        ran.stdout
    );
}

#[test]
fn wrong_password_wrong_role_and_server_down_fail() {
    let Some(redis) = start_redis() else { return };
    let port = redis.port;
    let ran = redis_run(&checklist_of(
        "5s",
        &[
            (
                "badpw",
                &format!("redis: {{ url: 'redis://:wrong-pw@127.0.0.1:{port}' }}"),
            ),
            (
                "replica",
                &format!(
                    "redis: {{ url: 'redis://:${{env:REDIS_PW}}@127.0.0.1:{port}', role: replica }}"
                ),
            ),
            (
                "down",
                &format!("redis: {{ url: 'redis://127.0.0.1:{}' }}", closed_port()),
            ),
        ],
    ));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    for id in ["badpw", "replica", "down"] {
        assert_eq!(
            item(&report, id)["status"],
            "fail",
            "{id}: {}",
            message(&report, id)
        );
    }
    let badpw = message(&report, "badpw");
    assert!(badpw.contains(":***@"), "{badpw}");
    assert!(!badpw.contains("wrong-pw"), "{badpw}");
    assert!(
        message(&report, "replica").contains("role is master, expected replica"),
        "{}",
        message(&report, "replica")
    );
    assert!(message(&report, "down").contains("connection refused by 127.0.0.1:"));
}

#[test]
fn rediss_is_verified_against_ca_file() {
    let pki = prodcheck::demo::pki::Pki::new("prodcheck redis CA").expect("CA");
    let leaf = pki.leaf_for_days(&["127.0.0.1"], 30).expect("leaf");
    let mut ca_path = std::path::PathBuf::new();
    let Some(redis) = start_redis_with(|dir| {
        let (cert, key, ca) = (dir.join("tls.crt"), dir.join("tls.key"), dir.join("ca.pem"));
        std::fs::write(&cert, &leaf.cert_pem).expect("cert");
        std::fs::write(&key, key_pem(&leaf)).expect("key");
        std::fs::write(&ca, &pki.ca_pem).expect("ca");
        ca_path = ca.clone();
        ["--tls-cert-file", "--tls-key-file", "--tls-ca-cert-file"]
            .iter()
            .zip([&cert, &key, &ca])
            .flat_map(|(flag, path)| [flag.to_string(), path.display().to_string()])
            .chain(["--tls-auth-clients".to_string(), "no".to_string()])
            .collect()
    }) else {
        return;
    };
    let url = format!("rediss://:${{env:REDIS_PW}}@127.0.0.1:{}", redis.port);
    let ran = redis_run(&checklist_of(
        "5s",
        &[
            (
                "trusted",
                &format!(
                    "redis: {{ url: '{url}', ca_file: '{}' }}",
                    ca_path.display()
                ),
            ),
            ("untrusted", &format!("redis: {{ url: '{url}' }}")),
        ],
    ));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(
        item(&report, "trusted")["status"],
        "pass",
        "{}",
        message(&report, "trusted")
    );
    let untrusted = message(&report, "untrusted");
    assert_eq!(item(&report, "untrusted")["status"], "fail", "{untrusted}");
}
