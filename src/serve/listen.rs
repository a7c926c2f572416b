//! Accepting connections, plain or TLS (from the current web config), each bounded: a cap on
//! open connections, a TLS handshake timeout, a header read timeout and a small header buffer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::handlers::AppState;

/// Open connections at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 64;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a connection lives: the longest scrape plus slack.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(15 * 60);
const MAX_HEADER_BYTES: usize = 16 * 1024;

pub async fn accept_loop(listener: TcpListener, app: Router, state: Arc<AppState>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let app = app.clone();
        let tls = state.web().tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, async move {
                match tls {
                    Some(config) => {
                        let acceptor = tokio_rustls::TlsAcceptor::from(config);
                        let handshake =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await;
                        if let Ok(Ok(stream)) = handshake {
                            serve_connection(TokioIo::new(stream), app).await;
                        }
                    }
                    None => serve_connection(TokioIo::new(tcp), app).await,
                }
            })
            .await;
        });
    }
}

async fn serve_connection<I>(io: I, app: Router)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES)
        .serve_connection(io, service)
        .await;
}
