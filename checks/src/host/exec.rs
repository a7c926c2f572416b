//! `exec`: lets users plug in anything (`cargo audit`, test suites, scripts) by reading a
//! program's verdict the Nagios way; its own process group dies with it (timeout, Ctrl-C, end).
//!
//! Fail or error: only exit 2 (CRITICAL) is `fail`. A command that cannot be started (not
//! found, not executable, no working directory; `sh` exiting 126/127), exit 3 UNKNOWN or any
//! other code, a signal, or the timeout are `error`: the check gave no verdict.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::time::{timeout, timeout_at};

use crate::no_answer::NoAnswer;
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// Each of stdout and stderr is kept up to this many bytes (the rest is read and dropped).
const OUTPUT_CAP: usize = 64 * 1024;
/// Evidence shows at most this much of each stream.
const EVIDENCE_CHARS: usize = 2000;
/// How long a timed-out group gets between SIGTERM and SIGKILL. The runner's backstop fires
/// 500 ms after the item's timeout: this plus two `DRAIN_GRACE`s stays below it.
const TERM_GRACE: Duration = Duration::from_millis(250);
/// How long reaping after SIGKILL, and then the output readers, may each still take.
const DRAIN_GRACE: Duration = Duration::from_millis(100);

/// Parameters of `check: { exec: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecProbe {
    /// The program and its arguments, run without a shell (`[cargo, audit]`).
    pub command: Option<Vec<String>>,
    /// A command line run by `sh -c` (pipes, redirections, `&&`).
    pub shell: Option<String>,
    /// Extra environment variables (added to prodcheck's own environment).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory; prodcheck's own by default.
    pub cwd: Option<PathBuf>,
    /// How the exit status is read: `nagios` (0 pass, 1 warn, 2 fail, other error) or `plain`
    /// for test suites, builds and scanners (0 pass, any other code fail; 126/127 from `sh`
    /// and a program that cannot start stay `error`).
    #[serde(default)]
    pub exit_codes: ExitCodes,
    /// Assertions on what the command printed: `/status == ok` (stdout read as JSON),
    /// `body matches ^OK`, `status == 0` (the exit code), `time < 5s` (see the README).
    #[serde(default)]
    pub assert: crate::assert::Assertions,
}

/// How a command's exit status becomes a verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExitCodes {
    /// The Nagios plugin convention (the default).
    #[default]
    Nagios,
    /// Zero passes, anything else fails: what `cargo test`, `npm run build` or `trivy` mean.
    Plain,
}

/// The plain convention: 0 passes, anything else fails.
fn plain(code: i32) -> (Status, &'static str) {
    match code {
        0 => (Status::Pass, "OK"),
        _ => (Status::Fail, "FAILED"),
    }
}

/// The Nagios plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 (or anything else) UNKNOWN.
fn nagios(code: i32) -> (Status, &'static str) {
    match code {
        0 => (Status::Pass, "OK"),
        1 => (Status::Warn, "WARNING"),
        2 => (Status::Fail, "CRITICAL"),
        _ => (Status::Error, "UNKNOWN"),
    }
}

/// The first non-empty line of plugin output, without Nagios performance data (`| a=1`).
fn first_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.split('|').next().unwrap_or(line).trim();
    Some(line.chars().take(300).collect())
}

/// Reads a stream to its end, keeping the first `cap` bytes.
async fn read_capped(mut stream: impl AsyncRead + Unpin, cap: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return (kept, truncated),
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                if n > room {
                    truncated = true;
                }
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

/// The child's process group. Dropping it SIGKILLs whatever is left of the group, so a
/// dropped probe future (timeout backstop, Ctrl-C) takes grandchildren down too.
struct Group(Option<Pid>);

impl Group {
    fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.0 {
            // ESRCH (group already gone) is the expected, harmless case.
            let _ = killpg(pgid, signal);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

impl ExecProbe {
    /// How the command is shown in messages.
    fn display(&self) -> String {
        match (&self.command, &self.shell) {
            (Some(argv), _) => argv.join(" "),
            (None, Some(line)) => line.clone(),
            (None, None) => String::new(),
        }
    }

    /// The program that is started: `command`'s first element, or `sh` for `shell`.
    fn program(&self) -> String {
        match &self.command {
            Some(argv) => argv.first().cloned().unwrap_or_default(),
            None => "sh".to_string(),
        }
    }

    fn build(&self) -> Option<Command> {
        let mut cmd = match (&self.command, &self.shell) {
            (Some(argv), None) => {
                let (program, args) = argv.split_first()?;
                let mut c = Command::new(program);
                c.args(args);
                c
            }
            (None, Some(line)) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(line);
                c
            }
            _ => return None,
        };
        cmd.envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        Some(cmd)
    }

    fn verdict(&self, status: ExitStatus, stdout: &str, stderr: &str) -> Outcome {
        let shown = self.display();
        let Some(code) = status.code() else {
            let signal = std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0);
            return Outcome::error(format!(
                "`{shown}` was killed by signal {signal} before giving a verdict"
            ))
            .with("signal", signal);
        };
        // `sh -c` reports a command it could not find or run with 127 / 126: the check never ran.
        if self.shell.is_some() && (code == 126 || code == 127) {
            let what = if code == 127 {
                "a command in it was not found"
            } else {
                "a command in it is not executable"
            };
            let stderr = first_line(stderr)
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            return not_started(
                if code == 127 {
                    "not_found"
                } else {
                    "not_executable"
                },
                format!("`{shown}` could not run: {what}, sh exited {code}{stderr}"),
            )
            .with("exit_code", code);
        }
        let (status, word) = match self.exit_codes {
            ExitCodes::Nagios => nagios(code),
            ExitCodes::Plain => plain(code),
        };
        let line = first_line(stdout);
        let message = match (status, line) {
            (Status::Pass, Some(line)) => line,
            (Status::Pass, None) => format!("`{shown}` exited 0 (OK)"),
            (_, Some(line)) => format!("{line} (`{shown}` exited {code}: {word})"),
            (_, None) => {
                let why = first_line(stderr)
                    .map(|l| format!("; stderr: {l}"))
                    .unwrap_or_else(|| ", no output".to_string());
                format!("`{shown}` exited {code} ({word}), expected 0{why}")
            }
        };
        Outcome::new(status, message).with("exit_code", code)
    }
}

/// A command that never ran has no verdict: `error`, whatever the reason.
fn not_started(reason: &str, message: String) -> Outcome {
    Outcome::error(message)
        .with("no_answer", NoAnswer::Other.as_str())
        .with("start_error", reason)
}

fn snippet(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(EVIDENCE_CHARS)
        .collect()
}

#[async_trait]
impl Probe for ExecProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = self
            .assert
            .check("assert", &["pointer", "status", "body", "time"]);
        match (&self.command, &self.shell) {
            (Some(_), Some(_)) => issues.push(
                ParamIssue::new("shell", "`command` and `shell` are both set")
                    .hint("use `command` (an argv list) or `shell` (a line for `sh -c`), not both"),
            ),
            (None, None) => issues.push(
                ParamIssue::new("command", "neither `command` nor `shell` is set")
                    .hint("write `command: [cargo, audit]` or `shell: \"npm audit | tail -1\"`"),
            ),
            (Some(argv), None) if argv.first().is_none_or(|p| p.trim().is_empty()) => issues.push(
                ParamIssue::new("command", "`command` names no program")
                    .hint("the first element is the program: `command: [pg_isready, -q]`"),
            ),
            (None, Some(line)) if line.trim().is_empty() => {
                issues.push(ParamIssue::new("shell", "`shell` is empty"))
            }
            _ => {}
        }
        for name in self.env.keys() {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                issues.push(ParamIssue::new(
                    "env",
                    format!("`{name}` is not a valid environment variable name"),
                ));
            }
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + ctx.timeout;
        let shown = self.display();
        let Some(mut cmd) = self.build() else {
            return Outcome::error("nothing to run: set `command` or `shell`");
        };
        if let Some(dir) = &self.cwd
            && !dir.is_dir()
        {
            return not_started(
                "cwd_missing",
                format!(
                    "`{shown}` could not be started: its working directory `{}` does not exist or is not a directory",
                    dir.display()
                ),
            )
            .with("command", shown);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let program = self.program();
                let (reason, why) = match e.kind() {
                    std::io::ErrorKind::NotFound => (
                        "not_found",
                        format!("program `{program}` was not found (is it installed and on PATH?)"),
                    ),
                    std::io::ErrorKind::PermissionDenied => (
                        "not_executable",
                        format!("program `{program}` is not executable (permission denied)"),
                    ),
                    _ => ("other", e.to_string()),
                };
                return not_started(reason, format!("`{shown}` could not be started: {why}"))
                    .with("command", shown);
            }
        };
        let group = Group(
            child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .map(Pid::from_raw),
        );
        let stdout = child
            .stdout
            .take()
            .map(|s| tokio::spawn(read_capped(s, OUTPUT_CAP)));
        let stderr = child
            .stderr
            .take()
            .map(|s| tokio::spawn(read_capped(s, OUTPUT_CAP)));

        let mut escalation = None;
        let status = match timeout_at(deadline, child.wait()).await {
            Ok(Ok(status)) => Some(status),
            Ok(Err(e)) => {
                return Outcome::error(format!("waiting for `{shown}` failed: {e}"));
            }
            Err(_) => {
                group.signal(Signal::SIGTERM);
                escalation = Some("SIGTERM");
                if timeout(TERM_GRACE, child.wait()).await.is_err() {
                    group.signal(Signal::SIGKILL);
                    escalation = Some("SIGTERM, then SIGKILL");
                    let _ = timeout(DRAIN_GRACE, child.wait()).await;
                }
                None
            }
        };
        // Whatever is left of the group (background jobs holding our pipes) ends with the probe.
        drop(group);
        let mut outputs = Vec::new();
        let drained = tokio::time::Instant::now() + DRAIN_GRACE;
        for task in [stdout, stderr] {
            let read = match task {
                Some(t) => timeout_at(drained, t).await.ok().and_then(Result::ok),
                None => None,
            };
            outputs.push(read.unwrap_or_default());
        }
        let (out, out_cut) = outputs.remove(0);
        let (err, err_cut) = outputs.remove(0);
        let duration_ms = started.elapsed().as_millis() as u64;

        let outcome = match status {
            Some(status) => {
                let stdout = String::from_utf8_lossy(&out);
                let verdict = self.verdict(status, &stdout, &String::from_utf8_lossy(&err));
                match status.code() {
                    Some(code) if verdict.status != Status::Error && !self.assert.is_empty() => {
                        self.assert
                            .evaluate(&crate::assert::Subject {
                                status: u16::try_from(code).ok(),
                                body: Some(stdout.to_string()),
                                doc: Some(
                                    serde_json::from_str(&stdout)
                                        .map_err(|e| format!("stdout is not JSON ({e})")),
                                ),
                                time: Some(started.elapsed()),
                                headers: None,
                            })
                            .fold(verdict)
                    }
                    _ => verdict,
                }
            }
            None => Outcome::error(format!(
                "`{shown}` did not finish within {}; its process group was killed ({})",
                humantime::format_duration(ctx.timeout),
                escalation.unwrap_or("SIGKILL")
            ))
            .with("killed", true)
            .with("no_answer", NoAnswer::Timeout.as_str()),
        };
        let mut outcome = outcome
            .with("command", shown)
            .with("duration_ms", duration_ms);
        if !out.is_empty() {
            outcome = outcome.with("stdout", snippet(&out));
        }
        if !err.is_empty() {
            outcome = outcome.with("stderr", snippet(&err));
        }
        if out_cut || err_cut {
            outcome = outcome.with("output_truncated", true);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(yaml: serde_json::Value) -> ExecProbe {
        serde_json::from_value(yaml).expect("valid exec params")
    }

    #[test]
    fn exactly_one_of_command_and_shell() {
        let both = probe(serde_json::json!({"command": ["true"], "shell": "true"}));
        assert_eq!(both.check_params().len(), 1);
        let neither = probe(serde_json::json!({}));
        assert_eq!(neither.check_params()[0].field, "command");
        let empty = probe(serde_json::json!({"command": []}));
        assert_eq!(empty.check_params().len(), 1);
        let fine = probe(serde_json::json!({"shell": "exit 0", "env": {"A": "1"}}));
        assert!(fine.check_params().is_empty());
    }

    #[test]
    fn nagios_codes_map_to_statuses() {
        assert_eq!(nagios(0).0, Status::Pass);
        assert_eq!(nagios(1).0, Status::Warn);
        assert_eq!(nagios(2).0, Status::Fail);
        assert_eq!(nagios(3).0, Status::Error);
        assert_eq!(nagios(127).0, Status::Error);
        assert_eq!(plain(1).0, Status::Fail);
        assert_eq!(plain(3).0, Status::Fail);
        assert_eq!(plain(0).0, Status::Pass);
    }

    #[test]
    fn first_line_drops_perfdata_and_blank_lines() {
        assert_eq!(
            first_line("\n  DISK OK - 40% used | used=40%;80;90\nmore").as_deref(),
            Some("DISK OK - 40% used")
        );
        assert_eq!(first_line(" \n"), None);
    }
}
