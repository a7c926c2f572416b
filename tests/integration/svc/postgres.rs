//! The `postgres` probe against a real PostgreSQL: `initdb` + `postgres` in a temp dir on a
//! free port (as `nobody` when the tests run as root), SCRAM passwords, optional TLS.

use crate::support::*;

fn pg_run(text: &str) -> Ran {
    run_checklist_with_env(text, &[("PG_PW", PG_PASSWORD)])
}

#[test]
fn healthy_primary_passes_every_figure_and_failures_are_told_apart() {
    let Some((pg, _)) = start_postgres(false) else {
        return;
    };
    let url = format!(
        "postgres://postgres:${{env:PG_PW}}@127.0.0.1:{}/postgres",
        pg.port
    );
    let ran = pg_run(&checklist_of(
        "10s",
        &[
            (
                "healthy",
                &format!(
                    "postgres: {{ url: '{url}', min_version: 12, max_connections_used: 90, read_only: false, query: 'SELECT count(*) FROM pg_database', expect: '>= 3' }}"
                ),
            ),
            (
                "badpw",
                &format!(
                    "postgres: {{ url: 'postgres://postgres:wrong-pw@127.0.0.1:{}/postgres' }}",
                    pg.port
                ),
            ),
            (
                "standby",
                &format!("postgres: {{ url: '{url}', read_only: true }}"),
            ),
            (
                "newer",
                &format!("postgres: {{ url: '{url}', min_version: '99.1' }}"),
            ),
            (
                "backlog",
                &format!("postgres: {{ url: '{url}', query: 'SELECT 42', expect: '< 10' }}"),
            ),
            (
                "badsql",
                &format!("postgres: {{ url: '{url}', query: 'SELEC 1', expect: '== 1' }}"),
            ),
            (
                "down",
                &format!(
                    "postgres: {{ url: 'postgres://postgres:x@127.0.0.1:{}/postgres' }}",
                    closed_port()
                ),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "healthy", "pass");
    assert!(message(&report, "healthy").contains("ran SELECT 1"));
    assert_eq!(item(&report, "healthy")["evidence"]["in_recovery"], false);
    let badpw = message(&report, "badpw");
    assert_eq!(item(&report, "badpw")["status"], "fail", "{badpw}");
    assert!(badpw.contains("password authentication failed"), "{badpw}");
    assert!(
        badpw.contains("postgres:***@") && !badpw.contains("wrong-pw"),
        "{badpw}"
    );
    assert_status(&report, "standby", "fail");
    assert!(message(&report, "standby").contains("expected read-only (in recovery)"));
    assert_status(&report, "newer", "fail");
    assert!(message(&report, "newer").contains("expected at least 99.1"));
    assert_status(&report, "backlog", "fail");
    assert!(
        message(&report, "backlog").contains("`query` returned 42, expected < 10"),
        "{}",
        message(&report, "backlog")
    );
    assert_status(&report, "badsql", "error");
    assert!(message(&report, "badsql").contains("syntax error"));
    assert_status(&report, "down", "fail");
    assert!(
        !ran.stdout.contains(PG_PASSWORD),
        "password leaked: {}",
        ran.stdout
    );
}

#[test]
fn tls_is_verified_against_ca_file() {
    let Some((pg, ca)) = start_postgres(true) else {
        return;
    };
    let ca = ca.expect("ca written");
    let url = format!(
        "postgres://postgres:${{env:PG_PW}}@127.0.0.1:{}/postgres?sslmode=require",
        pg.port
    );
    let ran = pg_run(&checklist_of(
        "10s",
        &[
            (
                "trusted",
                &format!("postgres: {{ url: '{url}', ca_file: '{}' }}", ca.display()),
            ),
            ("untrusted", &format!("postgres: {{ url: '{url}' }}")),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "trusted", "pass");
    assert_eq!(item(&report, "trusted")["evidence"]["tls"], true);
    assert_status(&report, "untrusted", "fail");
    assert!(
        message(&report, "untrusted").contains("certificate"),
        "{}",
        message(&report, "untrusted")
    );
}
