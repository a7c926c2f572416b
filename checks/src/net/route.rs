//! The one way non-HTTP probes reach `host:port`: resolve (or take `resolve`), keep the
//! addresses `ip_family` admits, connect to the first that accepts, or tunnel through a proxy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::net::dial::{NotConnected, connect_failed, lookup_failed, within};
use crate::net::family::{self, IpFamily, Resolve};
use crate::net::http::proxy::ProxySetting;
use crate::net::params::NetParams;
use crate::net::starttls::StartTls;
use crate::net::stream::NetStream;
use crate::net::tunnel::Tunnel;
use crate::no_answer::NoAnswer;
use crate::politeness::{Politeness, QueueClock};

/// How connections to one target are opened once the first one succeeded: to the same
/// address, or through the same proxy (the `tls` probe opens dozens for its scans).
#[derive(Debug, Clone)]
pub enum Route {
    Direct(SocketAddr),
    Tunnel(Arc<Tunnel>),
    /// Either of the above, then the STARTTLS exchange: every connection arrives ready for
    /// a ClientHello (the `tls` probe's scans included).
    StartTls(Arc<Route>, StartTls),
    /// Either of the above, each connection waiting for (and holding while open) one of the
    /// run's per-host slots of `host`: a probe that opens many (the `tls` scans) stays within
    /// `--per-host`, shared with every other probe of the run.
    Gated(Arc<Route>, Arc<Gate>),
}

/// Whose per-host slots a [`Route::Gated`] connection takes, and whose queue clock its waits run.
#[derive(Debug)]
pub struct Gate {
    politeness: Arc<Politeness>,
    queue: Arc<QueueClock>,
    host: String,
}

impl Route {
    /// Opens one more connection the same way.
    pub async fn open(&self) -> Result<NetStream, NotConnected> {
        match self {
            Route::Direct(addr) => match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    Ok(NetStream::Tcp(s))
                }
                Err(e) => Err(connect_failed(*addr, &e)),
            },
            Route::Tunnel(t) => t.open().await.map_err(|message| NotConnected {
                why: NoAnswer::Proxy,
                message,
            }),
            Route::StartTls(inner, proto) => {
                let mut stream = Box::pin(inner.open()).await?;
                proto.negotiate(&mut stream, &inner.describe()).await?;
                Ok(stream)
            }
            Route::Gated(inner, gate) => {
                let Some(held) = gate.politeness.connection(&gate.host, &gate.queue).await else {
                    return Err(NotConnected {
                        why: NoAnswer::OwnLimit,
                        message: format!("no per-host slot for {}", gate.host),
                    });
                };
                let stream = Box::pin(inner.open()).await?;
                Ok(NetStream::Held(Box::new(stream), held))
            }
        }
    }

    /// This route with every connection it opens holding one of `host`'s per-host slots of
    /// the run (see [`Route::Gated`]), its waits on `queue`.
    pub fn gated(self, politeness: Arc<Politeness>, queue: Arc<QueueClock>, host: &str) -> Route {
        Route::Gated(
            Arc::new(self),
            Arc::new(Gate {
                politeness,
                queue,
                host: host.to_string(),
            }),
        )
    }

    /// This route with `starttls` spoken on every connection it opens (none: unchanged).
    pub fn with_starttls(self, starttls: Option<StartTls>) -> Route {
        match starttls {
            Some(proto) => Route::StartTls(Arc::new(self), proto),
            None => self,
        }
    }

    /// The target address connected to (`None` through a proxy, which resolves it).
    pub fn addr(&self) -> Option<SocketAddr> {
        match self {
            Route::Direct(a) => Some(*a),
            Route::Tunnel(_) => None,
            Route::StartTls(inner, _) | Route::Gated(inner, ..) => inner.addr(),
        }
    }

    /// The proxy in the way, without credentials.
    pub fn proxy(&self) -> Option<&str> {
        match self {
            Route::Direct(_) => None,
            Route::Tunnel(t) => Some(&t.shown),
            Route::StartTls(inner, _) | Route::Gated(inner, ..) => inner.proxy(),
        }
    }

    /// `127.0.0.1:443`, or `db.internal:5432 via http://proxy:3128/`.
    pub fn describe(&self) -> String {
        match self {
            Route::Direct(a) => a.to_string(),
            Route::Tunnel(t) => {
                let host = if t.host.contains(':') {
                    format!("[{}]", t.host)
                } else {
                    t.host.clone()
                };
                format!("{host}:{} via {}", t.port, t.shown)
            }
            Route::StartTls(inner, proto) => format!("{} ({proto} STARTTLS)", inner.describe()),
            Route::Gated(inner, ..) => inner.describe(),
        }
    }

    /// `address` (the one connected to) or `proxy` (the one tunnelled through) in evidence.
    pub fn evidence(&self, outcome: crate::outcome::Outcome) -> crate::outcome::Outcome {
        match self {
            Route::Direct(a) => outcome.with("address", a.to_string()),
            Route::Tunnel(t) => outcome.with("proxy", t.shown.as_str()),
            Route::StartTls(inner, _) | Route::Gated(inner, ..) => inner.evidence(outcome),
        }
    }
}

/// The addresses of `host:port` that `family` admits: `resolve` when given, else the system
/// resolver's answer. A name without an address of the family is the target's answer.
pub async fn lookup(
    host: &str,
    port: u16,
    family: IpFamily,
    resolve: &Resolve,
    budget: Duration,
) -> Result<Vec<SocketAddr>, NotConnected> {
    let host = host.trim_matches(['[', ']']);
    if let Some(ip) = family::literal(host) {
        if !family.admits(&ip) {
            return Err(NotConnected {
                why: NoAnswer::Other,
                message: format!(
                    "`{ip}` is an {} address, but ip_family is {}",
                    IpFamily::of(&ip).name(),
                    family.as_str()
                ),
            });
        }
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if !resolve.is_empty() {
        let addrs: Vec<SocketAddr> = resolve
            .0
            .iter()
            .filter(|ip| family.admits(ip))
            .map(|ip| SocketAddr::new(*ip, port))
            .collect();
        if addrs.is_empty() {
            return Err(NotConnected {
                why: NoAnswer::Other,
                message: format!(
                    "`resolve` lists no {} address for `{host}`, and ip_family is {}",
                    family.name(),
                    family.as_str()
                ),
            });
        }
        return Ok(addrs);
    }
    let all: Vec<SocketAddr> = match timeout(budget, tokio::net::lookup_host((host, port))).await {
        Err(_) => {
            return Err(NotConnected {
                why: NoAnswer::ResolverUnavailable,
                message: format!(
                    "could not resolve `{host}`: the resolver did not answer within {}",
                    within(budget)
                ),
            });
        }
        Ok(Err(e)) => return Err(lookup_failed(host, &e)),
        Ok(Ok(a)) => a.collect(),
    };
    let admitted = family::admitted(&all, family);
    if admitted.is_empty() {
        let message = if all.is_empty() {
            format!("`{host}` resolved to no address")
        } else {
            format!(
                "`{host}` has no {} address (it resolves to {} only)",
                family.name(),
                family::list(&all)
            )
        };
        return Err(NotConnected {
            why: NoAnswer::NameNotFound,
            message,
        });
    }
    Ok(admitted)
}

/// Resolves `host:port` and connects to the first admitted address that accepts, or tunnels
/// through the proxy `net.proxy_setting()` names for `scheme://host:port` (`https` for `tls`, `tcp` and
/// `wss`, `http` for `ws`; `NO_PROXY` honoured), all within `budget`. The error keeps the
/// reason of the last address tried.
pub async fn dial(
    host: &str,
    port: u16,
    scheme: &str,
    net: &NetParams,
    budget: Duration,
) -> Result<(NetStream, Route), NotConnected> {
    let started = Instant::now();
    let left = || budget.saturating_sub(started.elapsed());
    let bare = host.trim_matches(['[', ']']);
    if let Some(proxy) = proxy_for(bare, port, scheme, net.proxy_setting()) {
        let tunnel = Tunnel::new(proxy, bare, port);
        if net.pins_addresses() {
            return Err(pinned_through_proxy(net, &tunnel));
        }
        let route = Route::Tunnel(Arc::new(tunnel));
        return match timeout(left(), route.open()).await {
            Ok(Ok(stream)) => Ok((stream, route)),
            Ok(Err(no)) => Err(no),
            Err(_) => Err(NotConnected {
                why: NoAnswer::Proxy,
                message: format!(
                    "the tunnel through the proxy {} to {} did not open within {}",
                    route.proxy().unwrap_or_default(),
                    route.describe(),
                    within(budget)
                ),
            }),
        };
    }
    let addrs = lookup(bare, port, net.ip_family, &net.resolve, left()).await?;
    let mut last = NotConnected {
        why: NoAnswer::NameNotFound,
        message: format!("`{bare}` resolved to no address"),
    };
    for addr in addrs {
        match timeout(left(), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((NetStream::Tcp(s), Route::Direct(addr)));
            }
            Ok(Err(e)) => last = connect_failed(addr, &e),
            Err(_) => {
                last = NotConnected {
                    why: NoAnswer::Timeout,
                    message: format!(
                        "{addr} did not accept a connection within {}",
                        within(budget)
                    ),
                }
            }
        }
    }
    Err(last)
}

/// The proxy `setting` sends `scheme://host:port` through, if any.
pub fn proxy_for(
    host: &str,
    port: u16,
    scheme: &str,
    setting: &ProxySetting,
) -> Option<hyper_util::client::proxy::matcher::Intercept> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let uri: http::Uri = format!("{scheme}://{authority}/").parse().ok()?;
    setting.intercept(&uri)
}

fn pinned_through_proxy(net: &NetParams, tunnel: &Tunnel) -> NotConnected {
    let what = if net.resolve.is_empty() {
        format!("`ip_family: {}`", net.ip_family.as_str())
    } else {
        "`resolve`".to_string()
    };
    NotConnected {
        why: NoAnswer::Other,
        message: format!(
            "{what} cannot be honoured through the proxy {}: the proxy chooses the address of `{}` itself; set `proxy: none` on the item (or list the host in NO_PROXY) to connect directly",
            tunnel.shown, tunnel.host
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::family::parse_ip;

    fn pinned(ips: &[&str]) -> Resolve {
        Resolve(ips.iter().map(|i| parse_ip(i).expect("ip")).collect())
    }

    #[tokio::test]
    async fn the_family_picks_the_address_and_a_missing_one_is_named() {
        // A listener on ::1 only; `resolve` pins the name to both loopbacks.
        let v6 = std::net::TcpListener::bind("[::1]:0").expect("IPv6 loopback (::1) must work");
        let port = v6.local_addr().expect("addr").port();
        let opts = NetParams {
            ip_family: IpFamily::V6,
            resolve: pinned(&["127.0.0.1", "::1"]),
            proxy: Some(ProxySetting::Direct),
            ..Default::default()
        };
        let (_, route) = dial("shop.test", port, "https", &opts, Duration::from_secs(2))
            .await
            .map_err(|e| e.message)
            .expect("connects over IPv6");
        assert_eq!(route.describe(), format!("[::1]:{port}"));

        let opts = NetParams {
            ip_family: IpFamily::V4,
            ..opts
        };
        let err = dial("shop.test", port, "https", &opts, Duration::from_secs(2))
            .await
            .expect_err("nothing listens on 127.0.0.1 there");
        assert_eq!(err.why, NoAnswer::Refused);
        assert_eq!(
            err.message,
            format!("connection refused by 127.0.0.1:{port}")
        );

        let err = lookup(
            "localhost",
            80,
            IpFamily::V4,
            &pinned(&["::1"]),
            Duration::from_secs(1),
        )
        .await
        .expect_err("no v4 in resolve");
        assert_eq!(
            err.message,
            "`resolve` lists no IPv4 address for `localhost`, and ip_family is v4"
        );
        let err = lookup(
            "127.0.0.1",
            80,
            IpFamily::V6,
            &Resolve::default(),
            Duration::from_secs(1),
        )
        .await
        .expect_err("literal of the other family");
        assert_eq!(
            err.message,
            "`127.0.0.1` is an IPv4 address, but ip_family is v6"
        );
    }

    #[tokio::test]
    async fn pinned_addresses_cannot_go_through_a_proxy() {
        let opts = NetParams {
            ip_family: IpFamily::V6,
            resolve: Resolve::default(),
            proxy: Some(ProxySetting::Url("http://ops:pw@127.0.0.1:9".into())),
            ..Default::default()
        };
        let err = dial("shop.test", 443, "https", &opts, Duration::from_secs(1))
            .await
            .expect_err("refused before connecting");
        assert_eq!(err.why, NoAnswer::Other);
        assert!(
            err.message.starts_with(
                "`ip_family: v6` cannot be honoured through the proxy http://127.0.0.1:9/"
            ),
            "{}",
            err.message
        );
        assert!(!err.message.contains("pw"));
    }
}
