//! TLS servers a test starts: `openssl s_server` and `gnutls-serv` with the suites and
//! protocols a test names, and PEM keys for servers that read key files.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::process::{ServerProcess, closed_port, require_binary};

/// `openssl s_server -www` on 127.0.0.1 with `cert`/`key` and `extra` options.
pub fn openssl_server(cert: &Path, key: &Path, extra: &[&str]) -> Option<ServerProcess> {
    let bin = require_binary("openssl", "openssl")?;
    let port = closed_port();
    let mut cmd = Command::new(bin);
    cmd.args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-www"])
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .args(extra);
    Some(started("openssl s_server", &mut cmd, port))
}

/// `gnutls-serv` with a GnuTLS priority string (for suites OpenSSL 3 no longer serves).
pub fn gnutls_server(cert: &Path, key: &Path, priority: &str) -> Option<ServerProcess> {
    let bin = require_binary("gnutls-serv", "gnutls-bin")?;
    let port = closed_port();
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string(), "--priority", priority])
        .arg("--x509certfile")
        .arg(cert)
        .arg("--x509keyfile")
        .arg(key);
    Some(started("gnutls-serv", &mut cmd, port))
}

/// Makes a self-signed RSA-`bits` certificate for 127.0.0.1 signed with `digest` (`sha256`,
/// `sha1`) with openssl, which can make the RSA and weak keys rcgen cannot; whether it did.
pub fn openssl_self_signed(
    openssl: &Path,
    bits: u32,
    digest: &str,
    cert: &Path,
    key: &Path,
) -> bool {
    Command::new(openssl)
        .args(["req", "-x509", "-newkey", &format!("rsa:{bits}"), "-nodes"])
        .args([
            &format!("-{digest}"),
            "-days",
            "60",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl req")
        .success()
}

/// Spawns a TLS test server (killed outright on drop) and waits until it listens.
fn started(what: &str, cmd: &mut Command, port: u16) -> ServerProcess {
    let dir = tempfile::tempdir().expect("server dir");
    let mut server = ServerProcess::spawn(what, cmd, port, dir, "-KILL", None);
    let log = server.path("none.log");
    server.wait_port(port, Duration::from_secs(10), &log);
    server
}

/// A generated leaf's private key as PEM, for servers that read key files.
pub fn key_pem(leaf: &prodcheck::demo::pki::Leaf) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in leaf.key_der.secret_pkcs8_der().chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n")
}
