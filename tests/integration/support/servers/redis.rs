//! A real `redis-server` on 127.0.0.1 with a password, on a free port in a temp dir, plain or
//! TLS; stopped by its PID.

use std::process::Command;
use std::time::Duration;

use crate::support::process::{ServerProcess, closed_port, require_binary};

pub const REDIS_PASSWORD: &str = "s3cr3t-redis-pw";

pub fn start_redis() -> Option<ServerProcess> {
    start_redis_with(|_| Vec::new())
}

/// Starts redis-server with what `more` returns for its temp dir. With such (TLS)
/// arguments, `port` is the TLS port and the plain port is off.
pub fn start_redis_with(
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
    let mut cmd = Command::new(binary);
    cmd.args(["--bind", "127.0.0.1"])
        .args(&ports)
        .args(&extra)
        .args(["--requirepass", REDIS_PASSWORD, "--maxmemory", "100mb"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path())
        .arg("--logfile")
        .arg(&log);
    let mut server = ServerProcess::spawn("redis-server", &mut cmd, port, dir, "-TERM", None);
    server.wait_listening(Duration::from_secs(10), &log);
    Some(server)
}
