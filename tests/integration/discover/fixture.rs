//! A production-like service for `init --discover`: an axum app behind a real nginx with
//! `limit_req` (5 r/s, burst 10), its `/metrics` in one of the metric conventions, a
//! node_exporter stand-in, and a real Prometheus scraping both. Every piece is stopped on drop.

#![allow(dead_code, reason = "each discover_* module uses a different subset")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{StatusCode, header};
use axum::response::Html;
use axum::routing::get;

use crate::support::Nginx;
use crate::support::*;
use crate::support::{port_of, prometheus_says};

/// How the app's `/metrics` is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// Python/Ruby/Node client library: `http_requests_total{status}`, `shop_build_info`.
    Classic,
    /// Go promhttp: `http_requests_total{code}`, plus promhttp's and Go's own series.
    Code,
    /// OpenTelemetry HTTP semantic conventions (stable), `target_info{service_version}`.
    Otel,
    /// Micrometer / Spring Boot: `http_server_requests_seconds{status,uri}`, no build info.
    Micrometer,
}

fn histogram(name: &str, labels: &str) -> String {
    let mut t = format!("# TYPE {name} histogram\n");
    for (le, n) in [("0.1", 90), ("0.5", 99), ("+Inf", 100)] {
        t.push_str(&format!("{name}_bucket{{{labels},le=\"{le}\"}} {n}\n"));
    }
    t.push_str(&format!(
        "{name}_sum{{{labels}}} 4.2\n{name}_count{{{labels}}} 100\n"
    ));
    t
}

/// The exposition of `style`.
pub fn metrics(style: Style) -> String {
    match style {
        Style::Classic => format!(
            "# TYPE http_requests_total counter\nhttp_requests_total{{handler=\"/api/items\",method=\"GET\",status=\"200\"}} 100\nhttp_requests_total{{handler=\"/api/search\",method=\"GET\",status=\"200\"}} 40\nhttp_requests_total{{handler=\"/users/{{id}}\",method=\"GET\",status=\"200\"}} 5\n{}# TYPE shop_build_info gauge\nshop_build_info{{version=\"1.4.2\"}} 1\n",
            histogram("http_request_duration_seconds", "handler=\"/api/items\"")
        ),
        Style::Code => format!(
            "# TYPE http_requests_total counter\nhttp_requests_total{{code=\"200\",handler=\"/api/items\"}} 100\n# TYPE promhttp_metric_handler_requests_total counter\npromhttp_metric_handler_requests_total{{code=\"200\"}} 3\n{}# TYPE go_build_info gauge\ngo_build_info{{path=\"shop\",version=\"(devel)\"}} 1\n# TYPE app_build_info gauge\napp_build_info{{version=\"2.0.0\"}} 1\n",
            histogram("http_request_duration_seconds", "handler=\"/api/items\"")
        ),
        Style::Otel => format!(
            "{}# TYPE target_info gauge\ntarget_info{{service_name=\"shop\",service_version=\"3.1.0\"}} 1\n",
            histogram(
                "http_server_request_duration_seconds",
                "http_route=\"/api/items\",http_request_method=\"GET\",http_response_status_code=\"200\""
            )
        ),
        Style::Micrometer => histogram(
            "http_server_requests_seconds",
            "uri=\"/api/items\",method=\"GET\",status=\"200\",outcome=\"SUCCESS\"",
        ),
    }
}

/// The app: home page, health, login, a hashed asset, a WebSocket, two API routes, an admin
/// path answering 401, and `/metrics`. `hits` counts every request but the scrapes.
pub fn app(style: Style, hits: Arc<AtomicUsize>) -> Router {
    let home = "<html><head><script src=\"/assets/app.3f2a1c9b.js\"></script></head><body><a href=\"/login\">Sign in</a> <a href=\"/about\">About</a></body></html>";
    Router::new()
        .route("/", get(move || async move { Html(home) }))
        .route(
            "/healthz",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"status\":\"ok\",\"db\":\"up\"}",
                )
            }),
        )
        .route(
            "/login",
            get(|| async {
                (
                    [(header::SET_COOKIE, "shop_session=abc123; HttpOnly; Path=/")],
                    Html("<form></form>"),
                )
            }),
        )
        .route(
            "/assets/app.3f2a1c9b.js",
            get(|| async {
                (
                    [(header::CACHE_CONTROL, "public, max-age=31536000, immutable")],
                    "console.log(1)",
                )
            }),
        )
        .route(
            "/ws",
            get(|upgrade: WebSocketUpgrade| async move {
                upgrade.on_upgrade(|mut socket| async move {
                    while let Some(Ok(m)) = socket.recv().await {
                        if socket.send(m).await.is_err() {
                            return;
                        }
                    }
                })
            }),
        )
        .route(
            "/api/items",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], "[]") }),
        )
        .route(
            "/api/search",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], "[]") }),
        )
        .route(
            "/admin",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Basic realm=\"admin\"")],
                    "",
                )
            }),
        )
        .route("/metrics", get(move || async move { metrics(style) }))
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let hits = hits.clone();
                async move {
                    if req.uri().path() != "/metrics" {
                        hits.fetch_add(1, Ordering::SeqCst);
                    }
                    next.run(req).await
                }
            },
        ))
}

/// nginx in front of `app_port`: `limit_req` 5 r/s with a burst of 10 (503 past it, the
/// default), WebSocket upgrades passed through, an access log to count what it answered.
pub fn nginx_in_front(app_port: u16) -> Option<Nginx> {
    Nginx::start(
        1,
        &format!(
            "  limit_req_zone $binary_remote_addr zone=api:1m rate=5r/s;\n  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n  server {{\n    listen 127.0.0.1:{{PORT0}};\n    access_log {{DIR}}/access.log;\n    location / {{\n      limit_req zone=api burst=10;\n      proxy_pass http://127.0.0.1:{app_port};\n      proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection $connection_upgrade;\n    }}\n  }}\n"
        ),
    )
}

/// The statuses nginx answered, from its access log (combined format).
pub fn nginx_statuses(nginx: &Nginx) -> Vec<u16> {
    let log = std::fs::read_to_string(nginx.path("access.log")).unwrap_or_default();
    log.lines()
        .filter_map(|l| l.split('"').nth(2))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// A node_exporter stand-in.
pub fn node_exporter() -> AppServer {
    AppServer::start(Router::new().route(
        "/metrics",
        get(|| async { "# TYPE node_cpu_seconds_total counter\nnode_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 10\n" }),
    ))
}

/// The whole service: app, nginx, node stand-in and Prometheus (jobs `shop` and
/// `node-exporter`), with both jobs scraped at least once.
pub struct Service {
    pub app: AppServer,
    pub nginx: Nginx,
    pub node: AppServer,
    pub prometheus: ServerProcess,
    pub hits: Arc<AtomicUsize>,
}

impl Service {
    pub fn start(style: Style) -> Option<Service> {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = AppServer::start(app(style, hits.clone()));
        let nginx = nginx_in_front(port_of(&app))?;
        let node = node_exporter();
        let prometheus = crate::support::prometheus_scraping_jobs(&[
            ("shop", &[port_of(&app)]),
            ("node-exporter", &[port_of(&node)]),
        ])?;
        let url = format!("http://127.0.0.1:{}", prometheus.port);
        let scraped = wait_until(Duration::from_secs(30), || {
            prometheus_says(&url, "sum(up)", "\"2\"]")
        });
        assert!(scraped, "Prometheus did not scrape both jobs within 30 s");
        Some(Service {
            app,
            nginx,
            node,
            prometheus,
            hits,
        })
    }

    pub fn base_url(&self) -> String {
        self.nginx.url(0, "")
    }

    pub fn prometheus_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.prometheus.port)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The variables of environment `env` in the YAML `text`, as `name → compact value`.
pub fn env_vars(text: &str, env: &str) -> std::collections::BTreeMap<String, String> {
    let doc = prodcheck::checklist::node::parse(text).expect("prodcheck.yaml parses");
    let mut out = std::collections::BTreeMap::new();
    if let Some(prodcheck::checklist::node::Node {
        value: prodcheck::checklist::node::Value::Map(entries),
        ..
    }) = doc
        .get("environments")
        .and_then(|e| e.get(env))
        .and_then(|e| e.get("vars"))
    {
        for (k, v) in entries {
            out.insert(
                k.scalar_text().unwrap_or_default(),
                prodcheck::checklist::node::compact_json(&v.to_json()),
            );
        }
    }
    out
}

/// The line of `text` that sets `var`, its spacing folded (values and comments are aligned
/// in columns): `key: value  # comment`.
pub fn line_of(text: &str, var: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{var}:")))
        .unwrap_or_else(|| panic!("no line for `{var}` in:\n{text}"));
    line.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replacen(" # ", "  # ", 1)
}

/// The request count `init --discover` printed for `authority`.
pub fn printed_requests(stdout: &str, authority: &str) -> usize {
    let needle = format!(" to {authority} (bound");
    stdout
        .split(", ")
        .flat_map(|part| part.split("HTTP requests: "))
        .find(|p| p.contains(&needle))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count for {authority} in:\n{stdout}"))
}
