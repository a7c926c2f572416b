//! A real nginx for tests: its own prefix, config and free ports, started in the foreground
//! (`master_process off`, so no user switching and one PID) and stopped by that PID.

#![allow(dead_code, reason = "each test module uses a different subset")]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::require_binary;

pub struct Nginx {
    pub dir: tempfile::TempDir,
    child: Child,
    pub ports: Vec<u16>,
}

/// A free port on 127.0.0.1 (bound, then released for nginx to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
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
        let conf_path: PathBuf = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx { dir, child, ports };
        nginx.wait_ready();
        Some(nginx)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in self.ports.clone() {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Ok(Some(status)) = self.child.try_wait() {
                    let log = std::fs::read_to_string(self.dir.path().join("error.log"))
                        .unwrap_or_default();
                    panic!("nginx exited ({status}) before listening on {port}:\n{log}");
                }
                assert!(
                    Instant::now() < deadline,
                    "nginx did not listen on {port} within 10s"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    pub fn url(&self, index: usize, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[index])
    }

    /// Writes a file under the prefix (for `root {DIR}/www;` style configs).
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Stop exactly the process we started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
