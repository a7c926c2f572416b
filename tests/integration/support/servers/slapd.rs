//! A real OpenLDAP `slapd` on 127.0.0.1 with no database, only StartTLS (when given a
//! certificate), on a free port in a temp dir; stopped by its PID.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::process::{ServerProcess, closed_port, require_binary};

/// GnuTLS priority: TLS 1.2/1.3, ECDHE with AEAD suites only (Debian's default also serves
/// CBC suites and TLS 1.0/1.1, which the intermediate profile warns about).
const SUITES: &str = "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA";

/// Starts slapd; with `tls` = (certificate PEM, key PEM) it answers StartTLS, without it
/// it refuses the extended operation (`protocolError`, "unsupported extended operation").
pub fn start_slapd(tls: Option<(&Path, &Path)>) -> Option<ServerProcess> {
    let binary = require_binary("slapd", "slapd")?;
    let dir = tempfile::tempdir().expect("slapd dir");
    let port = closed_port();
    let mut conf = format!("pidfile {}\n", dir.path().join("slapd.pid").display());
    if let Some((cert, key)) = tls {
        conf.push_str(&format!(
            "TLSCertificateFile {}\nTLSCertificateKeyFile {}\nTLSProtocolMin 3.3\nTLSCipherSuite {SUITES}\n",
            cert.display(),
            key.display()
        ));
    }
    let conf_path = dir.path().join("slapd.conf");
    std::fs::write(&conf_path, conf).expect("slapd.conf");
    let log = dir.path().join("slapd.log");
    let mut cmd = Command::new(binary);
    // `-d 256`: stay in the foreground (our PID is slapd's), log connections to stderr.
    cmd.args(["-d", "256", "-f"])
        .arg(&conf_path)
        .args(["-h", &format!("ldap://127.0.0.1:{port}/")]);
    let mut server = ServerProcess::spawn("slapd", &mut cmd, port, dir, "-TERM", Some(&log));
    server.wait_listening(Duration::from_secs(10), &log);
    Some(server)
}
