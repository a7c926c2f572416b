//! The `exec` probe: Nagios exit codes, first line as message, env/cwd, and a timeout that
//! takes down the whole process group, including children that ignore SIGTERM.

use std::time::Duration;

use crate::support::*;

#[test]
fn nagios_exit_codes_become_statuses_with_the_first_line_as_message() {
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "ok",
                r#"exec: { command: [sh, -c, "echo 'OK - all good | t=1'"] }"#,
            ),
            (
                "warning",
                r#"exec: { shell: "echo 'WARNING - 3 advisories'; exit 1" }"#,
            ),
            (
                "critical",
                r#"exec: { shell: "echo 'CRITICAL - 2 vulnerable crates'; exit 2" }"#,
            ),
            (
                "unknown",
                r#"exec: { shell: "echo 'cannot parse lockfile' >&2; exit 3" }"#,
            ),
            ("missing", r#"exec: { command: [/nonexistent/plugin] }"#),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "ok", "pass");
    assert_eq!(message(&report, "ok"), "OK - all good");
    assert_status(&report, "warning", "warn");
    assert_status(&report, "critical", "fail");
    assert!(message(&report, "critical").starts_with("CRITICAL - 2 vulnerable crates"));
    assert_eq!(item(&report, "critical")["evidence"]["exit_code"], 2);
    assert_status(&report, "unknown", "error");
    assert!(
        message(&report, "unknown").contains("stderr: cannot parse lockfile"),
        "{}",
        message(&report, "unknown")
    );
    assert_status(&report, "missing", "error");
    assert!(message(&report, "missing").contains("could not be started"));
}

#[test]
fn env_and_cwd_reach_the_command() {
    let p = Project::new();
    p.file("work/marker.txt", "");
    let file = p.file(
        "c.yaml",
        &checklist_of(
            "5s",
            &[(
                "envcwd",
                r#"exec: { shell: 'ls marker.txt >/dev/null && echo "hello $WHO"', env: { WHO: prodcheck }, cwd: work }"#,
            )],
        ),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 0);
    assert_eq!(message(&json(&ran), "envcwd"), "hello prodcheck");
}

#[test]
fn command_and_shell_together_are_refused_before_running() {
    let ran = run_checklist(&checklist_of(
        "5s",
        &[("both", r#"exec: { command: ["true"], shell: "true" }"#)],
    ));
    assert_code!(ran, 2);
    assert!(
        ran.stderr.contains("`command` and `shell` are both set"),
        "{}",
        ran.stderr
    );
}

#[test]
fn timeout_kills_the_whole_group_even_when_sigterm_is_ignored() {
    let p = Project::new();
    let pidfile = p.path().join("grandchild.pid");
    // The shell and its background child both ignore SIGTERM; only SIGKILL ends them.
    let script = format!(
        "trap '' TERM; sleep 60 & echo $! > {}; echo started; wait",
        pidfile.display()
    );
    let file = p.file(
        "c.yaml",
        &checklist_of("1s", &[("hang", &format!("exec: {{ shell: {script:?} }}"))]),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 3);
    let report = json(&ran);
    let it = item(&report, "hang");
    assert_eq!(it["status"], "error");
    let msg = message(&report, "hang");
    assert!(msg.contains("did not finish within 1s"), "{msg}");
    assert!(msg.contains("SIGKILL"), "{msg}");
    assert_eq!(it["evidence"]["stdout"], "started\n");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .expect("grandchild pid written")
        .trim()
        .parse()
        .expect("pid");
    assert!(
        wait_until(Duration::from_secs(3), || process_gone(pid)),
        "grandchild {pid} survived the timeout"
    );
}

#[test]
fn ctrl_c_takes_the_running_command_and_its_children_down() {
    let p = Project::new();
    let pidfile = p.path().join("grandchild.pid");
    let script = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
    let file = p.file(
        "c.yaml",
        &checklist_of(
            "30s",
            &[("long", &format!("exec: {{ shell: {script:?} }}"))],
        ),
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("prodcheck"))
        .current_dir(p.path())
        .env("CI", "true")
        .args(["run", file.to_str().unwrap_or_default(), "--report", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start prodcheck");
    let written = wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|t| t.ends_with('\n'))
    });
    assert!(written, "the command never started");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let exited = wait_until(Duration::from_secs(10), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !exited {
        let _ = child.kill();
    }
    assert!(exited, "prodcheck did not stop on SIGINT");
    assert!(
        wait_until(Duration::from_secs(3), || process_gone(pid)),
        "grandchild {pid} survived Ctrl-C"
    );
}
