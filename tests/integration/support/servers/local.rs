//! Servers in the test process: an async server on a thread with its own runtime, an axum
//! app (plain or TLS), a raw TCP server and a WebSocket echo server; all stop on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::Message;

/// What a background server's set-up hands back: its address, and a future that serves until
/// it is dropped.
pub type Serving = (
    SocketAddr,
    std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
);

/// A server running on a thread with its own tokio runtime, so that tests (which block on the
/// `prodcheck` process) can use async servers. Stopped and joined on drop.
pub struct Background {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Background {
    /// Runs `start` on the server thread: it binds, then returns the address and the serving
    /// future.
    pub fn spawn<F, Fut>(start: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Serving>,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let (addr, serve) = start().await;
                addr_tx.send(addr).expect("send addr");
                tokio::select! {
                    _ = serve => {}
                    _ = stop_rx => {}
                }
            });
        });
        let addr = addr_rx.recv().expect("server address");
        Background {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Keeps `guard` (a handle that stops its server when dropped) alive until shutdown.
    pub fn hold<T: 'static>(addr: SocketAddr, guard: T) -> Serving {
        (
            addr,
            Box::pin(async move {
                std::future::pending::<()>().await;
                drop(guard);
            }),
        )
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An axum app served on 127.0.0.1 (plain or TLS); stops on drop.
pub struct AppServer {
    pub addr: SocketAddr,
    _server: Background,
}

impl AppServer {
    pub fn start(app: axum::Router) -> Self {
        let server = Background::spawn(move || async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let serve: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> =
                Box::pin(async move {
                    let _ = axum::serve(listener, app).await;
                });
            (addr, serve)
        });
        AppServer {
            addr: server.addr,
            _server: server,
        }
    }

    /// Serves `app` over TLS with `tls` (see `prodcheck::demo::pki` for certificates).
    pub fn start_tls(app: axum::Router, tls: rustls::ServerConfig) -> Self {
        let server = Background::spawn(move || async move {
            let https = prodcheck::demo::service::serve_https(app, tls, 0)
                .await
                .expect("serve https");
            Background::hold(https.addr, https)
        });
        AppServer {
            addr: server.addr,
            _server: server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }
}

/// A raw TCP server whose connections are handled by `handler` on their own threads.
pub struct RawServer {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl RawServer {
    pub fn start(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let handler = Arc::new(handler);
        let (stop2, accepted2) = (stop.clone(), accepted.clone());
        let thread = thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        accepted2.fetch_add(1, Ordering::Relaxed);
                        let _ = stream.set_nonblocking(false);
                        let h = handler.clone();
                        thread::spawn(move || h(stream));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RawServer {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// Accepts connections and never answers (holds them open for a minute).
    pub fn silent() -> Self {
        Self::start(|mut s| {
            let mut buf = [0u8; 1024];
            let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
            let _ = s.read(&mut buf);
            thread::sleep(Duration::from_secs(60));
        })
    }

    /// Answers every request with the given raw HTTP response bytes.
    pub fn respond(response: &'static [u8]) -> Self {
        Self::start(move |mut s| {
            let mut buf = [0u8; 4096];
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.read(&mut buf);
            let _ = s.write_all(response);
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(text) = &msg {
            if text.starts_with("slow") {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            if ws
                .send(Message::text(format!("echo: {text}")))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// An echo server on 127.0.0.1 (TLS when `tls` is given); stops on drop.
pub fn echo_server(tls: Option<rustls::ServerConfig>) -> Background {
    Background::spawn(move || async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let acceptor = tls.map(|c| tokio_rustls::TlsAcceptor::from(Arc::new(c)));
        let serve: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> =
            Box::pin(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor {
                            None => echo(stream).await,
                            Some(a) => {
                                if let Ok(s) = a.accept(stream).await {
                                    echo(s).await
                                }
                            }
                        }
                    });
                }
            });
        (addr, serve)
    })
}

/// The port an app listens on.
pub fn port_of(app: &AppServer) -> u16 {
    app.url("/")
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
        .expect("app port")
}
