//! Test support: a CLI case builder, temp checklists, and servers on 127.0.0.1 that the
//! tests start and stop themselves (in-process, on a runtime of their own).

#![allow(dead_code, reason = "each test module uses a different subset")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use assert_cmd::Command;

/// The real binary with a clean, non-interactive environment.
pub fn prodcheck() -> Command {
    let mut cmd = Command::cargo_bin("prodcheck").expect("binary built");
    cmd.env_remove("NO_COLOR")
        .env("CI", "true")
        .timeout(Duration::from_secs(120));
    // Tests talk to 127.0.0.1: a proxy configured on the machine must not carry them (the
    // proxy tests set these explicitly).
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A temporary project directory holding checklists.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Self {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` with `text` and returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// `prodcheck` running in this directory.
    pub fn cmd(&self) -> Command {
        let mut cmd = prodcheck();
        cmd.current_dir(self.dir.path());
        cmd
    }
}

/// Output of a finished command as text.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Ran {
    let out = cmd.output().expect("run prodcheck");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What a background server's set-up hands back: its address, and a future that serves until
/// it is dropped.
pub type Serving = (
    SocketAddr,
    std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
);

/// A server running on a thread with its own tokio runtime, so that tests (which block on the
/// `prodcheck` process) can use async servers. Stopped and joined on drop.
pub struct Background {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Background {
    /// Runs `start` on the server thread: it binds, then returns the address and the serving
    /// future.
    pub fn spawn<F, Fut>(start: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Serving>,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let (addr, serve) = start().await;
                addr_tx.send(addr).expect("send addr");
                tokio::select! {
                    _ = serve => {}
                    _ = stop_rx => {}
                }
            });
        });
        let addr = addr_rx.recv().expect("server address");
        Background {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Keeps `guard` (a handle that stops its server when dropped) alive until shutdown.
    pub fn hold<T: 'static>(addr: SocketAddr, guard: T) -> Serving {
        (
            addr,
            Box::pin(async move {
                std::future::pending::<()>().await;
                drop(guard);
            }),
        )
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An axum app served on 127.0.0.1 (plain or TLS); stops on drop.
pub struct AppServer {
    pub addr: SocketAddr,
    _server: Background,
}

impl AppServer {
    pub fn start(app: axum::Router) -> Self {
        let server = Background::spawn(move || async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let serve: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> =
                Box::pin(async move {
                    let _ = axum::serve(listener, app).await;
                });
            (addr, serve)
        });
        AppServer {
            addr: server.addr,
            _server: server,
        }
    }

    /// Serves `app` over TLS with `tls` (see `prodcheck::demo::pki` for certificates).
    pub fn start_tls(app: axum::Router, tls: rustls::ServerConfig) -> Self {
        let server = Background::spawn(move || async move {
            let https = prodcheck::demo::service::serve_https(app, tls, 0)
                .await
                .expect("serve https");
            Background::hold(https.addr, https)
        });
        AppServer {
            addr: server.addr,
            _server: server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }
}

/// A raw TCP server whose connections are handled by `handler` on their own threads.
pub struct RawServer {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl RawServer {
    pub fn start(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let handler = Arc::new(handler);
        let (stop2, accepted2) = (stop.clone(), accepted.clone());
        let thread = thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        accepted2.fetch_add(1, Ordering::Relaxed);
                        let _ = stream.set_nonblocking(false);
                        let h = handler.clone();
                        thread::spawn(move || h(stream));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RawServer {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// Accepts connections and never answers (holds them open for a minute).
    pub fn silent() -> Self {
        Self::start(|mut s| {
            let mut buf = [0u8; 1024];
            let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
            let _ = s.read(&mut buf);
            thread::sleep(Duration::from_secs(60));
        })
    }

    /// Answers every request with the given raw HTTP response bytes.
    pub fn respond(response: &'static [u8]) -> Self {
        Self::start(move |mut s| {
            let mut buf = [0u8; 4096];
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.read(&mut buf);
            let _ = s.write_all(response);
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Parses stdout as the JSON report.
pub fn json(ran: &Ran) -> serde_json::Value {
    serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", ran.stdout))
}

/// The report item with `id`.
pub fn item<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == id))
        .unwrap_or_else(|| panic!("no item `{id}` in report"))
}

/// A real server binary; a missing one fails the test (see [`missing`]).
pub fn require_binary(name: &str, package: &str) -> Option<PathBuf> {
    if hidden(name) {
        missing(&format!("`{name}`"), &format!("apt-get install {package}"));
        return None;
    }
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let extra = [
        "/usr/sbin",
        "/sbin",
        "/usr/lib/postgresql/15/bin",
        "/usr/lib/postgresql/16/bin",
        "/usr/lib/postgresql/17/bin",
    ];
    for dir in candidates
        .into_iter()
        .chain(extra.iter().map(PathBuf::from))
    {
        let path = dir.join(name);
        if path.is_file() {
            return Some(path);
        }
    }
    missing(&format!("`{name}`"), &format!("apt-get install {package}"));
    None
}

/// Whether `PRODCHECK_TEST_HIDE` (`nginx,psql` or `all`) makes `name` look missing: for
/// measuring what a machine without the servers runs.
pub fn hidden(name: &str) -> bool {
    std::env::var("PRODCHECK_TEST_HIDE")
        .unwrap_or_default()
        .split(',')
        .any(|h| h == name || h == "all")
}

/// A test cannot run because something real is missing. It fails, naming what to install,
/// unless the developer opted out with `PRODCHECK_ALLOW_MISSING_SERVERS=1`: then the skip is
/// written past the test harness's output capture and appended to `skipped_list()`, which
/// `scripts/test.sh --allow-missing-servers` prints at the end. CI never opts out.
pub fn missing(what: &str, install: &str) {
    let why = format!("{what} is missing: {install}");
    if std::env::var("PRODCHECK_ALLOW_MISSING_SERVERS").as_deref() != Ok("1") {
        panic!(
            "{why}\n(scripts/test.sh installs it when run as root; PRODCHECK_ALLOW_MISSING_SERVERS=1 skips such tests explicitly)"
        );
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let line = format!("SKIPPED {test}: {why}\n");
    // `eprintln!` would be captured and hidden for a passing test; this is not.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(skipped_list())
    {
        let _ = std::io::Write::write_all(&mut f, line.as_bytes());
    }
}

/// Where opted-out skips are listed (one line each).
pub fn skipped_list() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("prodcheck-skipped-tests.txt")
}

/// Whether `python3` can import `module` (installed by `.ci/run` with `pip install {pip}`); a
/// missing one fails the test (see [`missing`]).
pub fn require_python_module(module: &str, pip: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        missing(
            &format!("python3 module `{module}`"),
            &format!("pip install '{pip}'"),
        );
    }
    ok
}

/// Runs a Python script with `args`; panics with its output if it fails.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python consumer rejected the report:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// insta settings that hide what changes between runs: durations, dates, ports, versions.
pub fn stable_snapshots() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    for (re, with) in [
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r#""duration_ms": \d+"#, r#""duration_ms": [MS]"#),
        (r"duration_ms: \d+", "duration_ms: [MS]"),
        (r#"time="[0-9.]+""#, r#"time="[S]""#),
        (r"in \d+\.\ds", "in [S]s"),
        (r"_seconds\{(.*)\} [0-9.e+]+", "_seconds{$1} [VALUE]"),
        (r" in \d+ ms", " in [N] ms"),
        (r", \d+(\.\d)?m?s\]", ", [MS]]"),
        (r#""latency_ms": \d+"#, r#""latency_ms": [MS]"#),
        (r"latency_ms: \d+", "latency_ms: [MS]"),
        (
            r#"(?m)^( {10})"version": "[^"]+""#,
            r#"$1"version": "[VERSION]""#,
        ),
    ] {
        s.add_filter(re, with);
    }
    s
}

/// A checklist with one item per `(id, check)`, each under `timeout`; `check` is the probe
/// block in YAML flow style (`exec: { shell: "exit 0" }`).
pub fn checklist_of(timeout: &str, items: &[(&str, &str)]) -> String {
    let mut text = String::from("name: t\nsections:\n  - name: S\n    items:\n");
    for (id, check) in items {
        text.push_str(&format!(
            "      - id: {id}\n        title: {id}\n        timeout: {timeout}\n        check: {{ {check} }}\n"
        ));
    }
    text
}

/// Runs the checklist text in a fresh project with `--report json`.
pub fn run_checklist(text: &str) -> Ran {
    run_checklist_with_env(text, &[])
}

/// As `run_checklist`, with extra environment variables (secrets for `${env:…}`).
pub fn run_checklist_with_env(text: &str, env: &[(&str, &str)]) -> Ran {
    let p = Project::new();
    let file = p.file("c.yaml", text);
    let mut cmd = p.cmd();
    cmd.envs(env.iter().copied());
    run(cmd.args(["run", file.to_str().unwrap_or_default(), "--report", "json"]))
}

/// The message of report item `id`.
pub fn message(report: &serde_json::Value, id: &str) -> String {
    item(report, id)["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Whether process `pid` is gone (absent, or a zombie nobody reaped yet).
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Polls `ready` every 50 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if ready() {
            return true;
        }
        thread::sleep(Duration::from_millis(50));
    }
    ready()
}

/// A server process a test started; stopped by its PID on drop (`stop_signal` first, then
/// SIGKILL), never by name.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub stop_signal: &'static str,
}

impl ServerProcess {
    /// Waits until the server accepts TCP connections on its port, or panics with its log.
    pub fn wait_listening(&mut self, limit: Duration, log: &Path) {
        let port = self.port;
        let up = wait_until(limit, || TcpStream::connect(("127.0.0.1", port)).is_ok());
        if !up {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            panic!("server on port {port} did not start:\n{text}");
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args([self.stop_signal, pid.as_str()])
            .status();
        let stopped = wait_until(Duration::from_secs(5), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        if !stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A generated leaf's private key as PEM, for servers that read key files.
pub fn key_pem(leaf: &prodcheck::demo::pki::Leaf) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in leaf.key_der.secret_pkcs8_der().chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n")
}

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
    let child = std::process::Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra)
        .stdout(std::process::Stdio::null())
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
    server
}
