//! The shipped checklists against `checklists/COVERAGE.md`: every seed point names exactly one
//! item, every named item exists, every shipped item covers at least one seed point, and
//! `prodcheck show` lists every item.
//!
//! The YAML is read with the project's own node parser rather than the full loader, so these
//! checks hold whatever probe kinds the registry knows; validation of the probes themselves
//! is `cli::diagnostics::a_directory_validates_every_file_and_shipped_checklists_are_valid`.

use std::collections::{BTreeMap, BTreeSet};

use prodcheck::catalog::SHIPPED;
use prodcheck::checklist::node::{self, Node, Value};

use crate::support::*;

/// One item of a shipped checklist, as written.
struct ShippedItem {
    section: String,
    id: String,
    node: Node,
}

fn seq(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

/// Every item of the shipped checklist `name`, read from `checklists/NAME.yaml`.
fn items_of(name: &str) -> Vec<ShippedItem> {
    let path = format!("checklists/{name}.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc = node::parse(&text).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    let mut out = Vec::new();
    for section in seq(doc.get("sections")) {
        let section_name = section
            .get("name")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        for item in seq(section.get("items")) {
            let id = item
                .get("id")
                .and_then(Node::scalar_text)
                .unwrap_or_else(|| panic!("{path}: item without id at {:?}", item.pos));
            out.push(ShippedItem {
                section: section_name.clone(),
                id,
                node: item.clone(),
            });
        }
    }
    assert!(!out.is_empty(), "{path} has no items");
    out
}

/// `checklist/item-id` references in each table row of COVERAGE.md, with the row text.
fn coverage_rows() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string("checklists/COVERAGE.md").expect("COVERAGE.md");
    let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
    text.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| ---") && !l.starts_with("| Seed"))
        .map(|line| {
            let refs = line
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|code| {
                    code.split_once('/').is_some_and(|(list, id)| {
                        names.contains(&list)
                            && !id.is_empty()
                            && id
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    })
                })
                .map(str::to_string)
                .collect();
            (line.to_string(), refs)
        })
        .collect()
}

fn shipped_ids() -> BTreeMap<String, Vec<ShippedItem>> {
    SHIPPED
        .iter()
        .map(|(name, _)| (name.to_string(), items_of(name)))
        .collect()
}

#[test]
fn every_seed_point_in_coverage_names_exactly_one_item() {
    let rows = coverage_rows();
    assert!(
        rows.len() >= 300,
        "COVERAGE.md lists only {} seed points",
        rows.len()
    );
    for (line, refs) in &rows {
        assert_eq!(
            refs.len(),
            1,
            "each seed point maps to exactly one item: {line}"
        );
    }
}

#[test]
fn coverage_names_existing_items_and_every_item_covers_a_seed_point() {
    let shipped = shipped_ids();
    let all: BTreeSet<String> = shipped
        .iter()
        .flat_map(|(name, items)| items.iter().map(move |i| format!("{name}/{}", i.id)))
        .collect();
    let referenced: BTreeSet<String> = coverage_rows()
        .into_iter()
        .flat_map(|(_, refs)| refs)
        .collect();
    let unknown: Vec<_> = referenced.difference(&all).collect();
    assert!(
        unknown.is_empty(),
        "COVERAGE.md names items that do not exist: {unknown:?}"
    );
    let uncovered: Vec<_> = all.difference(&referenced).collect();
    assert!(
        uncovered.is_empty(),
        "shipped items that cover no seed point in COVERAGE.md: {uncovered:?}"
    );
}

#[test]
fn shipped_items_have_unique_ids_tags_and_a_how_for_every_manual_item() {
    for (name, items) in shipped_ids() {
        let mut seen = BTreeSet::new();
        for item in &items {
            let id = &item.id;
            assert!(seen.insert(id.clone()), "{name}: duplicate id `{id}`");
            assert!(
                !seq(item.node.get("tags")).is_empty(),
                "{name}/{id} has no topic tag"
            );
            let check = item.node.get("check").is_some();
            let manual = item.node.get("manual");
            assert!(
                check != manual.is_some(),
                "{name}/{id} needs exactly one of check/manual"
            );
            if let Some(m) = manual {
                let how = m.get("how").and_then(Node::scalar_text).unwrap_or_default();
                assert!(
                    how.trim().len() >= 60,
                    "{name}/{id}: `how` must say what to look at and what good looks like"
                );
            }
        }
    }
}

#[test]
fn maintenance_manual_items_recur_at_their_section_interval() {
    let expected = [
        ("Daily", "1d"),
        ("Weekly", "7d"),
        ("Monthly", "30d"),
        ("Quarterly", "90d"),
    ];
    let items = items_of("maintenance");
    let sections: BTreeSet<&str> = items.iter().map(|i| i.section.as_str()).collect();
    assert_eq!(
        sections,
        expected.iter().map(|(s, _)| *s).collect(),
        "maintenance sections"
    );
    for item in &items {
        let want = expected
            .iter()
            .find(|(s, _)| *s == item.section)
            .map(|(_, e)| e.to_string());
        match item.node.get("manual") {
            Some(manual) => {
                let every = manual.get("every").and_then(Node::scalar_text);
                assert_eq!(
                    every, want,
                    "maintenance/{} in {} must carry that interval",
                    item.id, item.section
                );
            }
            None => {
                // Daily automated items run every morning; the others only when due.
                let every = item.node.get("every").and_then(Node::scalar_text);
                let want = want.filter(|_| item.section != "Daily");
                assert_eq!(
                    every, want,
                    "automated maintenance/{} in {} must run at that cadence",
                    item.id, item.section
                );
            }
        }
    }
}

/// What the checks below ask of every automated item: a `fix` saying what to change, and a
/// `docs` URL (where there is one) that is an https link.
#[test]
fn every_automated_item_says_what_to_change_when_it_fails() {
    let mut missing = Vec::new();
    for (name, items) in shipped_ids() {
        for item in items.iter().filter(|i| i.node.get("check").is_some()) {
            let fix = item
                .node
                .get("fix")
                .and_then(Node::scalar_text)
                .unwrap_or_default();
            let words = fix.split_whitespace().count();
            if words < 12 {
                missing.push(format!("{name}/{} (fix: {fix:?})", item.id));
            }
            if let Some(docs) = item.node.get("docs").and_then(Node::scalar_text) {
                assert!(
                    docs.starts_with("https://") && !docs.contains(char::is_whitespace),
                    "{name}/{}: docs must be one https URL: {docs}",
                    item.id
                );
            }
        }
    }
    assert!(
        missing.is_empty(),
        "automated items without a concrete `fix` (what to change, one or two lines):\n{}",
        missing.join("\n")
    );
}

/// A failing item's report carries its `fix`, read through the real loader and runner.
#[test]
fn a_failing_shipped_item_reports_its_fix() {
    let p = Project::new();
    let ran = run(p.cmd().args([
        "run",
        "pre-deploy",
        "--non-interactive",
        "--only",
        "health-endpoint",
        "--var",
        &format!("base_url=http://127.0.0.1:{}", closed_port()),
        "--report",
        "json",
    ]));
    let it = item(&json(&ran), "health-endpoint").clone();
    assert_eq!(it["status"], "fail", "{it}");
    assert!(
        it["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("health_expect_json"),
        "{it}"
    );
}

/// The weekly automated items of `maintenance` run on the first morning and are skipped as not
/// due on the next, so the daily run does not rescan the world every day.
#[test]
fn weekly_automated_maintenance_items_are_skipped_until_due() {
    let p = Project::new();
    let weekly = ["dependency-updates", "security-scan"];
    let args = |p: &Project| {
        let mut cmd = p.cmd();
        cmd.args([
            "run",
            "maintenance",
            "--non-interactive",
            "--report",
            "json",
        ])
        .args(["--var", "outdated_command=echo 'OK - all packages current'"])
        .args(["--var", "security_scan_command=echo 'OK - 0 findings'"]);
        for id in weekly {
            cmd.args(["--only", id]);
        }
        cmd
    };
    let first = json(&run(&mut args(&p)));
    for id in weekly {
        assert_eq!(item(&first, id)["status"], "pass", "first run: {first}");
    }
    let second = run(&mut args(&p));
    assert_code!(second, 0);
    let second = json(&second);
    for id in weekly {
        let it = item(&second, id);
        assert_eq!(it["status"], "skip", "second run, `{id}`: {it}");
        assert!(
            it["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("not due until "),
            "{it}"
        );
    }
    // `--all` runs them anyway.
    let mut cmd = args(&p);
    let forced = json(&run(cmd.arg("--all")));
    for id in weekly {
        assert_eq!(item(&forced, id)["status"], "pass", "--all: {forced}");
    }
}

#[test]
fn pre_deploy_uses_only_probe_kinds_the_demo_service_can_answer() {
    let demo_kinds = [
        "http",
        "tcp",
        "tls",
        "dns",
        "security_headers",
        "cookies",
        "cors",
        "redirect_https",
        "exposure",
        "auth",
        "rate_limit",
        "latency",
        "cdn_cache",
        "websocket",
        "file",
        "disk",
        "exec",
    ];
    for item in items_of("pre-deploy") {
        // The Prometheus form of the backup check: the demo has no Prometheus and says so.
        if item.id == "fresh-backup-metric" {
            continue;
        }
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = item.node.get("check")
        else {
            continue;
        };
        for (kind, _) in entries {
            let kind = kind.scalar_text().unwrap_or_default();
            assert!(
                demo_kinds.contains(&kind.as_str()),
                "pre-deploy/{} uses `{kind}`, which the demo cannot answer",
                item.id
            );
        }
    }
}

#[test]
fn show_lists_every_item_of_every_shipped_checklist() {
    let p = Project::new();
    for (name, items) in shipped_ids() {
        let ran = run(p.cmd().args(["show", &name]));
        assert_code!(ran, 0, "show {name}");
        for item in items {
            assert!(
                ran.stdout.contains(&item.id),
                "`prodcheck show {name}` does not list `{}`:\n{}",
                item.id,
                ran.stdout
            );
        }
    }
}

#[test]
fn every_registered_probe_kind_is_used_or_named_optional() {
    let readme = std::fs::read_to_string("checklists/README.md").expect("checklists/README.md");
    let used: std::collections::BTreeSet<String> = shipped_ids()
        .values()
        .flatten()
        .filter_map(|i| match &i.node.get("check")?.value {
            prodcheck::checklist::node::Value::Map(entries) => entries.first()?.0.scalar_text(),
            _ => None,
        })
        .collect();
    for kind in checks::registry::KINDS {
        let optional = readme
            .lines()
            .any(|l| l.contains(&format!("`{kind}`")) && l.to_lowercase().contains("optional"));
        assert!(
            used.contains(*kind) || optional,
            "probe kind `{kind}` is neither used by a shipped checklist nor named optional in checklists/README.md"
        );
    }
}

/// Runs the shipped `deploy` items `ids` as `user` against the test PostgreSQL.
fn deploy_db_items(port: u16, user: &str, ids: &[&str], extra: &[&str]) -> serde_json::Value {
    let p = Project::new();
    let mut cmd = p.cmd();
    let password = if user == "postgres" {
        PG_PASSWORD
    } else {
        "app-pw"
    };
    cmd.env("APP_PW", password)
        .args(["run", "deploy", "--non-interactive", "--report", "json"])
        .arg("--var")
        .arg(format!(
            "database_url=postgres://{user}:${{env:APP_PW}}@127.0.0.1:{port}/postgres"
        ));
    for id in ids {
        cmd.args(["--only", id]);
    }
    for v in extra {
        cmd.args(["--var", v]);
    }
    json(&run(&mut cmd))
}

/// `database-permissions` passes a role with DML grants only, and fails one that owns a table
/// or the schema (it could drop them), which the old attribute-only query let through.
/// `database-replicas` needs the number stated: it passes with 0 stated and fails when one is
/// expected.
#[test]
fn deploy_database_items_judge_ownership_and_replicas() {
    let Some((pg, _)) = start_postgres(false) else {
        return;
    };
    psql(
        pg.port,
        "CREATE TABLE orders (id int); \
         CREATE ROLE app_dml LOGIN PASSWORD 'app-pw'; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO app_dml; \
         CREATE ROLE app_owner LOGIN PASSWORD 'app-pw'; \
         CREATE TABLE owned (id int); ALTER TABLE owned OWNER TO app_owner; \
         CREATE ROLE app_schema LOGIN PASSWORD 'app-pw'; \
         CREATE SCHEMA shop AUTHORIZATION app_schema; \
         CREATE ROLE app_member LOGIN PASSWORD 'app-pw' IN ROLE app_owner;",
    );
    for (user, want) in [
        ("app_dml", "pass"),
        ("app_owner", "fail"),
        ("app_schema", "fail"),
        ("app_member", "fail"),
    ] {
        let report = deploy_db_items(pg.port, user, &["database-permissions"], &[]);
        let it = item(&report, "database-permissions");
        assert_eq!(it["status"], want, "{user}: {it}");
    }
    // No number stated is no verdict (0 replicas would pass vacuously): the run says which
    // variable to set instead of passing.
    let p = Project::new();
    let unstated = run(p
        .cmd()
        .env("APP_PW", crate::support::PG_PASSWORD)
        .args([
            "run",
            "deploy",
            "--non-interactive",
            "--only",
            "database-replicas",
            "--report",
            "json",
        ])
        .arg("--var")
        .arg(format!(
            "database_url=postgres://postgres:${{env:APP_PW}}@127.0.0.1:{}/postgres",
            pg.port
        )));
    // A warning-severity item: unconfigured, never a pass, and it names what to set.
    let it = item(&json(&unstated), "database-replicas").clone();
    assert_eq!(it["status"], "unconfigured", "{it}");
    assert_eq!(
        it["evidence"]["unset_variables"],
        serde_json::json!(["min_replicas"]),
        "{it}"
    );
    let report = deploy_db_items(
        pg.port,
        "postgres",
        &["database-replicas"],
        &["min_replicas=0"],
    );
    let it = item(&report, "database-replicas");
    assert_eq!(it["status"], "pass", "none expected, stated: {it}");
    let report = deploy_db_items(
        pg.port,
        "postgres",
        &["database-replicas"],
        &["min_replicas=1"],
    );
    let it = item(&report, "database-replicas");
    assert_eq!(it["status"], "fail", "one replica expected: {it}");
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains("returned 0, expected >= 1"),
        "{it}"
    );
}

/// `deploy/new-version-live` passes only when `version_url` names exactly the version being
/// deployed (`1.4` is not `1.4.2`), and an unset `version` leaves it `unconfigured` (gating
/// like pending) instead of quietly checking the status alone.
#[test]
fn new_version_live_matches_the_whole_version() {
    let server = AppServer::start(axum::Router::new().route(
        "/version",
        axum::routing::get(|| async { r#"{"version":"1.4.2","commit":"3f2a1c"}"# }),
    ));
    let p = Project::new();
    let version_run = |version: Option<&str>| {
        let mut cmd = p.cmd();
        cmd.args(["run", "deploy", "--non-interactive", "--report", "json"])
            .args(["--only", "new-version-live"])
            .args([
                "--var",
                "base_url=https://shop.invalid",
                "--var",
                "rollout_wait=1s",
            ])
            .args(["--var", &format!("version_url={}", server.url("/version"))]);
        if let Some(v) = version {
            cmd.args(["--var", &format!("version={v}")]);
        }
        run(&mut cmd)
    };
    let ran = version_run(Some("1.4.2"));
    assert_eq!(item(&json(&ran), "new-version-live")["status"], "pass");
    let ran = version_run(Some("1.4"));
    let it = item(&json(&ran), "new-version-live").clone();
    assert_eq!(it["status"], "fail", "{it}");
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains(r#"body does not contain `"1.4"`"#),
        "{it}"
    );
    let ran = version_run(None);
    assert_code!(ran, 4);
    let it = item(&json(&ran), "new-version-live").clone();
    assert_eq!(it["status"], "unconfigured", "{it}");
    assert_eq!(
        it["evidence"]["unset_variables"],
        serde_json::json!(["version"])
    );
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains("variable `version` is not set"),
        "{it}"
    );
}
