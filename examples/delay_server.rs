//! Benchmark helper: an HTTP server on 127.0.0.1 that answers every request after exactly
//! 200 ms. Prints its port, then serves until killed (`scripts/bench.py` stops it by PID).

use std::time::Duration;

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new().fallback(get(|| async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        "ok"
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    axum::serve(listener, app).await
}
