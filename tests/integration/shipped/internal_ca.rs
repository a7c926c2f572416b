//! The shipped database items against a PostgreSQL whose certificate comes from an internal CA:
//! with `ca_file` set for the environment, every item verifies TLS and judges the database
//! itself (it used to fail with "UnknownIssuer" on a healthy database).

use crate::support::*;

#[test]
fn shipped_postgres_items_trust_the_environments_ca_file() {
    let Some((pg, ca)) = start_postgres(true) else {
        return;
    };
    let ca = ca.expect("ca written");
    let url = format!(
        "postgres://postgres:{PG_PASSWORD}@127.0.0.1:{}/postgres?sslmode=require",
        pg.port
    );
    let p = Project::new();
    for (checklist, ids) in [
        (
            "deploy",
            &["database-connectivity", "database-permissions"][..],
        ),
        (
            "post-deploy",
            &["database-connections", "database-performance"][..],
        ),
    ] {
        let mut cmd = p.cmd();
        cmd.args(["run", checklist, "--non-interactive", "--report", "json"])
            .args(["--var", &format!("database_url={url}")])
            .args(["--var", &format!("ca_file={}", ca.display())]);
        for id in ids {
            cmd.args(["--only", id]);
        }
        let ran = run(&mut cmd);
        let report = json(&ran);
        for id in ids {
            let it = item(&report, id);
            let text = it.to_string();
            assert!(
                !text.contains("UnknownIssuer") && !text.contains("certificate"),
                "{checklist}/{id} did not trust the internal CA: {it}"
            );
            assert_eq!(it["evidence"]["tls"], true, "{checklist}/{id}: {it}");
            // The test connects as the superuser `postgres`: the permissions item must say so,
            // which proves it reached the database over verified TLS.
            let want = if *id == "database-permissions" {
                "fail"
            } else {
                "pass"
            };
            assert_eq!(it["status"], want, "{checklist}/{id}: {it}");
        }
    }
}

/// PostgreSQL URLs as users write them for libpq: `sslrootcert` names the internal CA and
/// `sslmode` decides what is verified (`verify-ca`: the chain, not the host name).
#[test]
fn libpq_sslmode_and_sslrootcert_are_honoured() {
    let Some((pg, ca)) = start_postgres(true) else {
        return;
    };
    let ca = ca.expect("ca written");
    let url = |host: &str, query: &str| {
        format!(
            "postgres://postgres:{PG_PASSWORD}@{host}:{}/postgres?{query}",
            pg.port
        )
    };
    let root = format!("sslrootcert={}", ca.display());
    let cases = [
        (
            "full-ip",
            url("127.0.0.1", &format!("sslmode=verify-full&{root}")),
            "pass",
            true,
        ),
        (
            "full-name",
            url("localhost", &format!("sslmode=verify-full&{root}")),
            "fail",
            true,
        ),
        (
            "ca-name",
            url("localhost", &format!("sslmode=verify-ca&{root}")),
            "pass",
            true,
        ),
        ("plain", url("127.0.0.1", "sslmode=disable"), "pass", false),
    ];
    let items: Vec<(String, String)> = cases
        .iter()
        .map(|(id, u, _, _)| (id.to_string(), format!("postgres: {{ url: '{u}' }}")))
        .collect();
    let refs: Vec<(&str, &str)> = items
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let ran = run_checklist(&checklist_of("10s", &refs));
    let report = json(&ran);
    for (id, _, status, tls) in cases {
        let it = item(&report, id);
        assert_eq!(it["status"], status, "{id}: {it}");
        assert_eq!(it["evidence"]["tls"], tls, "{id}: {it}");
    }
    assert!(
        message(&report, "full-name").contains("localhost"),
        "the name mismatch is named: {}",
        message(&report, "full-name")
    );
    assert!(!ran.stdout.contains(PG_PASSWORD), "password leaked");
}
