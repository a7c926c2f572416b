//! The `file` (fresh, non-empty backups) and `disk` (free space floor) probes on a temp dir.

use std::time::{Duration, SystemTime};

use crate::support::*;

fn age(path: &std::path::Path, by: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now() - by))
        .expect("set mtime");
}

#[test]
fn newest_backup_must_be_fresh_and_non_empty() {
    let p = Project::new();
    let old = p.file("backups/db-1.sql.gz", "old dump");
    age(&old, Duration::from_secs(3 * 86400));
    let recent = p.file("backups/db-2.sql.gz", "recent dump");
    age(&recent, Duration::from_secs(3600));
    let stale = p.file("stale/db.sql.gz", "dump");
    age(&stale, Duration::from_secs(2 * 86400));
    p.file("empty/db.sql.gz", "");
    let d = p.path().display();
    let file = p.file(
        "c.yaml",
        &checklist_of(
            "5s",
            &[
                (
                    "fresh",
                    &format!(
                        "file: {{ path: '{d}/backups/db-*.sql.gz', max_age: 26h, min_size: 4 }}"
                    ),
                ),
                (
                    "stale",
                    &format!("file: {{ path: '{d}/stale/*.gz', max_age: 26h }}"),
                ),
                ("empty", &format!("file: {{ path: '{d}/empty/*.gz' }}")),
                ("nothing", &format!("file: {{ path: '{d}/nowhere/*.gz' }}")),
            ],
        ),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "fresh", "pass");
    assert!(message(&report, "fresh").contains("db-2.sql.gz"));
    assert_eq!(item(&report, "fresh")["evidence"]["matches"], 2);
    assert_status(&report, "stale", "fail");
    assert!(
        message(&report, "stale").contains("old, expected at most 1day 2h"),
        "{}",
        message(&report, "stale")
    );
    assert_status(&report, "empty", "fail");
    assert!(message(&report, "empty").contains("is 0 bytes, expected at least 1"));
    assert_status(&report, "nothing", "fail");
    assert!(message(&report, "nothing").contains("no file matches"));
}

#[test]
fn disk_free_space_floor_as_percentage_or_size() {
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            ("some", "disk: { path: /, min_free: 0% }"),
            ("bytes", "disk: { path: /, min_free: 1B }"),
            ("absurd", "disk: { path: /, min_free: 1000000TiB }"),
            (
                "missing",
                "disk: { path: /nonexistent/mount, min_free: 1% }",
            ),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "some", "pass");
    assert_status(&report, "bytes", "pass");
    assert!(item(&report, "bytes")["evidence"]["total_bytes"].as_u64() > Some(0));
    assert_status(&report, "absurd", "fail");
    assert!(
        message(&report, "absurd").contains("free of"),
        "{}",
        message(&report, "absurd")
    );
    assert!(message(&report, "absurd").contains("expected at least 976.6 PiB"));
    assert_status(&report, "missing", "error");
}

#[test]
fn ambiguous_min_free_is_refused_before_running() {
    let ran = run_checklist(&checklist_of(
        "5s",
        &[("bare", "disk: { path: /, min_free: 10 }")],
    ));
    assert_code!(ran, 2);
    assert!(ran.stderr.contains("ambiguous"), "{}", ran.stderr);
}
