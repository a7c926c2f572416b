//! The binary under test and what a test does with it: a temporary project, a run, its output
//! as text, the JSON report's items, and a case builder that asserts by default (just's `Test`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// The environment variables that configure a proxy; tests remove them (the proxy tests set
/// them explicitly).
pub const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The real binary with a clean, non-interactive environment.
pub fn prodcheck() -> Command {
    let mut cmd = Command::cargo_bin("prodcheck").expect("binary built");
    cmd.env_remove("NO_COLOR")
        .env("CI", "true")
        .timeout(Duration::from_secs(120));
    // Tests talk to 127.0.0.1: a proxy configured on the machine must not carry them (the
    // proxy tests set these explicitly).
    for var in PROXY_VARS {
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

/// A CLI case that asserts by default (just's `Test`): a project (fresh, or a test's own
/// through [`Project::case`]), the arguments, and what must hold afterwards. Unless told
/// otherwise it expects exit code 0 and an empty stderr; `stdout_has`/`stderr_has` add
/// expectations. [`Case::run`] asserts them all (showing the whole output on a mismatch) and
/// returns the output for further checks.
pub struct Case<'p> {
    project: Place<'p>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    code: i32,
    stdout: Vec<String>,
    stderr: Option<Vec<String>>,
}

/// Where a case runs: a project of its own, or one the test set up.
enum Place<'p> {
    Own(Project),
    Borrowed(&'p Project),
}

impl Project {
    /// A case run in this project.
    pub fn case(&self) -> Case<'_> {
        Case::in_place(Place::Borrowed(self))
    }
}

impl Case<'static> {
    /// A case in a fresh project.
    pub fn new() -> Case<'static> {
        Case::in_place(Place::Own(Project::new()))
    }
}

impl<'p> Case<'p> {
    fn in_place(project: Place<'p>) -> Case<'p> {
        Case {
            project,
            args: Vec::new(),
            env: Vec::new(),
            code: 0,
            stdout: Vec::new(),
            stderr: Some(Vec::new()),
        }
    }

    fn project(&self) -> &Project {
        match &self.project {
            Place::Own(p) => p,
            Place::Borrowed(p) => p,
        }
    }

    /// Writes `name` with `text` into the project.
    pub fn file(self, name: &str, text: &str) -> Self {
        self.project().file(name, text);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.args.push(arg.as_ref().to_string_lossy().into_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Self {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<str>) -> Self {
        self.env.push((key.into(), value.as_ref().into()));
        self
    }

    /// The exit code the run must end with (0 unless set).
    pub fn code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }

    /// Text stdout must contain.
    pub fn stdout_has(mut self, text: impl AsRef<str>) -> Self {
        self.stdout.push(text.as_ref().into());
        self
    }

    /// Text stderr must contain (stderr is then no longer required to be empty).
    pub fn stderr_has(mut self, text: impl AsRef<str>) -> Self {
        self.stderr
            .get_or_insert_with(Vec::new)
            .push(text.as_ref().into());
        self
    }

    /// Any stderr is fine (warnings and progress a test does not look at).
    pub fn any_stderr(mut self) -> Self {
        self.stderr = None;
        self
    }

    #[track_caller]
    pub fn run(self) -> Ran {
        let mut cmd = self.project().cmd();
        cmd.args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let ran = run(&mut cmd);
        let context = format!("prodcheck {}", self.args.join(" "));
        crate::support::check_code(&ran, self.code, Some(context.clone()));
        for text in &self.stdout {
            assert!(
                ran.stdout.contains(text.as_str()),
                "{context}: stdout lacks {text:?}:\n{}",
                ran.stdout
            );
        }
        match &self.stderr {
            Some(wanted) if wanted.is_empty() => assert!(
                ran.stderr.is_empty(),
                "{context}: stderr is not empty:\n{}",
                ran.stderr
            ),
            Some(wanted) => {
                for text in wanted {
                    assert!(
                        ran.stderr.contains(text.as_str()),
                        "{context}: stderr lacks {text:?}:\n{}",
                        ran.stderr
                    );
                }
            }
            None => {}
        }
        ran
    }
}

impl Project {
    /// Runs the checklist `file` of this project with `--report json`.
    pub fn run_json(&self, file: &Path) -> Ran {
        run(self
            .cmd()
            .args(["run", file.to_str().unwrap_or_default(), "--report", "json"]))
    }
}

/// The message of a report item.
pub fn item_message(it: &serde_json::Value) -> String {
    it["message"].as_str().unwrap_or_default().to_string()
}
