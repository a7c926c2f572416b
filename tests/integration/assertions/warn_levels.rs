//! `{ fail, warn }` levels on `redis` `max_memory_ratio` and `postgres` `expect`, against real
//! servers: crossing the warn level reports `warn` and how close the value came to failing.

use crate::support::*;
use crate::support::{PG_PASSWORD, start_postgres};
use crate::support::{REDIS_PASSWORD as PASSWORD, start_redis};

#[test]
fn redis_memory_ratio_warns_before_it_fails() {
    let Some(redis) = start_redis() else { return };
    let url = format!("redis://:${{env:REDIS_PW}}@127.0.0.1:{}/0", redis.port);
    let ran = run_checklist_with_env(
        &checklist_of(
            "5s",
            &[
                (
                    "warn",
                    &format!(
                        "redis: {{ url: '{url}', max_memory_ratio: {{ fail: 0.9, warn: 0.0001 }} }}"
                    ),
                ),
                (
                    "calm",
                    &format!(
                        "redis: {{ url: '{url}', max_memory_ratio: {{ fail: 0.9, warn: 0.8 }} }}"
                    ),
                ),
                (
                    "fail",
                    &format!(
                        "redis: {{ url: '{url}', max_memory_ratio: {{ fail: 0.0001, warn: 0.00001 }} }}"
                    ),
                ),
            ],
        ),
        &[("REDIS_PW", PASSWORD)],
    );
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(
        item(&report, "warn")["status"],
        "warn",
        "{}",
        item(&report, "warn")
    );
    let m = message(&report, "warn");
    assert!(m.contains("degraded: memory ratio 0.0"), "{m}");
    assert!(
        m.contains("% of the 0.9 limit (warn level 0.0001), "),
        "{m}"
    );
    assert!(m.contains(" of 104857600 bytes"), "{m}");
    assert_eq!(item(&report, "calm")["status"], "pass");
    assert_eq!(item(&report, "fail")["status"], "fail");
    assert!(message(&report, "fail").contains("expected at most 0.0001"));
}

#[test]
fn postgres_query_values_warn_before_they_fail() {
    let Some((pg, _)) = start_postgres(false) else {
        return;
    };
    let url = format!(
        "postgres://postgres:${{env:PG_PW}}@127.0.0.1:{}/postgres",
        pg.port
    );
    let q = "query: 'SELECT 45'";
    let ran = run_checklist_with_env(
        &checklist_of(
            "10s",
            &[
                (
                    "warn",
                    &format!(
                        "postgres: {{ url: '{url}', {q}, expect: {{ fail: '< 50', warn: '< 40' }} }}"
                    ),
                ),
                (
                    "floor",
                    &format!(
                        "postgres: {{ url: '{url}', {q}, expect: {{ fail: '>= 30', warn: '>= 60' }} }}"
                    ),
                ),
                (
                    "calm",
                    &format!(
                        "postgres: {{ url: '{url}', {q}, expect: {{ fail: '< 100', warn: '< 90' }} }}"
                    ),
                ),
                (
                    "fail",
                    &format!(
                        "postgres: {{ url: '{url}', {q}, expect: {{ fail: '< 10', warn: '< 5' }} }}"
                    ),
                ),
            ],
        ),
        &[("PG_PW", PG_PASSWORD)],
    );
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(
        item(&report, "warn")["status"],
        "warn",
        "{}",
        item(&report, "warn")
    );
    let m = message(&report, "warn");
    assert!(
        m.contains("`query` returned 45, 90% of the 50 limit (warn level < 40)"),
        "{m}"
    );
    let m = message(&report, "floor");
    assert!(
        m.contains("`query` returned 45, 15 above the 30 floor (warn level >= 60)"),
        "{m}"
    );
    assert_eq!(item(&report, "calm")["status"], "pass");
    assert_eq!(item(&report, "fail")["status"], "fail");
    assert!(message(&report, "fail").contains("`query` returned 45, expected < 10"));
}

#[test]
fn a_late_backup_warns_before_it_is_missing() {
    let p = Project::new();
    let dump = p.file("backups/db.sql.gz", "dump");
    std::fs::File::options()
        .write(true)
        .open(&dump)
        .and_then(|f| {
            f.set_modified(
                std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600 + 600),
            )
        })
        .expect("set mtime");
    let d = p.path().display();
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "late",
                &format!(
                    "file: {{ path: '{d}/backups/*.gz', max_age: {{ fail: 26h, warn: 25h }} }}"
                ),
            ),
            (
                "missing",
                &format!(
                    "file: {{ path: '{d}/backups/*.gz', max_age: {{ fail: 25h, warn: 24h }} }}"
                ),
            ),
        ],
    ));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(
        item(&report, "late")["status"],
        "warn",
        "{}",
        item(&report, "late")
    );
    let m = message(&report, "late");
    assert!(m.contains("is getting old: age 1day 1h 10m"), "{m}");
    assert!(
        m.contains("97% of the 1day 2h limit (warn level 1day 1h)"),
        "{m}"
    );
    assert_eq!(item(&report, "missing")["status"], "fail");
}
