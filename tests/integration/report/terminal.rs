//! The terminal report as people read it: a line budget for a run with a few failures (the
//! demo: the shipped pre-deploy against a flawed local service), on a terminal and off it.

use std::process::Command;

use crate::support::*;

/// The report part of `prodcheck demo`'s output (the demo's own closing lines removed).
fn report_lines(output: &str) -> Vec<String> {
    let start = output
        .find("pre-deploy — ")
        .unwrap_or_else(|| panic!("no report in:\n{output}"));
    let end = output
        .find("The demo service is flawed on purpose")
        .unwrap_or(output.len());
    output[start..end]
        .trim_end()
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_budget(lines: &[String], where_: &str) {
    let text = lines.join("\n");
    assert!(
        lines.len() <= 40,
        "{where_}: {} lines, budget 40:\n{text}",
        lines.len()
    );
    // What the budget must not cost: the failures, their messages and how to confirm.
    for want in [
        "cors-policy",
        "reflects origin",
        "Needs attention:",
        "manual item(s) pending",
        "--confirm ID",
        "Summary:",
    ] {
        assert!(text.contains(want), "{where_}: `{want}` missing:\n{text}");
    }
}

#[test]
fn a_run_with_a_few_failures_fits_in_40_lines_off_a_terminal() {
    let p = Project::new();
    let ran = p.case().args(["demo"]).any_stderr().run();
    assert!(
        !ran.stdout.contains('\u{1b}'),
        "escape codes off a terminal"
    );
    assert_budget(&report_lines(&ran.stdout), "off a terminal");
}

#[test]
fn a_run_with_a_few_failures_fits_in_40_lines_on_a_terminal() {
    let Some(script) = require_binary("script", "bsdutils") else {
        return;
    };
    let bin = assert_cmd::cargo::cargo_bin("prodcheck");
    let p = Project::new();
    // `script` gives the command a pseudo-terminal; its output is what a person would see.
    let out = Command::new(script)
        .args(["-qec", &format!("{} demo", bin.display()), "/dev/null"])
        .current_dir(p.path())
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .output()
        .expect("run script");
    let raw = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(raw.contains('\u{1b}'), "colour on a terminal:\n{raw}");
    let text = strip_ansi(&raw);
    // Drop the demo's own start-up line (stderr shares the terminal).
    let lines: Vec<String> = report_lines(&text)
        .into_iter()
        .filter(|l| !l.contains("demo service on"))
        .collect();
    assert_budget(&lines, "on a terminal");
}

/// The text without ANSI escape sequences (`ESC [ … letter`) and with the progress line's
/// erase-line redraws gone.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}
