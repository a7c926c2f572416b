//! A real PostgreSQL: `initdb` + `postgres` in a temp dir on a free port (as `nobody` when the
//! tests run as root), SCRAM passwords, optional TLS and client certificates; `psql` to set up.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::process::{ServerProcess, closed_port, hidden, require_binary, wait_until};
use crate::support::servers::key_pem;

pub const PG_PASSWORD: &str = "pg-s3cret-pw";

/// Debian's newest `/usr/lib/postgresql/N/bin`, else wherever `initdb` is on the PATH.
pub fn postgres_bin_dir() -> Option<PathBuf> {
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
pub fn start_postgres(tls: bool) -> Option<(ServerProcess, Option<PathBuf>)> {
    start_postgres_with(tls, None)
}

/// As `start_postgres`; with `client_ca` (PEM), TCP connections must also present a client
/// certificate issued by it (`hostssl … clientcert=verify-ca`, `ssl_ca_file`).
pub fn start_postgres_with(
    tls: bool,
    client_ca: Option<&str>,
) -> Option<(ServerProcess, Option<PathBuf>)> {
    let bin = postgres_bin_dir()?;
    let owner = unprivileged();
    let dir = tempfile::tempdir().expect("pg dir");
    give(dir.path(), None, 0o755);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir data");
    give(&data, owner, 0o700);
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, PG_PASSWORD).expect("pwfile");
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
        let leaf = pki.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
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
    let mut cmd = command_as(&bin.join("postgres"), owner);
    cmd.current_dir(dir.path())
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-k")
        .arg(&data)
        .args(["-c", "fsync=off", "-c", "max_connections=20"])
        .args(&tls_args);
    let mut server = ServerProcess::spawn("postgres", &mut cmd, port, dir, "-INT", Some(&log));
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

/// `psql` as the superuser against the test PostgreSQL on `port`.
pub fn psql(port: u16, sql: &str) {
    let Some(bin) = require_binary("psql", "postgresql-client") else {
        panic!("psql is needed to set up roles");
    };
    let out = std::process::Command::new(bin)
        .env("PGPASSWORD", PG_PASSWORD)
        .args(["-v", "ON_ERROR_STOP=1", "-X", "-q", "-h", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres"])
        .args(["-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
