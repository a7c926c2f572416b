//! Processes a test starts: one guard that stops a server by its PID on drop (never by name),
//! free ports, waiting, and what happens when a real server binary is missing.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A free port on 127.0.0.1 (bound, then released for a server to take).
pub fn free_port() -> u16 {
    closed_port()
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

/// A server process a test started: the one kill-on-drop guard of the test suite. Stopped by
/// its PID on drop (`stop_signal` first, then SIGKILL after 5 s), never by name. `dir` holds
/// its files (configuration, data, log) and goes with it.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub stop_signal: &'static str,
}

impl ServerProcess {
    /// Starts `cmd` (stdout discarded; stderr into `log` when given) as the server `what` on
    /// `port`, stopped with `stop_signal` on drop. Stdin is a pipe kept open, so servers that
    /// read commands from it (`openssl s_server`) keep running.
    pub fn spawn(
        what: &str,
        cmd: &mut Command,
        port: u16,
        dir: tempfile::TempDir,
        stop_signal: &'static str,
        log: Option<&Path>,
    ) -> ServerProcess {
        let stderr = match log {
            Some(log) => Stdio::from(std::fs::File::create(log).expect("log")),
            None => Stdio::null(),
        };
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        ServerProcess {
            child,
            port,
            dir,
            stop_signal,
        }
    }

    /// Waits until the server accepts TCP connections on its port, or panics with its log.
    pub fn wait_listening(&mut self, limit: Duration, log: &Path) {
        self.wait_port(self.port, limit, log);
    }

    /// Waits until `port` accepts TCP connections; panics with `log` when the server exits
    /// first or `limit` passes.
    pub fn wait_port(&mut self, port: u16, limit: Duration, log: &Path) {
        let mut exited = None;
        let up = wait_until(limit, || {
            if let Ok(Some(status)) = self.child.try_wait() {
                exited = Some(status);
                return true;
            }
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let text = || std::fs::read_to_string(log).unwrap_or_default();
        if let Some(status) = exited {
            panic!(
                "server exited ({status}) before listening on {port}:\n{}",
                text()
            );
        }
        if !up {
            panic!(
                "server on port {port} did not start within {limit:?}:\n{}",
                text()
            );
        }
    }

    /// A path in the server's directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
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
