//! Crash-safe state: sign-offs and history survive SIGKILL at any moment (every file still
//! parses, no committed record is lost), and concurrent writers keep each other's records.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

const ITEMS: usize = 40;

fn checklist() -> String {
    (0..ITEMS)
        .fold(Checklist::new("crash").section("S"), |list, i| {
            list.item(
                Item::manual(&format!("m{i}"), "{ how: x, every: 30d }").title(&format!("M{i}")),
            )
        })
        .build()
}

/// The item ids in `signoffs.yaml`, which must parse whenever it exists.
fn signed(p: &Project) -> Vec<String> {
    let path = p.path().join(".prodcheck/signoffs.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    let doc = prodcheck::checklist::node::parse(&text)
        .unwrap_or_else(|e| panic!("signoffs.yaml does not parse ({}):\n{text}", e.message));
    let json = doc.to_json();
    let mut ids = Vec::new();
    collect_items(&json, &mut ids);
    ids
}

fn collect_items(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(id)) = map.get("item") {
                out.push(id.clone());
            }
            map.values().for_each(|x| collect_items(x, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|x| collect_items(x, out)),
        _ => {}
    }
}

#[test]
fn signoffs_survive_sigkill_at_any_moment() {
    let p = Project::new();
    p.file("c.yaml", &checklist());
    let bin = assert_cmd::cargo::cargo_bin("prodcheck");
    let mut committed: Vec<String> = Vec::new();
    for i in 0..ITEMS {
        let id = format!("m{i}");
        let mut child = Command::new(&bin)
            .current_dir(p.path())
            .args(["signoff", "c.yaml", &id, "--by", "tester"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prodcheck");
        // Kills land before, during and after the write (0 to 60 ms after start).
        std::thread::sleep(Duration::from_micros((i as u64 * 2_654_435_761) % 60_000));
        let _ = child.kill();
        let finished = child.wait().is_ok_and(|s| s.success());
        if finished {
            committed.push(id);
        }
        let present = signed(&p);
        for c in &committed {
            assert!(
                present.contains(c),
                "committed sign-off `{c}` lost after kill #{i}: {present:?}"
            );
        }
    }
    eprintln!(
        "{} of {ITEMS} sign-offs finished before their SIGKILL",
        committed.len()
    );
    // A final unkilled sign-off still lands next to whatever survived.
    p.case()
        .args(["signoff", "c.yaml", "m0", "--by", "tester"])
        .run();
    assert!(signed(&p).contains(&"m0".to_string()));
}

#[test]
fn concurrent_signoffs_keep_every_record() {
    let p = Project::new();
    p.file("c.yaml", &checklist());
    let bin = assert_cmd::cargo::cargo_bin("prodcheck");
    let children: Vec<_> = (0..12)
        .map(|i| {
            Command::new(&bin)
                .current_dir(p.path())
                .args(["signoff", "c.yaml", &format!("m{i}"), "--by", "tester"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start prodcheck")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success());
    }
    let present = signed(&p);
    for i in 0..12 {
        assert!(present.contains(&format!("m{i}")), "m{i} lost: {present:?}");
    }
}
