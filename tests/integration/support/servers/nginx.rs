//! A real nginx for tests: its own prefix, config and free ports, started in the foreground
//! (`master_process off`, so no user switching and one PID) and stopped by that PID.

use std::process::Command;
use std::time::Duration;

use crate::support::process::{ServerProcess, free_port, require_binary};

pub struct Nginx {
    server: ServerProcess,
    pub ports: Vec<u16>,
}

impl Nginx {
    /// Starts nginx with `servers`: the text inside `http { }` after the common settings.
    /// `{PORT0}`, `{PORT1}`… in the text are replaced by free ports; `{DIR}` by the prefix.
    /// Returns `None` only when nginx is missing and the developer opted out (`support::missing`).
    pub fn start(port_count: usize, servers: &str) -> Option<Nginx> {
        let binary = require_binary("nginx", "nginx-light")?;
        let dir = tempfile::tempdir().expect("nginx dir");
        let ports: Vec<u16> = (0..port_count).map(|_| free_port()).collect();
        let mut body = servers.replace("{DIR}", &dir.path().display().to_string());
        for (i, p) in ports.iter().enumerate() {
            body = body.replace(&format!("{{PORT{i}}}"), &p.to_string());
        }
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\nevents {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  default_type text/plain;\n{body}\n}}\n"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let log = dir.path().join("error.log");
        let mut cmd = Command::new(binary);
        cmd.arg("-p").arg(dir.path()).arg("-c").arg(&conf_path);
        let port = ports.first().copied().unwrap_or_default();
        let mut server = ServerProcess::spawn("nginx", &mut cmd, port, dir, "-KILL", None);
        for &port in &ports {
            server.wait_port(port, Duration::from_secs(10), &log);
        }
        Some(Nginx { server, ports })
    }

    pub fn url(&self, index: usize, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[index])
    }

    /// A path under the prefix (`{DIR}` in the configuration).
    pub fn path(&self, rel: &str) -> std::path::PathBuf {
        self.server.path(rel)
    }

    /// Writes a file under the prefix (for `root {DIR}/www;` style configs).
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
}
