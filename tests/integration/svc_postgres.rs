//! The `postgres` probe against a real PostgreSQL: `initdb` + `postgres` in a temp dir on a
//! free port (as `nobody` when the tests run as root), SCRAM passwords, optional TLS.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

pub(crate) const PASSWORD: &str = "pg-s3cret-pw";

/// Debian's newest `/usr/lib/postgresql/N/bin`, else wherever `initdb` is on the PATH.
pub(crate) fn bin_dir() -> Option<PathBuf> {
    if hidden("initdb") {
        return require_binary("initdb", "postgresql").and(None);
    }
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    debian.retain(|d| d.join("initdb").is_file() && d.join("postgres").is_file());
    debian.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    if let Some(dir) = debian.pop() {
        return Some(dir);
    }
    require_binary("initdb", "postgresql").and_then(|p| p.parent().map(Path::to_path_buf))
}

/// `(uid, gid)` of `nobody` when running as root (PostgreSQL refuses to run as root).
fn unprivileged() -> Option<(u32, u32)> {
    let me = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    if me.ok() != Some(0) {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    let line = passwd
        .lines()
        .find(|l| l.starts_with("nobody:"))
        .expect("a `nobody` user");
    let f: Vec<&str> = line.split(':').collect();
    Some((f[2].parse().expect("uid"), f[3].parse().expect("gid")))
}

fn give(path: &Path, owner: Option<(u32, u32)>, mode: u32) {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `program` run as `owner` (via setpriv, which execs: the PID is the server's own).
fn command_as(program: &Path, owner: Option<(u32, u32)>) -> Command {
    match owner {
        None => Command::new(program),
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--clear-groups")
                .arg("--")
                .arg(program);
            c
        }
    }
}

/// Starts PostgreSQL; with `tls`, serves a certificate for 127.0.0.1 signed by the returned
/// CA (PEM path).
pub(crate) fn start_postgres(tls: bool) -> Option<(ServerProcess, Option<PathBuf>)> {
    start_postgres_with(tls, None)
}

/// As `start_postgres`; with `client_ca` (PEM), TCP connections must also present a client
/// certificate issued by it (`hostssl … clientcert=verify-ca`, `ssl_ca_file`).
pub(crate) fn start_postgres_with(
    tls: bool,
    client_ca: Option<&str>,
) -> Option<(ServerProcess, Option<PathBuf>)> {
    let bin = bin_dir()?;
    let owner = unprivileged();
    let dir = tempfile::tempdir().expect("pg dir");
    give(dir.path(), None, 0o755);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir data");
    give(&data, owner, 0o700);
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, PASSWORD).expect("pwfile");
    give(&pwfile, owner, 0o600);
    let log = dir.path().join("postgres.log");

    let init = command_as(&bin.join("initdb"), owner)
        .current_dir(dir.path())
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-E", "UTF8", "--no-sync"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .output()
        .expect("run initdb");
    assert!(
        init.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );

    let mut ca_path = None;
    let mut tls_args: Vec<String> = Vec::new();
    if tls {
        let pki = prodcheck::demo::pki::Pki::new("prodcheck test CA").expect("CA");
        let leaf = pki.leaf_for_days(&["127.0.0.1"], 30).expect("leaf");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &pki.ca_pem).expect("ca");
        let cert = data.join("server.crt");
        let key = data.join("server.key");
        std::fs::write(&cert, &leaf.cert_pem).expect("cert");
        std::fs::write(&key, key_pem(&leaf)).expect("key");
        give(&cert, owner, 0o644);
        give(&key, owner, 0o600);
        tls_args = vec!["-c".into(), "ssl=on".into()];
        ca_path = Some(ca);
        if let Some(client_ca) = client_ca {
            let file = data.join("client-ca.pem");
            std::fs::write(&file, client_ca).expect("client ca");
            give(&file, owner, 0o644);
            let hba = data.join("pg_hba.conf");
            std::fs::write(
                &hba,
                "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-ca\n",
            )
            .expect("pg_hba.conf");
            give(&hba, owner, 0o600);
            tls_args.extend(["-c".into(), "ssl_ca_file=client-ca.pem".into()]);
        }
    }

    let port = closed_port();
    let child = command_as(&bin.join("postgres"), owner)
        .current_dir(dir.path())
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-k")
        .arg(&data)
        .args(["-c", "fsync=off", "-c", "max_connections=20"])
        .args(&tls_args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start postgres");
    let mut server = ServerProcess {
        child,
        port,
        dir,
        stop_signal: "-INT",
    };
    server.wait_listening(Duration::from_secs(30), &log);
    let ready = wait_until(Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("ready to accept connections"))
    });
    assert!(
        ready,
        "postgres not ready: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    Some((server, ca_path))
}

fn pg_run(text: &str) -> Ran {
    run_checklist_with_env(text, &[("PG_PW", PASSWORD)])
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
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(
        item(&report, "healthy")["status"],
        "pass",
        "{}",
        message(&report, "healthy")
    );
    assert!(message(&report, "healthy").contains("ran SELECT 1"));
    assert_eq!(item(&report, "healthy")["evidence"]["in_recovery"], false);
    let badpw = message(&report, "badpw");
    assert_eq!(item(&report, "badpw")["status"], "fail", "{badpw}");
    assert!(badpw.contains("password authentication failed"), "{badpw}");
    assert!(
        badpw.contains("postgres:***@") && !badpw.contains("wrong-pw"),
        "{badpw}"
    );
    assert_eq!(item(&report, "standby")["status"], "fail");
    assert!(message(&report, "standby").contains("expected read-only (in recovery)"));
    assert_eq!(item(&report, "newer")["status"], "fail");
    assert!(message(&report, "newer").contains("expected at least 99.1"));
    assert_eq!(item(&report, "backlog")["status"], "fail");
    assert!(
        message(&report, "backlog").contains("`query` returned 42, expected < 10"),
        "{}",
        message(&report, "backlog")
    );
    assert_eq!(
        item(&report, "badsql")["status"],
        "error",
        "{}",
        message(&report, "badsql")
    );
    assert!(message(&report, "badsql").contains("syntax error"));
    assert_eq!(item(&report, "down")["status"], "fail");
    assert!(
        !ran.stdout.contains(PASSWORD),
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
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(
        item(&report, "trusted")["status"],
        "pass",
        "{}",
        message(&report, "trusted")
    );
    assert_eq!(item(&report, "trusted")["evidence"]["tls"], true);
    assert_eq!(item(&report, "untrusted")["status"], "fail");
    assert!(
        message(&report, "untrusted").contains("certificate"),
        "{}",
        message(&report, "untrusted")
    );
}
