//! The shipped database items against a PostgreSQL whose certificate comes from an internal CA:
//! with `ca_file` set for the environment, every item verifies TLS and judges the database
//! itself (it used to fail with "UnknownIssuer" on a healthy database).

use crate::support::*;
use crate::svc_postgres::{PASSWORD, start_postgres};

#[test]
fn shipped_postgres_items_trust_the_environments_ca_file() {
    let Some((pg, ca)) = start_postgres(true) else {
        return;
    };
    let ca = ca.expect("ca written");
    let url = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=require",
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
