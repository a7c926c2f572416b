//! `{ fail, warn }` levels on the limits that had only a failing level: `disk` `min_free` (a
//! floor, in either unit), `file` `min_size`, `websocket` `max_latency` and `postgres`
//! `max_connections_used` (`latency` `max_error_rate` and `dns` `min_records`: their own files).

use crate::support::*;
use crate::support::{PG_PASSWORD, start_postgres};

#[test]
fn disk_free_space_warns_while_there_is_still_room() {
    let p = Project::new();
    let d = p.path().display();
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "percent",
                &format!("disk: {{ path: '{d}', min_free: {{ fail: 0.001%, warn: 100% }} }}"),
            ),
            (
                "mixed",
                &format!("disk: {{ path: '{d}', min_free: {{ fail: 1KiB, warn: 100% }} }}"),
            ),
            (
                "calm",
                &format!("disk: {{ path: '{d}', min_free: {{ fail: 0%, warn: 0.0001% }} }}"),
            ),
            (
                "fail",
                &format!(
                    "disk: {{ path: '{d}', min_free: {{ fail: 1000000TiB, warn: 2000000TiB }} }}"
                ),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "percent", "warn");
    let m = message(&report, "percent");
    assert!(m.contains(" free of "), "{m}");
    assert!(
        m.contains("% above the 0.001% floor (warn level 100%)"),
        "{m}"
    );
    // The warn level is a percentage, the failing one a size: the distance is in bytes.
    assert_status(&report, "mixed", "warn");
    let m = message(&report, "mixed");
    assert!(
        m.contains("above the 1.0 KiB floor (warn level 100%)"),
        "{m}"
    );
    assert_status(&report, "calm", "pass");
    assert_status(&report, "fail", "fail");
    assert!(message(&report, "fail").contains("expected at least 976.6 PiB"));
}

#[test]
fn a_backup_much_smaller_than_usual_warns_and_an_empty_one_still_fails() {
    let p = Project::new();
    p.file("backups/db.sql.gz", &"x".repeat(2048));
    p.file("empty/db.sql.gz", "");
    let d = p.path().display();
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "small",
                &format!(
                    "file: {{ path: '{d}/backups/*.gz', min_size: {{ fail: 1KiB, warn: 1MiB }} }}"
                ),
            ),
            (
                "calm",
                &format!(
                    "file: {{ path: '{d}/backups/*.gz', min_size: {{ fail: 1KiB, warn: 2KiB }} }}"
                ),
            ),
            // A warn level alone keeps the 1-byte failing level: an empty file fails.
            (
                "empty",
                &format!("file: {{ path: '{d}/empty/*.gz', min_size: {{ warn: 1MiB }} }}"),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "small", "warn");
    let m = message(&report, "small");
    assert!(
        m.contains("is smaller than usual: size 2 KiB, 1 KiB above the 1 KiB floor (warn level 1 MiB) (2048 bytes)"),
        "{m}"
    );
    assert_status(&report, "calm", "pass");
    assert_status(&report, "empty", "fail");
    assert!(
        message(&report, "empty").contains("is 0 bytes, expected at least 1"),
        "{}",
        message(&report, "empty")
    );
}

#[test]
fn an_inverted_floor_or_ceiling_is_refused_before_running() {
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "disk",
                "disk: { path: /, min_free: { fail: 20%, warn: 10% } }",
            ),
            (
                "ws",
                "websocket: { url: 'ws://127.0.0.1:9/', max_latency: { fail: 100ms, warn: 1s } }",
            ),
            (
                "pg",
                "postgres: { url: 'postgres://u@127.0.0.1/db', max_connections_used: { fail: 80, warn: 90 } }",
            ),
            (
                "file",
                "file: { path: /var/backups/*.gz, min_size: { fail: 1MiB, warn: 1KiB } }",
            ),
            (
                "latency",
                "latency: { url: 'http://127.0.0.1:9/', max_error_rate: { fail: 1, warn: 5 } }",
            ),
        ],
    ));
    assert_code!(ran, 2);
    for want in [
        "the warn level 10% is under the failing level 20%: it would never fire first",
        "the warn level 1 s is above the failing level 100 ms: it would never fire first",
        "the warn level 90% is above the failing level 80%: it would never fire first",
        "`min_size`: the warn level 1 KiB is under the failing level 1 MiB: it would never fire first",
        "`max_error_rate`: the warn level 5% is above the failing level 1%: it would never fire first",
    ] {
        assert!(ran.stderr.contains(want), "{want}:\n{}", ran.stderr);
    }
}

#[test]
fn a_slow_websocket_warns_before_it_fails() {
    // The echo server answers messages starting with `slow` after 300 ms.
    let server = echo_server(None);
    let url = format!("ws://127.0.0.1:{}/socket", server.addr.port());
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "round-trip",
                &format!(
                    "websocket: {{ url: '{url}', send: slow-1, expect: slow-1, max_latency: {{ fail: 3s, warn: 100ms }} }}"
                ),
            ),
            (
                "handshake",
                &format!("websocket: {{ url: '{url}', max_latency: {{ fail: 3s, warn: 0ms }} }}"),
            ),
            (
                "calm",
                &format!(
                    "websocket: {{ url: '{url}', send: fast, expect: fast, max_latency: {{ fail: 3s, warn: 2s }} }}"
                ),
            ),
            (
                "fail",
                &format!(
                    "websocket: {{ url: '{url}', send: slow-2, expect: slow-2, max_latency: {{ fail: 100ms, warn: 50ms }} }}"
                ),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "round-trip", "warn");
    let m = message(&report, "round-trip");
    assert!(m.contains(", degraded: round trip took "), "{m}");
    assert!(m.contains("% of the 3 s limit (warn level 100 ms)"), "{m}");
    assert_status(&report, "handshake", "warn");
    let m = message(&report, "handshake");
    assert!(m.contains("degraded: handshake took "), "{m}");
    assert!(m.contains("% of the 3 s limit (warn level 0 ms)"), "{m}");
    assert_status(&report, "calm", "pass");
    assert_status(&report, "fail", "fail");
    assert!(
        message(&report, "fail").contains("expected at most 100 ms"),
        "{}",
        message(&report, "fail")
    );
}

#[test]
fn postgres_connections_in_use_warn_before_they_fail() {
    let Some((pg, _)) = start_postgres(false) else {
        return;
    };
    // The test server allows 20 connections; the probe's own is 5% of them.
    let url = format!(
        "postgres://postgres:${{env:PG_PW}}@127.0.0.1:{}/postgres",
        pg.port
    );
    let ran = run_checklist_with_env(
        &checklist_of(
            "10s",
            &[
                (
                    "warn",
                    &format!(
                        "postgres: {{ url: '{url}', max_connections_used: {{ fail: 90, warn: 4 }} }}"
                    ),
                ),
                (
                    "calm",
                    &format!(
                        "postgres: {{ url: '{url}', max_connections_used: {{ fail: 90, warn: 80 }} }}"
                    ),
                ),
                (
                    "fail",
                    &format!(
                        "postgres: {{ url: '{url}', max_connections_used: {{ fail: 4, warn: 2 }} }}"
                    ),
                ),
            ],
        ),
        &[("PG_PW", PG_PASSWORD)],
    );
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "warn", "warn");
    let m = message(&report, "warn");
    assert!(m.contains("degraded: connections in use "), "{m}");
    assert!(m.contains("% of the 90% limit (warn level 4%), "), "{m}");
    assert!(m.ends_with(" of 20"), "{m}");
    assert_status(&report, "calm", "pass");
    assert_status(&report, "fail", "fail");
    assert!(
        message(&report, "fail").contains("of 20 connections in use")
            && message(&report, "fail").contains("expected at most 4%"),
        "{}",
        message(&report, "fail")
    );
}
