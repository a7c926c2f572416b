//! The demo service: HTTPS on 127.0.0.1 with a realistic mix of good and bad properties,
//! plus a plain-HTTP listener that redirects to it. Started and stopped in-process.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// A running server; dropping it stops it.
pub struct ServerHandle {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` over TLS on 127.0.0.1 (port 0 picks a free port).
pub async fn serve_https(
    router: Router,
    tls: rustls::ServerConfig,
    port: u16,
) -> std::io::Result<ServerHandle> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let handshake =
                    tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp))
                        .await;
                let Ok(Ok(tls)) = handshake else { return };
                let service = TowerToHyperService::new(router);
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Ok(ServerHandle { addr, task })
}

/// Serves `router` over plain HTTP on 127.0.0.1.
pub async fn serve_http(router: Router, port: u16) -> std::io::Result<ServerHandle> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(ServerHandle { addr, task })
}

/// A token bucket: `capacity` requests, refilled at `per_second`.
#[derive(Debug)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(capacity: u32, per_second: f64) -> Self {
        TokenBucket {
            capacity: f64::from(capacity),
            per_second,
            state: Mutex::new((f64::from(capacity), Instant::now())),
        }
    }

    /// Takes a token; `Err(seconds)` says when the next one is available.
    pub fn take(&self) -> Result<u32, u64> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = &mut *guard;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second)
            .min(self.capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(*tokens as u32)
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

fn secure_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    );
    set(
        h,
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "strict-origin-when-cross-origin");
    resp
}

/// The demo application (HTTPS side).
pub fn app() -> Router {
    let bucket = Arc::new(TokenBucket::new(20, 2.0));
    Router::new()
        .route(
            "/",
            get(|| async {
                secure_headers(
                    (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        "<!doctype html><title>demo shop</title><h1>demo shop</h1>",
                    )
                        .into_response(),
                )
            }),
        )
        .route(
            "/health",
            get(|| async {
                secure_headers(
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"status":"ok","checks":{"database":"ok","cache":"ok"}}"#,
                    )
                        .into_response(),
                )
            }),
        )
        .route(
            "/api/orders",
            get(|headers: HeaderMap| async move {
                // The deliberate mistake: any Origin is reflected, with credentials.
                let mut resp = (
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"orders":[]}"#,
                )
                    .into_response();
                if let Some(origin) = headers.get(header::ORIGIN) {
                    resp.headers_mut()
                        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                    resp.headers_mut().insert(
                        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                        HeaderValue::from_static("true"),
                    );
                }
                secure_headers(resp)
            }),
        )
        .route(
            "/api/search",
            get(move || {
                let bucket = bucket.clone();
                async move {
                    match bucket.take() {
                        Ok(left) => {
                            let mut resp = (
                                [(header::CONTENT_TYPE, "application/json")],
                                r#"{"results":[]}"#,
                            )
                                .into_response();
                            let h = resp.headers_mut();
                            h.insert("ratelimit-limit", HeaderValue::from(20));
                            h.insert("ratelimit-remaining", HeaderValue::from(left));
                            secure_headers(resp)
                        }
                        Err(after) => {
                            let mut resp =
                                (StatusCode::TOO_MANY_REQUESTS, "slow down\n").into_response();
                            let h = resp.headers_mut();
                            h.insert(header::RETRY_AFTER, HeaderValue::from(after));
                            h.insert("ratelimit-limit", HeaderValue::from(20));
                            h.insert("ratelimit-remaining", HeaderValue::from(0));
                            h.insert("ratelimit-reset", HeaderValue::from(after));
                            resp
                        }
                    }
                }
            }),
        )
        .route(
            "/ws",
            get(|ws: WebSocketUpgrade| async move { ws.on_upgrade(echo) }),
        )
        .route(
            "/.well-known/security.txt",
            get(|| async {
                "Contact: mailto:security@shop.demo.test\nExpires: 2030-01-01T00:00:00.000Z\n"
            }),
        )
        .route(
            "/admin",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"admin\"")],
                    "authentication required\n",
                )
            }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
}

/// Echoes text and binary messages back (at most 100 per connection).
async fn echo(mut socket: WebSocket) {
    for _ in 0..100 {
        match socket.recv().await {
            Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                if socket.send(msg).await.is_err() {
                    return;
                }
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
            Some(Ok(_)) => {}
        }
    }
}

/// The plain-HTTP side: every request redirects to the same path on HTTPS.
pub fn redirect_app(https_port: u16) -> Router {
    Router::new().fallback(move |uri: axum::http::Uri| async move {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        Redirect::permanent(&format!("https://localhost:{https_port}{path}"))
    })
}
