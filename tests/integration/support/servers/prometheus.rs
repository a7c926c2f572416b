//! A real Prometheus on 127.0.0.1: scraping itself, or scraping the jobs a test names, and
//! an independent client (Python's urllib) to ask it what it stored.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::support::process::{ServerProcess, closed_port, require_binary, wait_until};

/// Starts a real Prometheus on 127.0.0.1:`port` with the configuration written at `config`
/// (data and log go into `dir`), and waits until it listens. Stopped by PID on drop.
pub fn launch_prometheus(
    binary: &Path,
    dir: tempfile::TempDir,
    port: u16,
    config: &Path,
) -> ServerProcess {
    launch_prometheus_with(binary, dir, port, config, &[])
}

/// As `launch_prometheus`, with `extra` arguments (`--web.config.file=…` for TLS).
pub fn launch_prometheus_with(
    binary: &Path,
    dir: tempfile::TempDir,
    port: u16,
    config: &Path,
    extra: &[String],
) -> ServerProcess {
    let log = dir.path().join("prometheus.log");
    let mut cmd = std::process::Command::new(binary);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra);
    let mut server = ServerProcess::spawn("prometheus", &mut cmd, port, dir, "-TERM", Some(&log));
    server.wait_listening(Duration::from_secs(30), &log);
    server
}

/// Whether the server already answers `up{job="self"}` with a sample.
fn scraped(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req =
        "GET /api/v1/query?query=up%7Bjob%3D%22self%22%7D HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.contains(r#""result":[{"#)
}

pub fn start_prometheus() -> Option<ServerProcess> {
    let binary = require_binary("prometheus", "prometheus")?;
    let dir = tempfile::tempdir().expect("prometheus dir");
    let port = closed_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\nscrape_configs:\n  - job_name: self\n    static_configs: [{{ targets: ['127.0.0.1:{port}'] }}]\n"
        ),
    )
    .expect("config");
    let log = dir.path().join("prometheus.log");
    let server = launch_prometheus(&binary, dir, port, &config);
    let recorded = wait_until(Duration::from_secs(30), || scraped(port));
    assert!(
        recorded,
        "no scrape recorded within 30s: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    Some(server)
}

/// A real Prometheus scraping each job's targets every second.
pub fn prometheus_scraping_jobs(jobs: &[(&str, &[u16])]) -> Option<ServerProcess> {
    let binary = require_binary("prometheus", "prometheus")?;
    let dir = tempfile::tempdir().expect("prometheus dir");
    let port = closed_port();
    let config = dir.path().join("prometheus.yml");
    let mut text =
        String::from("global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n");
    for (job, ports) in jobs {
        let targets: Vec<String> = ports.iter().map(|p| format!("'127.0.0.1:{p}'")).collect();
        text.push_str(&format!(
            "  - job_name: {job}\n    static_configs: [{{ targets: [{}] }}]\n",
            targets.join(", ")
        ));
    }
    std::fs::write(&config, text).expect("config");
    let server = launch_prometheus(&binary, dir, port, &config);
    Some(server)
}

/// Whether Prometheus at `url` answers the (URL-encoded) instant `query` with JSON holding
/// `expected`: one try, through an independent client (Python's urllib).
pub fn prometheus_says(url: &str, query: &str, expected: &str) -> bool {
    let query = format!("{url}/api/v1/query?query={query}");
    std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1],timeout=2).read().decode())",
            &query,
        ])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(expected))
}
