//! `assert:` on `redis` (INFO fields, against a real redis-server) and `exec` (stdout as JSON
//! and text, the exit code): operators passing, failing with the actual value, a warn level.

use crate::support::*;
use crate::support::{REDIS_PASSWORD as PASSWORD, start_redis};

fn with_asserts(probe: &str, params: &str, asserts: &[&str]) -> String {
    let list: Vec<String> = asserts.iter().map(|a| format!("'{a}'")).collect();
    format!("{probe}: {{ {params}, assert: [{}] }}", list.join(", "))
}

#[test]
fn redis_info_fields_are_asserted_with_units_and_warn_levels() {
    let Some(redis) = start_redis() else { return };
    let url = format!(
        "url: 'redis://:${{env:REDIS_PW}}@127.0.0.1:{}/0'",
        redis.port
    );
    let passing = [
        "/role == master",
        "/maxmemory == 100MiB",
        "/maxmemory <= 100MiB",
        "/connected_clients >= 1",
        r"/redis_version matches ^[0-9]+\.",
        "/maxmemory_policy contains noeviction",
        "/tcp_port exists",
        "/no_such_field absent",
    ];
    let ran = run_checklist_with_env(
        &checklist_of(
            "5s",
            &[
                ("ok", &with_asserts("redis", &url, &passing)),
                ("role", &with_asserts("redis", &url, &["/role == replica"])),
                (
                    "memory",
                    &with_asserts("redis", &url, &["/maxmemory < 10MiB"]),
                ),
                (
                    "warn",
                    &with_asserts("redis", &url, &["/maxmemory < 200MiB warn 50MiB"]),
                ),
            ],
        ),
        &[("REDIS_PW", PASSWORD)],
    );
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let ok = item(&report, "ok");
    assert_eq!(ok["status"], "pass", "{ok}");
    assert_eq!(ok["evidence"]["assertions"][0]["actual"], "master", "{ok}");
    assert_eq!(item(&report, "role")["status"], "fail");
    assert!(message(&report, "role").contains(r#"`/role == replica`: found "master""#));
    assert_eq!(item(&report, "memory")["status"], "fail");
    let m = message(&report, "memory");
    assert!(m.contains("`/maxmemory < 10MiB`: found 100 MiB"), "{m}");
    assert_eq!(item(&report, "warn")["status"], "warn");
    let m = message(&report, "warn");
    assert!(
        m.contains("100 MiB, 50% of the 200 MiB limit (warn level 50 MiB)"),
        "{m}"
    );
    assert!(!ran.stdout.contains(PASSWORD), "password leaked");
}

#[test]
fn exec_output_is_asserted_as_json_and_text() {
    let doc = r#"{"status":"ok","count":3,"items":[{"ok":true},{"ok":false}]}"#;
    let shell = format!(r#"shell: "echo '{}'""#, doc.replace('"', "\\\""));
    let passing = [
        "/status == ok",
        "/count > 2",
        "status == 0",
        "body matches \"status\"",
        "/items any /ok == true",
        "time < 10s",
    ];
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            ("ok", &with_asserts("exec", &shell, &passing)),
            (
                "every",
                &with_asserts("exec", &shell, &["/items every /ok == true"]),
            ),
            ("count", &with_asserts("exec", &shell, &["/count < 3"])),
            (
                "warn",
                &with_asserts("exec", &shell, &["/count < 10 warn 2"]),
            ),
            (
                "text",
                &with_asserts("exec", "shell: \"echo hello\"", &["/status exists"]),
            ),
            (
                "exit",
                &with_asserts("exec", "shell: \"exit 1\"", &["status == 0"]),
            ),
        ],
    ));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(
        item(&report, "ok")["status"],
        "pass",
        "{}",
        item(&report, "ok")
    );
    assert_eq!(item(&report, "every")["status"], "fail");
    assert!(message(&report, "every").contains("element 1: `/ok == true`: found false"));
    assert!(message(&report, "count").contains("`/count < 3`: found 3"));
    assert_eq!(item(&report, "warn")["status"], "warn");
    assert!(message(&report, "warn").contains("3, 30% of the 10 limit (warn level 2)"));
    assert_eq!(item(&report, "text")["status"], "fail");
    assert!(message(&report, "text").contains("stdout is not JSON"));
    // Exit 1 is a Nagios warning; the assertion on the exit code fails it.
    assert_eq!(item(&report, "exit")["status"], "fail");
    assert!(message(&report, "exit").contains("`status == 0`: found 1"));
}

#[test]
fn postgres_rows_are_asserted_and_a_failing_row_shows_its_value() {
    use crate::support::{PG_PASSWORD, start_postgres};
    let Some((pg, _)) = start_postgres(false) else {
        return;
    };
    let url = format!(
        "url: 'postgres://postgres:${{env:PG_PW}}@127.0.0.1:{}/postgres', query: \"SELECT 'up' AS state, 3 AS lag UNION ALL SELECT 'up', 12\"",
        pg.port
    );
    let passing = [
        ". every /state == up",
        "/0/lag < 5",
        "/1/lag >= 12",
        "/0/state matches ^u",
        ". any /lag == 12",
        "/0/replica absent",
        "/0 contains state",
    ];
    let ran = run_checklist_with_env(
        &checklist_of(
            "10s",
            &[
                ("ok", &with_asserts("postgres", &url, &passing)),
                ("lag", &with_asserts("postgres", &url, &["/1/lag < 10"])),
                (
                    "warn",
                    &with_asserts("postgres", &url, &["/1/lag < 20 warn 10"]),
                ),
            ],
        ),
        &[("PG_PW", PG_PASSWORD)],
    );
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let ok = item(&report, "ok");
    assert_eq!(ok["status"], "pass", "{ok}");
    assert_eq!(ok["evidence"]["assertions"][1]["actual"], "3", "{ok}");
    assert_eq!(item(&report, "lag")["status"], "fail");
    let m = message(&report, "lag");
    assert!(m.contains("`/1/lag < 10`: found 12"), "{m}");
    assert_eq!(item(&report, "warn")["status"], "warn");
    let m = message(&report, "warn");
    assert!(m.contains("12, 60% of the 20 limit (warn level 10)"), "{m}");
    assert!(!ran.stdout.contains(PG_PASSWORD), "password leaked");
}
