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

/// A running server (the demo's HTTP(S) listeners, its DNS server); dropping it stops it.
pub struct ServerHandle {
    pub addr: SocketAddr,
    pub(super) task: JoinHandle<()>,
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

/// `/` as gzip (`<!doctype html><title>demo shop</title><h1>demo shop</h1>`, compressed).
const ROOT_GZIP: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xb3, 0x51, 0x4c, 0xc9, 0x4f, 0x2e,
    0xa9, 0x2c, 0x48, 0x55, 0xc8, 0x28, 0xc9, 0xcd, 0xb1, 0xb3, 0x29, 0xc9, 0x2c, 0xc9, 0x49, 0xb5,
    0x4b, 0x49, 0xcd, 0xcd, 0x57, 0x28, 0xce, 0xc8, 0x2f, 0xb0, 0xd1, 0x87, 0x08, 0xd8, 0x64, 0x18,
    0x22, 0x0b, 0x02, 0x79, 0x00, 0x8c, 0xb6, 0xf6, 0x15, 0x39, 0x00, 0x00, 0x00,
];
const ROOT_HTML: &str = "<!doctype html><title>demo shop</title><h1>demo shop</h1>";
/// `/assets/app.js`, the shop's (tiny) hashed bundle.
const APP_JS: &str = "document.querySelector('h1').textContent='demo shop';\n";
/// [`APP_JS`] as gzip.
const APP_JS_GZIP: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0xc9, 0x4f, 0x2e, 0xcd, 0x4d,
    0xcd, 0x2b, 0xd1, 0x2b, 0x2c, 0x4d, 0x2d, 0xaa, 0x0c, 0x4e, 0xcd, 0x49, 0x4d, 0x2e, 0xc9, 0x2f,
    0xd2, 0x50, 0xcf, 0x30, 0x54, 0xd7, 0xd4, 0x2b, 0x49, 0xad, 0x28, 0x71, 0xce, 0xcf, 0x2b, 0x01,
    0xca, 0xdb, 0xaa, 0xa7, 0xa4, 0xe6, 0xe6, 0x2b, 0x14, 0x67, 0xe4, 0x17, 0xa8, 0x5b, 0x73, 0x01,
    0x00, 0x85, 0x91, 0xdb, 0x68, 0x36, 0x00, 0x00, 0x00,
];
/// The password `POST /login` accepts (`{"user": …, "password": LOGIN_PASSWORD}`) when the
/// service has an [`AppOptions::api_token`]: it answers `{"token": TOKEN}`, else 401. It has a
/// `"` and a `\` so the shipped login body must JSON-escape it (`${api_login_password|json}`).
pub const LOGIN_PASSWORD: &str = r#"demo-"login"-\password"#;

/// The path the demo serves [`APP_JS`] at (`static_asset_url`).
pub const APP_JS_PATH: &str = "/assets/app.3f2a1c.js";

/// What the application gets right or wrong. [`AppOptions::demo`] is the demo's mix (used by
/// [`app`]); tests flip single properties to build a good or a bad service.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// `/api/orders` reflects any `Origin`, with credentials (the demo's deliberate mistake).
    pub reflect_cors: bool,
    /// `/` and the static asset are sent gzip-compressed to clients that accept gzip.
    pub gzip_assets: bool,
    /// The static asset carries `Cache-Control: public, max-age=31536000, immutable`;
    /// otherwise `no-store`.
    pub cache_assets: bool,
    /// HSTS, CSP and the other security headers on the pages.
    pub security_headers: bool,
    /// `Set-Cookie` value sent by `/` and `/login`, if any.
    pub session_cookie: Option<&'static str>,
    /// `/api/search` is throttled by a token bucket (429 with `Retry-After`).
    pub rate_limit: bool,
    /// `/admin` answers 401; otherwise it serves the admin page to anyone.
    pub admin_protected: bool,
    /// `/health` reports `ok`; otherwise 503 with `degraded`.
    pub healthy: bool,
    /// `/ws` echoes WebSocket messages; otherwise the route does not exist.
    pub websocket: bool,
    /// `/.well-known/security.txt` is published.
    pub security_txt: bool,
    /// `/.env` is served with a (fake) secret in it.
    pub expose_dotenv: bool,
    /// `/api/orders` answers 401 unless `Authorization: Bearer TOKEN` is sent; `POST /login`
    /// with [`LOGIN_PASSWORD`] hands the token out.
    pub api_token: Option<&'static str>,
    /// Every n-th `/api/orders` request (0: none) waits `slow_api_delay` first.
    pub slow_api_every: u32,
    pub slow_api_delay: std::time::Duration,
}

impl AppOptions {
    /// The demo's mix: mostly sound, CORS reflection and no compression on purpose.
    pub fn demo() -> Self {
        AppOptions {
            reflect_cors: true,
            gzip_assets: false,
            cache_assets: true,
            security_headers: true,
            session_cookie: Some("session=d3m0; Path=/; Secure; HttpOnly; SameSite=Lax"),
            rate_limit: true,
            admin_protected: true,
            healthy: true,
            websocket: true,
            security_txt: true,
            expose_dotenv: false,
            api_token: None,
            slow_api_every: 0,
            slow_api_delay: std::time::Duration::ZERO,
        }
    }
}

/// The demo application (HTTPS side).
pub fn app() -> Router {
    app_with(AppOptions::demo())
}

/// The application with the given properties.
pub fn app_with(opts: AppOptions) -> Router {
    let bucket = Arc::new(TokenBucket::new(20, 2.0));
    let api_calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let headers_on = opts.security_headers;
    let secured = move |resp: Response| {
        if headers_on {
            secure_headers(resp)
        } else {
            resp
        }
    };
    let (gzip_root, cookie) = (opts.gzip_assets, opts.session_cookie);
    let cache_assets = opts.cache_assets;
    let healthy = opts.healthy;
    let reflect_cors = opts.reflect_cors;
    let (slow_every, slow_delay) = (opts.slow_api_every, opts.slow_api_delay);
    let api_token = opts.api_token;
    let rate_limit = opts.rate_limit;
    let mut router = Router::new()
        .route(
            "/",
            get(move |headers: HeaderMap| async move {
                let gzip_ok = headers
                    .get(header::ACCEPT_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("gzip"));
                let mut resp = if gzip_root && gzip_ok {
                    (
                        [
                            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                            (header::CONTENT_ENCODING, "gzip"),
                        ],
                        ROOT_GZIP,
                    )
                        .into_response()
                } else {
                    (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        ROOT_HTML,
                    )
                        .into_response()
                };
                if gzip_root {
                    resp.headers_mut()
                        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
                }
                if let Some(c) = cookie {
                    resp.headers_mut()
                        .insert(header::SET_COOKIE, HeaderValue::from_static(c));
                }
                secured(resp)
            }),
        )
        .route(
            APP_JS_PATH,
            get(move |headers: HeaderMap| async move {
                let gzip_ok = headers
                    .get(header::ACCEPT_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("gzip"));
                let cache = if cache_assets {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-store"
                };
                let ctype = (header::CONTENT_TYPE, "text/javascript; charset=utf-8");
                let mut resp = if gzip_root && gzip_ok {
                    (
                        [
                            ctype,
                            (header::CONTENT_ENCODING, "gzip"),
                            (header::CACHE_CONTROL, cache),
                        ],
                        APP_JS_GZIP,
                    )
                        .into_response()
                } else {
                    ([ctype, (header::CACHE_CONTROL, cache)], APP_JS).into_response()
                };
                if gzip_root {
                    resp.headers_mut()
                        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
                }
                secured(resp)
            }),
        )
        .route(
            "/login",
            get(move || async move {
                let mut resp = (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<!doctype html><title>log in</title><form method=post><input name=user></form>",
                )
                    .into_response();
                if let Some(c) = cookie {
                    resp.headers_mut()
                        .insert(header::SET_COOKIE, HeaderValue::from_static(c));
                }
                secured(resp)
            })
            .post(move |body: String| async move {
                let password = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["password"].as_str().map(str::to_string));
                match api_token {
                    Some(token) if password.as_deref() == Some(LOGIN_PASSWORD) => secured(
                        (
                            [(header::CONTENT_TYPE, "application/json")],
                            format!("{{\"token\":\"{token}\",\"expires_in\":3600}}"),
                        )
                            .into_response(),
                    ),
                    _ => secured(
                        (StatusCode::UNAUTHORIZED, "{\"error\":\"invalid credentials\"}\n")
                            .into_response(),
                    ),
                }
            }),
        )
        .route(
            "/health",
            get(move || async move {
                let (status, body) = if healthy {
                    (
                        StatusCode::OK,
                        r#"{"status":"ok","version":"1.4.2","checks":{"database":"ok","cache":"ok"}}"#,
                    )
                } else {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        r#"{"status":"degraded","version":"1.4.2","checks":{"database":"down","cache":"ok"}}"#,
                    )
                };
                secured(
                    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
                )
            }),
        )
        .route(
            "/api/orders",
            get(move |headers: HeaderMap| {
                let api_calls = api_calls.clone();
                async move {
                    let n = api_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if slow_every > 0 && n.is_multiple_of(slow_every) {
                        tokio::time::sleep(slow_delay).await;
                    }
                    if let Some(token) = api_token {
                        let sent = headers
                            .get(header::AUTHORIZATION)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.strip_prefix("Bearer "));
                        if sent != Some(token) {
                            return secured(
                                (
                                    StatusCode::UNAUTHORIZED,
                                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"api\"")],
                                    "authentication required\n",
                                )
                                    .into_response(),
                            );
                        }
                    }
                    let mut resp = (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"orders":[]}"#,
                    )
                        .into_response();
                    if reflect_cors && let Some(origin) = headers.get(header::ORIGIN) {
                        // The deliberate mistake: any Origin is reflected, with credentials.
                        resp.headers_mut()
                            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                        resp.headers_mut().insert(
                            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                            HeaderValue::from_static("true"),
                        );
                    }
                    secured(resp)
                }
            }),
        )
        .route(
            "/api/search",
            get(move || {
                let bucket = bucket.clone();
                async move {
                    let taken = if rate_limit { bucket.take() } else { Ok(20) };
                    match taken {
                        Ok(left) => {
                            let mut resp = (
                                [(header::CONTENT_TYPE, "application/json")],
                                r#"{"results":[]}"#,
                            )
                                .into_response();
                            if rate_limit {
                                let h = resp.headers_mut();
                                h.insert("ratelimit-limit", HeaderValue::from(20));
                                h.insert("ratelimit-remaining", HeaderValue::from(left));
                            }
                            secured(resp)
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
        );
    if opts.websocket {
        router = router.route(
            "/ws",
            get(|ws: WebSocketUpgrade| async move { ws.on_upgrade(echo) }),
        );
    }
    if opts.security_txt {
        router = router.route(
            "/.well-known/security.txt",
            get(|| async {
                "Contact: mailto:security@shop.demo.test\nExpires: 2030-01-01T00:00:00.000Z\n"
            }),
        );
    }
    if opts.expose_dotenv {
        router = router.route(
            "/.env",
            get(|| async { "# production\nDB_PASSWORD=hunter2-not-real\nAPP_ENV=production\n" }),
        );
    }
    router = if opts.admin_protected {
        router.route(
            "/admin",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"admin\"")],
                    "authentication required\n",
                )
            }),
        )
    } else {
        router.route(
            "/admin",
            get(|| async { "<!doctype html><title>admin</title><h1>all orders</h1>" }),
        )
    };
    router.fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
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
