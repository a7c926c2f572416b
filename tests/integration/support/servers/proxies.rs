//! Real proxies on 127.0.0.1: tinyproxy (HTTP, logging every connection it opens, optional
//! basic auth) and microsocks (SOCKS5 with a login, going out from 127.0.0.2).

use std::process::Command;
use std::time::Duration;

use crate::support::process::{ServerProcess, closed_port, require_binary};

/// A tinyproxy listening on 127.0.0.1, logging every connection it opens.
pub fn start_tinyproxy() -> Option<ServerProcess> {
    start_tinyproxy_with("")
}

/// As `start_tinyproxy`, with `extra` configuration lines (`BasicAuth user password`).
pub fn start_tinyproxy_with(extra: &str) -> Option<ServerProcess> {
    let binary = require_binary("tinyproxy", "tinyproxy")?;
    let dir = tempfile::tempdir().expect("proxy dir");
    // tinyproxy drops to `nobody`, which must be able to write its log.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let port = closed_port();
    let log = dir.path().join("tinyproxy.log");
    let conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "User nobody\nGroup nogroup\nPort {port}\nListen 127.0.0.1\nTimeout 10\nLogFile \"{}\"\nLogLevel Info\nMaxClients 20\nAllow 127.0.0.1\n{extra}",
            log.display()
        ),
    )
    .expect("conf");
    let mut cmd = Command::new(binary);
    cmd.args(["-d", "-c"]).arg(&conf);
    let mut server = ServerProcess::spawn("tinyproxy", &mut cmd, port, dir, "-TERM", None);
    server.wait_listening(Duration::from_secs(10), &log);
    Some(server)
}

/// How many connections tinyproxy opened to `port`.
pub fn proxied_to(proxy: &ServerProcess, port: u16) -> usize {
    std::fs::read_to_string(proxy.dir.path().join("tinyproxy.log"))
        .unwrap_or_default()
        .matches(&format!("opening connection to 127.0.0.1:{port}"))
        .count()
}

/// A microsocks SOCKS5 proxy on 127.0.0.1 with a login, whose outgoing connections come from
/// 127.0.0.2 (so the target can tell a proxied connection from a direct one).
pub fn start_microsocks(user: &str, password: &str) -> Option<ServerProcess> {
    let binary = require_binary("microsocks", "microsocks")?;
    let port = closed_port();
    let mut cmd = Command::new(binary);
    cmd.args([
        "-i",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-b",
        "127.0.0.2",
    ])
    .args(["-u", user, "-P", password]);
    let mut server = ServerProcess::spawn(
        "microsocks",
        &mut cmd,
        port,
        tempfile::tempdir().expect("dir"),
        "-TERM",
        None,
    );
    let log = server.dir.path().join("none.log");
    server.wait_listening(Duration::from_secs(10), &log);
    Some(server)
}
