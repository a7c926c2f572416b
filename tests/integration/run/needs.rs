//! `needs:` end to end: a dead upstream fails one item and its dependents are skipped naming
//! it, in every report format; dependents wait for their needs; `--only` lifts a need.

use std::time::Duration;

use crate::support::*;

/// Five items behind one gateway at `port` (nothing listens there): the gateway check and four
/// API checks. With `needs`, the four API items name the gateway (two by id, two by tag).
fn dead_upstream(port: u16, needs: bool) -> String {
    let (by_id, by_tag) = if needs {
        (
            "\n        needs: [gateway-up]",
            "\n        needs: [gateway]",
        )
    } else {
        ("", "")
    };
    let mut text = format!(
        "name: shop\nsections:\n  - name: Gateway\n    items:\n      - id: gateway-up\n        title: Gateway accepts connections\n        tags: [gateway]\n        timeout: 2s\n        check: {{ tcp: {{ host: 127.0.0.1, port: {port} }} }}\n  - name: API\n    items:\n"
    );
    for (i, id) in ["users", "orders", "payments", "search"].iter().enumerate() {
        let need = if i % 2 == 0 { by_id } else { by_tag };
        text.push_str(&format!(
            "      - id: {id}\n        title: {id} answers{need}\n        timeout: 2s\n        check: {{ http: {{ url: \"http://127.0.0.1:{port}/{id}\" }} }}\n"
        ));
    }
    text
}

const DEPENDENTS: [&str; 4] = ["users", "orders", "payments", "search"];

fn run_format(p: &Project, file: &str, format: &str) -> Ran {
    run(p.cmd().args(["run", file, "--report", format]))
}

#[test]
fn a_dead_upstream_is_one_failure_and_four_skips_naming_it_in_every_format() {
    let port = closed_port();
    let p = Project::new();
    let without = p.file("without.yaml", &dead_upstream(port, false));
    let with = p.file("with.yaml", &dead_upstream(port, true));
    let (without, with) = (
        without.to_str().unwrap_or_default(),
        with.to_str().unwrap_or_default(),
    );

    // Today, without `needs`: five failures, the cause drowned among them.
    let report = json(&run_format(&p, without, "json"));
    assert_eq!(report["summary"]["fail"], 5, "{report:#}");

    let ran = run_format(&p, with, "json");
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(report["summary"]["fail"], 1, "{report:#}");
    assert_eq!(report["summary"]["skip"], 4, "{report:#}");
    assert_eq!(item(&report, "gateway-up")["status"], "fail");
    for id in DEPENDENTS {
        let it = item(&report, id);
        assert_eq!(it["status"], "skip", "{id}: {it:#}");
        assert_eq!(it["message"], "needs `gateway-up`, which failed", "{id}");
        assert_eq!(it["evidence"]["skipped_by"], "gateway-up", "{id}");
        assert_eq!(it["duration_ms"], 0, "{id} must not have run");
    }

    let reason = "needs `gateway-up`, which failed";
    let junit = run_format(&p, with, "junit").stdout;
    assert!(
        junit.contains("failures=\"1\"") && junit.contains("skipped=\"4\""),
        "{junit}"
    );
    assert_eq!(junit.matches(reason).count(), 4, "{junit}");

    let tap = run_format(&p, with, "tap").stdout;
    assert_eq!(tap.matches("not ok ").count(), 1, "{tap}");
    assert_eq!(tap.matches(&format!("# SKIP {reason}")).count(), 4, "{tap}");

    let sarif: serde_json::Value =
        serde_json::from_str(&run_format(&p, with, "sarif").stdout).expect("sarif is JSON");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let skipped: Vec<_> = results
        .iter()
        .filter(|r| r["properties"]["evidence"]["skipped_by"] == "gateway-up")
        .collect();
    assert_eq!(skipped.len(), 4, "{sarif:#}");
    let errors = results.iter().filter(|r| r["level"] == "error").count();
    assert_eq!(errors, 1, "only the cause is an error: {sarif:#}");

    let caused = "root cause: 4 item(s) that need it were skipped: users, orders, payments, search";
    let markdown = run_format(&p, with, "markdown").stdout;
    let attention = markdown
        .split("### Needs attention")
        .nth(1)
        .and_then(|rest| rest.split("<details>").next())
        .unwrap_or_default();
    assert!(
        attention.contains("**gateway-up**") && attention.contains(caused),
        "{markdown}"
    );
    assert_eq!(attention.matches("| ❌ fail |").count(), 1, "{markdown}");
    assert_eq!(markdown.matches(reason).count(), 4, "{markdown}");

    let github = run_format(&p, with, "github").stdout;
    assert_eq!(
        github.lines().count(),
        1,
        "one annotation, the cause: {github}"
    );
    assert!(
        github.contains("gateway-up fail") && github.contains(caused),
        "{github}"
    );

    let human = run_format(&p, with, "human").stdout;
    let needs_attention = human.split("Needs attention:").nth(1).unwrap_or_default();
    assert!(needs_attention.contains("gateway-up"), "{human}");
    assert!(needs_attention.contains(&format!("↳ {caused}")), "{human}");
    assert!(human.contains("1 fail, 4 skip"), "{human}");
    for id in DEPENDENTS {
        assert!(!needs_attention.contains(&format!("✘ {id}")), "{human}");
    }

    let html = run_format(&p, with, "html").stdout;
    let listed = html.split("id=\"attention\"").nth(1).unwrap_or_default();
    let listed = listed.split("</section>").next().unwrap_or_default();
    assert!(listed.contains(caused), "{listed}");
    assert_eq!(html.matches(reason).count(), 4, "skip reasons: {html}");

    let prom = run_format(&p, with, "prometheus").stdout;
    assert!(
        prom.contains("item=\"gateway-up\",severity=\"critical\",status=\"fail\"} 1"),
        "{prom}"
    );
    for id in DEPENDENTS {
        assert!(
            prom.contains(&format!(
                "item=\"{id}\",severity=\"critical\",status=\"skip\"}} 1"
            )),
            "{prom}"
        );
        assert!(
            prom.contains(&format!(
                "prodcheck_item_skipped_by{{checklist=\"shop\",item=\"{id}\",cause=\"gateway-up\"}} 1"
            )),
            "{prom}"
        );
    }
}

#[test]
fn a_dependent_runs_after_its_need_and_a_chain_names_the_root() {
    let p = Project::new();
    let flag = p.path().join("ready");
    let flag = flag.display();
    // Without the ordering, `uses-it` (started at once, concurrently) would find no file.
    let text = format!(
        "name: order\nsections:\n  - name: S\n    items:\n      - id: uses-it\n        title: Uses what prepare made\n        needs: [prepare]\n        check: {{ exec: {{ shell: \"test -f '{flag}'\" }} }}\n      - id: prepare\n        title: Prepare\n        check: {{ exec: {{ shell: \"sleep 0.3 && touch '{flag}'\" }} }}\n      - id: broken\n        title: Broken\n        check: {{ exec: {{ shell: \"exit 2\" }} }}\n      - id: middle\n        title: Middle\n        needs: [broken]\n        check: {{ exec: {{ shell: \"exit 0\" }} }}\n      - id: last\n        title: Last\n        needs: [middle, prepare]\n        check: {{ exec: {{ shell: \"exit 0\" }} }}\n"
    );
    // A warn passes (exec's exit 1 is nagios' WARNING).
    let text = text
        + "      - id: warned\n        title: Warned\n        check: { exec: { shell: \"exit 1\" } }\n      - id: after-warn\n        title: After a warn\n        needs: [warned]\n        check: { exec: { shell: \"exit 0\" } }\n";
    let file = p.file("order.yaml", &text);
    for concurrency in ["1", "8"] {
        let ran = run(p
            .cmd()
            .args([
                "run",
                file.to_str().unwrap_or_default(),
                "--report",
                "json",
                "--concurrency",
                concurrency,
            ])
            .timeout(Duration::from_secs(60)));
        let report = json(&ran);
        assert_eq!(item(&report, "prepare")["status"], "pass", "{report:#}");
        assert_eq!(item(&report, "uses-it")["status"], "pass", "{report:#}");
        assert_eq!(
            item(&report, "middle")["message"],
            "needs `broken`, which failed"
        );
        assert_eq!(
            item(&report, "last")["message"],
            "needs `middle`, which was skipped: `broken` failed"
        );
        assert_eq!(item(&report, "last")["evidence"]["skipped_by"], "broken");
        assert_eq!(item(&report, "warned")["status"], "warn");
        assert_eq!(item(&report, "after-warn")["status"], "pass", "{report:#}");
        let _ = std::fs::remove_file(p.path().join("ready"));
    }
}

#[test]
fn a_need_left_out_with_only_does_not_block_its_dependent() {
    let port = closed_port();
    let p = Project::new();
    let file = p.file("with.yaml", &dead_upstream(port, true));
    let ran = run(p.cmd().args([
        "run",
        file.to_str().unwrap_or_default(),
        "--report",
        "json",
        "--only",
        "users",
    ]));
    let report = json(&ran);
    assert_eq!(item(&report, "gateway-up")["status"], "skip");
    // Asked for by name, it runs, and finds nothing listening.
    assert_eq!(item(&report, "users")["status"], "fail", "{report:#}");
    assert!(message(&report, "users").contains("refused"), "{report:#}");
}

#[test]
fn ctrl_c_while_a_need_runs_leaves_its_dependent_interrupted_and_exits_130() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let silent = RawServer::silent();
    let p = Project::new();
    let text = format!(
        "name: t\nsections:\n  - name: S\n    items:\n      - id: slow\n        title: slow\n        timeout: 60s\n        check: {{ http: {{ url: \"{}\" }} }}\n      - id: after\n        title: after\n        needs: [slow]\n        check: {{ exec: {{ shell: \"exit 0\" }} }}\n",
        silent.url("/")
    );
    let file = p.file("c.yaml", &text);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("prodcheck"))
        .current_dir(p.path())
        .args(["run", file.to_str().unwrap_or_default(), "--report", "json"])
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn prodcheck");
    let connected = wait_until(Duration::from_secs(20), || {
        silent.accepted.load(std::sync::atomic::Ordering::Relaxed) > 0
    });
    assert!(connected, "the slow need never connected");
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let code = child.wait().expect("wait").code();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read");
    assert_eq!(code, Some(130), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a partial JSON report");
    assert_eq!(item(&report, "slow")["message"], "interrupted");
    assert_eq!(item(&report, "after")["message"], "interrupted");
}

#[test]
fn show_lists_what_an_item_needs() {
    let p = Project::new();
    let file = p.file("with.yaml", &dead_upstream(closed_port(), true));
    let ran = run(p.cmd().args([
        "show",
        file.to_str().unwrap_or_default(),
        "--color",
        "never",
    ]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let users = ran
        .stdout
        .lines()
        .find(|l| l.contains("users answers"))
        .unwrap_or_default();
    assert!(users.contains("needs gateway-up"), "{}", ran.stdout);
}

#[test]
fn in_a_fleet_each_target_is_skipped_only_for_its_own_cause() {
    let ok =
        RawServer::respond(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    let dead = closed_port();
    let p = Project::new();
    p.file(
        "c.yaml",
        "name: fleet\nvars:\n  base_url: ~\nsections:\n  - name: S\n    items:\n      - id: gateway-up\n        title: Gateway\n        timeout: 3s\n        check: { http: { url: \"${base_url}/health\" } }\n      - id: users\n        title: Users\n        needs: [gateway-up]\n        timeout: 3s\n        check: { http: { url: \"${base_url}/users\" } }\n",
    );
    p.file(
        "prodcheck.yaml",
        &format!(
            "targets:\n  up:\n    vars: {{ base_url: \"{}\" }}\n  down:\n    vars: {{ base_url: \"http://127.0.0.1:{dead}\" }}\n",
            ok.url("")
        ),
    );
    let ran = run(p
        .cmd()
        .args(["run", "c.yaml", "--all-targets", "--report", "json"]));
    let report = json(&ran);
    let of = |target: &str, id: &str| -> serde_json::Value {
        report["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|i| i["target"] == target && i["id"] == id)
            })
            .cloned()
            .unwrap_or_else(|| panic!("no {target}/{id} in {report:#}"))
    };
    assert_eq!(of("up", "gateway-up")["status"], "pass", "{report:#}");
    assert_eq!(of("up", "users")["status"], "pass", "{report:#}");
    assert_eq!(of("down", "gateway-up")["status"], "fail", "{report:#}");
    assert_eq!(
        of("down", "users")["message"],
        "needs `gateway-up`, which failed"
    );
    let markdown = run(p
        .cmd()
        .args(["run", "c.yaml", "--all-targets", "--report", "markdown"]));
    assert!(
        markdown
            .stdout
            .contains("root cause: 1 item(s) that need it were skipped: users"),
        "{}",
        markdown.stdout
    );
}
