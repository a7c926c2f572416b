//! Tunnels through a proxy for the probes that do not speak HTTP themselves (`tcp`, `tls`,
//! `websocket`): HTTP `CONNECT` (over `http://` or `https://` proxies) and SOCKS5 (RFC 1928/1929).

use std::net::IpAddr;
use std::sync::Arc;

use hyper_util::client::proxy::matcher::Intercept;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::net::stream::NetStream;

/// The head of a proxy's answer to `CONNECT` is read no further than this.
const MAX_CONNECT_HEAD: usize = 8 * 1024;

/// A proxy between the probe and `host:port`.
#[derive(Clone)]
pub struct Tunnel {
    intercept: Intercept,
    /// The proxy URL without credentials, for messages and evidence.
    pub shown: String,
    pub host: String,
    pub port: u16,
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials.
        f.debug_struct("Tunnel")
            .field("proxy", &self.shown)
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
}

impl Tunnel {
    pub fn new(proxy: Intercept, host: &str, port: u16) -> Tunnel {
        Tunnel {
            shown: crate::net::http::proxy::redact_url(&proxy.uri().to_string()),
            intercept: proxy,
            host: host.trim_matches(['[', ']']).to_string(),
            port,
        }
    }

    /// `host:port` as a proxy request names it (`[::1]:443` for IPv6).
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Opens a connection to the target through the proxy. The error is a sentence about the
    /// proxy (what it answered, or that it could not be reached).
    pub async fn open(&self) -> Result<NetStream, String> {
        let uri = self.intercept.uri();
        let scheme = uri.scheme_str().unwrap_or("http");
        let proxy_host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
        let default_port = match scheme {
            "https" => 443,
            "http" => 80,
            _ => 1080,
        };
        let proxy_port = uri.port_u16().unwrap_or(default_port);
        let tcp = TcpStream::connect((proxy_host, proxy_port))
            .await
            .map_err(|e| format!("the proxy {} could not be reached: {e}", self.shown))?;
        let _ = tcp.set_nodelay(true);
        match scheme {
            "http" => self.connect_over(NetStream::Tcp(tcp)).await,
            "https" => {
                let tls = to_proxy_tls(tcp, proxy_host)
                    .await
                    .map_err(|e| format!("TLS to the proxy {} failed: {e}", self.shown))?;
                self.connect_over(tls).await
            }
            "socks5" | "socks5h" => self.socks5(tcp, scheme == "socks5h").await,
            other => Err(format!(
                "proxy scheme `{other}` cannot carry a tunnel; use http://, https:// or socks5://"
            )),
        }
    }

    /// HTTP `CONNECT host:port`, then the raw tunnel once the proxy answers 2xx.
    async fn connect_over(&self, mut stream: NetStream) -> Result<NetStream, String> {
        let authority = self.authority();
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(auth) = self.intercept.basic_auth() {
            request.push_str("Proxy-Authorization: ");
            request.push_str(&String::from_utf8_lossy(auth.as_bytes()));
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("the proxy {} closed the connection: {e}", self.shown))?;
        // Byte by byte up to the blank line: whatever follows belongs to the tunnel.
        let mut head = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= MAX_CONNECT_HEAD {
                return Err(format!(
                    "the proxy {} answered CONNECT with more than {MAX_CONNECT_HEAD} bytes of headers",
                    self.shown
                ));
            }
            match stream.read(&mut byte).await {
                Ok(0) => {
                    return Err(format!(
                        "the proxy {} closed the connection instead of answering CONNECT {authority}",
                        self.shown
                    ));
                }
                Ok(_) => head.push(byte[0]),
                Err(e) => {
                    return Err(format!(
                        "the proxy {} failed while answering CONNECT: {e}",
                        self.shown
                    ));
                }
            }
        }
        let head = String::from_utf8_lossy(&head);
        let status_line = head.lines().next().unwrap_or_default();
        let code = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok());
        match code {
            Some(c) if (200..300).contains(&c) => Ok(stream),
            Some(c @ (401 | 407)) if self.intercept.basic_auth().is_some() => Err(format!(
                "the proxy {} rejected the credentials for CONNECT {authority} ({c})",
                self.shown
            )),
            Some(c @ (401 | 407)) => Err(format!(
                "the proxy {} wants credentials for CONNECT {authority} ({c}); put them in the proxy URL: `http://user:${{env:PROXY_PASSWORD}}@host:port`",
                self.shown
            )),
            Some(_) => Err(format!(
                "the proxy {} refused CONNECT {authority}: `{}`",
                self.shown,
                status_line.trim()
            )),
            None => Err(format!(
                "the proxy {} did not answer CONNECT in HTTP (`{}`)",
                self.shown,
                status_line.chars().take(60).collect::<String>()
            )),
        }
    }

    /// SOCKS5 CONNECT; `remote_dns` (socks5h) sends the name, else it is resolved here.
    async fn socks5(&self, mut s: TcpStream, remote_dns: bool) -> Result<NetStream, String> {
        let fail = |what: &str| format!("the SOCKS5 proxy {} {what}", self.shown);
        let auth = self.intercept.raw_auth();
        let greeting: &[u8] = match auth {
            Some(_) => &[5, 2, 0, 2],
            None => &[5, 1, 0],
        };
        let choice: [u8; 2] = socks_exchange(&mut s, greeting, "the greeting", &fail).await?;
        match (choice, auth) {
            ([5, 0], _) => {}
            ([5, 2], Some((user, pass))) => {
                let (u, p) = (user.as_bytes(), pass.as_bytes());
                if u.len() > 255 || p.len() > 255 {
                    return Err(fail("needs a user name and password of at most 255 bytes"));
                }
                let mut msg = vec![1, u.len() as u8];
                msg.extend_from_slice(u);
                msg.push(p.len() as u8);
                msg.extend_from_slice(p);
                let status: [u8; 2] = socks_exchange(&mut s, &msg, "the login", &fail).await?;
                if status[1] != 0 {
                    return Err(fail("rejected the user name and password"));
                }
            }
            ([5, 0xff], _) | ([5, 2], None) => {
                return Err(fail(
                    "wants a login prodcheck was not given; put it in the proxy URL: `socks5://user:${env:PROXY_PASSWORD}@host:port`",
                ));
            }
            (other, _) => {
                return Err(fail(&format!(
                    "answered the greeting with {other:02x?}, not SOCKS5"
                )));
            }
        }
        let mut request = vec![5, 1, 0];
        match (self.host.parse::<IpAddr>(), remote_dns) {
            (Ok(ip), _) => push_ip(&mut request, ip),
            (Err(_), true) => {
                let name = self.host.as_bytes();
                if name.len() > 255 {
                    return Err(format!("`{}` is too long a name for SOCKS5", self.host));
                }
                request.push(3);
                request.push(name.len() as u8);
                request.extend_from_slice(name);
            }
            (Err(_), false) => {
                // socks5:// resolves here (curl's convention); socks5h:// lets the proxy.
                let ip = tokio::net::lookup_host((self.host.as_str(), self.port))
                    .await
                    .ok()
                    .and_then(|mut a| a.next())
                    .map(|a| a.ip())
                    .ok_or_else(|| {
                        format!(
                            "`{}` does not resolve here; with socks5h:// the proxy resolves it",
                            self.host
                        )
                    })?;
                push_ip(&mut request, ip);
            }
        }
        request.extend_from_slice(&self.port.to_be_bytes());
        let reply: [u8; 4] = socks_exchange(&mut s, &request, "CONNECT", &fail).await?;
        if reply[1] != 0 {
            return Err(fail(&format!(
                "refused CONNECT {}: {}",
                self.authority(),
                socks_reply(reply[1])
            )));
        }
        // The bound address the proxy reports: read and dropped.
        let rest = match reply[3] {
            1 => 4 + 2,
            4 => 16 + 2,
            3 => {
                let mut len = [0u8; 1];
                s.read_exact(&mut len)
                    .await
                    .map_err(|e| fail(&format!("cut its answer short: {e}")))?;
                usize::from(len[0]) + 2
            }
            other => return Err(fail(&format!("answered with address type {other}"))),
        };
        let mut skip = vec![0u8; rest];
        s.read_exact(&mut skip)
            .await
            .map_err(|e| fail(&format!("cut its answer short: {e}")))?;
        Ok(NetStream::Tcp(s))
    }
}

/// Sends `message` to the SOCKS5 proxy and reads its `N`-byte answer to `step`, or says in
/// `fail`'s words how that went wrong.
async fn socks_exchange<const N: usize>(
    s: &mut TcpStream,
    message: &[u8],
    step: &str,
    fail: &impl Fn(&str) -> String,
) -> Result<[u8; N], String> {
    s.write_all(message)
        .await
        .map_err(|e| fail(&format!("closed the connection: {e}")))?;
    let mut answer = [0u8; N];
    s.read_exact(&mut answer)
        .await
        .map_err(|e| fail(&format!("did not answer {step}: {e}")))?;
    Ok(answer)
}

/// A SOCKS5 address of `ip`: its type (1: IPv4, 4: IPv6), then its octets.
fn push_ip(request: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(ip) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
    }
}

/// RFC 1928's reply codes in words.
fn socks_reply(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "not allowed by its rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused by the target",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

/// TLS to an `https://` proxy, verified against the system roots.
async fn to_proxy_tls(tcp: TcpStream, host: &str) -> Result<NetStream, String> {
    let roots = crate::net::roots::root_store(None)?;
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    Ok(NetStream::Tls(Box::new(tls)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::client::proxy::matcher::Matcher;

    fn tunnel(proxy: &str, host: &str) -> Tunnel {
        let m = Matcher::builder().all(proxy.to_string()).build();
        let i = m
            .intercept(&"https://t.example/".parse().expect("uri"))
            .expect("intercepted");
        Tunnel::new(i, host, 443)
    }

    #[test]
    fn the_tunnel_names_the_proxy_without_credentials() {
        let t = tunnel("http://ops:s3cret@127.0.0.1:3128", "[::1]");
        assert_eq!(t.shown, "http://127.0.0.1:3128/");
        assert_eq!(t.authority(), "[::1]:443");
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[tokio::test]
    async fn a_refused_connect_says_what_the_proxy_answered() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).await.expect("read");
            let asked = String::from_utf8_lossy(&buf[..n]).into_owned();
            s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                .await
                .expect("write");
            asked
        });
        let t = tunnel(&format!("http://u:pw@127.0.0.1:{port}"), "db.internal");
        let err = t.open().await.expect_err("refused");
        assert_eq!(
            err,
            format!(
                "the proxy http://127.0.0.1:{port}/ refused CONNECT db.internal:443: `HTTP/1.1 403 Forbidden`"
            )
        );
        let asked = server.await.expect("server");
        assert!(
            asked.starts_with("CONNECT db.internal:443 HTTP/1.1\r\n"),
            "{asked}"
        );
        // Basic u:pw
        assert!(
            asked.contains("Proxy-Authorization: Basic dTpwdw=="),
            "{asked}"
        );
    }
}
