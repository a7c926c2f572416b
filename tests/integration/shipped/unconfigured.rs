//! Shipped checklists without their target variables: target variables have no real-world
//! default, so the items that need them are `unconfigured` (named, with how to set them) and
//! nothing is sent to a guessed target; with `--strict-vars` the run stops before any probe,
//! exit 2, naming each missing variable once with the line that uses it.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;

/// A loopback listener counting the connections it accepts.
fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            match listener.accept() {
                Ok(_) => {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (port, count)
}

#[test]
fn a_strict_unconfigured_run_sends_nothing_and_names_what_to_set() {
    let p = Project::new();
    let cases: [(&str, &[&str]); 4] = [
        ("pre-deploy", &["base_url"]),
        (
            "deploy",
            &["base_url", "database_url", "prometheus_url", "redis_url"],
        ),
        (
            "post-deploy",
            &["base_url", "database_url", "prometheus_url"],
        ),
        ("maintenance", &["base_url", "prometheus_url"]),
    ];
    for (checklist, vars) in cases {
        let ran = run(p
            .cmd()
            .args(["run", checklist, "--non-interactive", "--strict-vars"]));
        assert_code!(ran, 2, "{checklist}");
        assert!(
            ran.stdout.is_empty(),
            "{checklist} printed a report: {}",
            ran.stdout
        );
        for var in vars {
            let message = format!("variable `{var}` is not set");
            assert_eq!(
                ran.stderr.matches(&message).count(),
                1,
                "{checklist}: `{var}` named exactly once:\n{}",
                ran.stderr
            );
            assert!(
                ran.stderr.contains(&format!("--var {var}=VALUE")),
                "{checklist}: says how to set `{var}`:\n{}",
                ran.stderr
            );
        }
        assert!(ran.stderr.contains("prodcheck init"), "{}", ran.stderr);
        assert!(
            ran.stderr.contains(&format!("builtin:{checklist}:")),
            "{}",
            ran.stderr
        );
    }
}

/// Without `--strict-vars` the same runs report every item needing a target variable as
/// `unconfigured` (naming it) and send nothing to any guessed host.
#[test]
fn an_unconfigured_run_reports_unconfigured_items_and_sends_nothing_to_a_target() {
    let p = Project::new();
    for (checklist, var, id) in [
        ("pre-deploy", "base_url", "tls-certificate"),
        ("deploy", "prometheus_url", "rollback-error-rate"),
        ("post-deploy", "database_url", "database-connections"),
        ("maintenance", "prometheus_url", "disk-space"),
    ] {
        let ran = run(p.cmd().args([
            "run",
            checklist,
            "--non-interactive",
            "--automated",
            "--report",
            "json",
        ]));
        assert_ne!(ran.code, 0, "{checklist}: {}", ran.stderr);
        assert_ne!(ran.code, 2, "{checklist}: {}", ran.stderr);
        let report = json(&ran);
        let it = item(&report, id);
        assert_eq!(it["status"], "unconfigured", "{checklist}: {it}");
        assert!(
            it["message"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("`{var}`")),
            "{checklist}: {it}"
        );
        // Nothing that needs a target ran: every web, TLS, DNS, database and PromQL item waits.
        for it in report["items"].as_array().expect("items") {
            let kind = it["kind"].as_str().unwrap_or_default();
            if [
                "tls",
                "http",
                "dns",
                "postgres",
                "redis",
                "prometheus",
                "websocket",
            ]
            .contains(&kind)
            {
                assert!(
                    ["unconfigured", "skip"].contains(&it["status"].as_str().unwrap_or_default()),
                    "{checklist}: a {kind} item ran without its target: {it}"
                );
            }
        }
    }
}

/// Pointing only `host`/`port` at a listener (a partial configuration) leaves `base_url`
/// unset: with `--strict-vars` the run stops before the `tls` item connects; without, the
/// `tls` item (whose variables are all set) goes to that host and port, and the items that
/// need `base_url` are unconfigured.
#[test]
fn a_partial_configuration_runs_what_it_configures() {
    let (port, connections) = counting_listener();
    let p = Project::new();
    let args = [
        "run",
        "pre-deploy",
        "--non-interactive",
        "--var",
        "host=127.0.0.1",
        "--var",
        &format!("port={port}"),
    ];
    let ran = run(p.cmd().args(args).arg("--strict-vars"));
    assert_code!(ran, 2);
    assert!(
        ran.stderr.contains("variable `base_url` is not set"),
        "{}",
        ran.stderr
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(connections.load(Ordering::SeqCst), 0, "a probe connected");

    let ran = run(p
        .cmd()
        .args(args)
        .args(["--only", "security", "--report", "json"]));
    let report = json(&ran);
    assert_ne!(item(&report, "tls-certificate")["status"], "unconfigured");
    assert_eq!(item(&report, "security-headers")["status"], "unconfigured");
    assert!(
        wait_until(Duration::from_secs(5), || connections
            .load(Ordering::SeqCst)
            > 0),
        "the tls item did not go to host:port"
    );
}

#[test]
fn one_base_url_points_every_target_at_the_service() {
    let (port, connections) = counting_listener();
    let p = Project::new();
    let ran = run(p.cmd().args([
        "run",
        "pre-deploy",
        "--non-interactive",
        "--only",
        "tls-certificate",
        "--var",
        &format!("base_url=https://127.0.0.1:{port}"),
        "--report",
        "json",
    ]));
    let it = item(&json(&ran), "tls-certificate").clone();
    assert_ne!(it["status"], "skip", "{it}");
    assert!(
        wait_until(Duration::from_secs(5), || connections
            .load(Ordering::SeqCst)
            > 0),
        "the tls item did not go to the host and port of base_url: {it}"
    );
}

#[test]
fn validate_and_init_say_which_variables_are_required() {
    let p = Project::new();
    let ran = p.case().args(["validate"]).run();
    assert!(
        ran.stdout.contains("`base_url` has no default")
            && ran.stdout.contains("Needed by: tls-certificate"),
        "{}",
        ran.stdout
    );
    p.case().args(["init"]).run();
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("written");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("base_url:"))
        .expect("base_url listed");
    assert!(line.contains("REQUIRED"), "{line}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("ca_file:"))
        .expect("ca_file listed");
    assert!(!line.contains("REQUIRED"), "{line}");
}

/// `init` writes the commands of the project it finds, and leaves them unset (and says so)
/// where it finds none: no `npm` assumed for a Rust or Go project.
#[test]
fn init_writes_the_commands_of_the_project_it_finds() {
    let cases: [(Option<&str>, &str, &str); 4] = [
        (
            Some("Cargo.toml"),
            "cargo test --workspace --locked",
            "cargo audit",
        ),
        (Some("go.mod"), "go test ./...", "govulncheck ./..."),
        (
            Some("package.json"),
            "npm test",
            "npm audit --audit-level=high",
        ),
        (None, "~", "~"),
    ];
    for (marker, test, audit) in cases {
        let p = Project::new();
        if let Some(m) = marker {
            p.file(m, "{}\n");
        }
        let ran = p.case().args(["init"]).run();
        let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("written");
        let value = |var: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(&format!("{var}:")))
                .unwrap_or_else(|| panic!("`{var}` missing:\n{text}"))
                .to_string()
        };
        let line = value("test_command");
        assert!(line.contains(test), "{marker:?}: {line}");
        assert!(value("audit_command").contains(audit), "{marker:?}: {text}");
        if marker.is_none() {
            assert!(line.contains("REQUIRED: no command detected"), "{line}");
            assert!(ran.stdout.contains("left unset"), "{}", ran.stdout);
        } else {
            assert!(
                !text.contains("npm") || marker == Some("package.json"),
                "{text}"
            );
        }
        // What init wrote is a valid configuration.
        p.case().args(["validate"]).run();
    }
}

/// A command that cannot be started is `error` (exit 3), never a failing test suite; a suite
/// that fails with any non-zero code is `fail` (exit 1).
#[test]
fn a_missing_command_is_an_error_and_a_failing_suite_a_failure() {
    let p = Project::new();
    for (command, status, code) in [
        ("no-such-test-runner --all", "error", 3),
        ("sh -c 'echo 3 tests failed; exit 1'", "fail", 1),
        ("true", "pass", 0),
    ] {
        let ran = run(p.cmd().args([
            "run",
            "pre-deploy",
            "--non-interactive",
            "--only",
            "unit-tests",
            "--var",
            &format!("test_command={command}"),
            "--report",
            "json",
        ]));
        let it = item(&json(&ran), "unit-tests").clone();
        assert_eq!(it["status"], status, "{command}: {it}");
        assert_code!(ran, code, "{command}: {it}");
        if status == "error" {
            assert!(
                it["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("could not run"),
                "{it}"
            );
        }
    }
}
