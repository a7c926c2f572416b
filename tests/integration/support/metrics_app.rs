//! A service's `/metrics` in each HTTP metric convention (the names of
//! `checklists/conventions/metrics.yaml`), with the error ratio, latency and version the test
//! chooses; its counters advance on every scrape, so a real Prometheus sees a steady rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::routing::get;

use crate::support::AppServer;

/// What one instance exposes.
#[derive(Clone, Debug)]
pub struct Exposition {
    /// A convention name: `prometheus`, `prometheus-code`, `otel`, `otel-legacy`,
    /// `micrometer`, `ingress-nginx` or `istio`.
    pub convention: &'static str,
    /// The service's name where the convention carries it in a label (ingress-nginx's
    /// `service`, Istio's `destination_service_name`); the tests use the scrape job's name.
    pub service: String,
    /// The share of requests answering 500 (the rest 200).
    pub error_ratio: f64,
    /// Every request takes about 3 s instead of about 20 ms.
    pub slow: bool,
    /// The running version, where the convention exports one.
    pub version: &'static str,
    /// Requests served between two scrapes.
    pub requests_per_scrape: u64,
}

impl Exposition {
    pub fn new(convention: &'static str, service: &str) -> Self {
        Exposition {
            convention,
            service: service.to_string(),
            error_ratio: 0.0,
            slow: false,
            version: "1.0.0",
            requests_per_scrape: 1000,
        }
    }

    pub fn errors(mut self, ratio: f64) -> Self {
        self.error_ratio = ratio;
        self
    }

    pub fn slow(mut self) -> Self {
        self.slow = true;
        self
    }

    pub fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    pub fn requests_per_scrape(mut self, n: u64) -> Self {
        self.requests_per_scrape = n;
        self
    }
}

/// How a convention names things.
struct Names {
    /// A separate request counter, if the convention has one.
    counter: Option<&'static str>,
    status: &'static str,
    /// The histogram's name (without `_bucket`).
    histogram: &'static str,
    millis: bool,
    /// Labels on every request series (`{service}` and `{version}` are filled in).
    labels: &'static str,
    /// A separate version series, if the convention has one.
    info: Option<&'static str>,
}

fn names(convention: &str) -> Names {
    let classic = |status| Names {
        counter: Some("http_requests_total"),
        status,
        histogram: "http_request_duration_seconds",
        millis: false,
        labels: r#"handler="/api""#,
        info: Some(r#"app_build_info{version="{version}"}"#),
    };
    match convention {
        "prometheus" => classic("status"),
        "prometheus-code" => classic("code"),
        "otel" => Names {
            counter: None,
            status: "http_response_status_code",
            histogram: "http_server_request_duration_seconds",
            millis: false,
            labels: r#"http_request_method="GET",http_route="/api""#,
            info: Some(r#"target_info{service_name="shop",service_version="{version}"}"#),
        },
        "otel-legacy" => Names {
            counter: None,
            status: "http_status_code",
            histogram: "http_server_duration_milliseconds",
            millis: true,
            labels: r#"http_method="GET",http_route="/api""#,
            info: Some(r#"target_info{service_name="shop",service_version="{version}"}"#),
        },
        "micrometer" => Names {
            counter: None,
            status: "status",
            histogram: "http_server_requests_seconds",
            millis: false,
            labels: r#"method="GET",outcome="SUCCESS",uri="/api""#,
            info: None,
        },
        "ingress-nginx" => Names {
            counter: Some("nginx_ingress_controller_requests"),
            status: "status",
            histogram: "nginx_ingress_controller_request_duration_seconds",
            millis: false,
            labels: r#"ingress="shop",namespace="prod",service="{service}",path="/api""#,
            info: None,
        },
        "istio" => Names {
            counter: Some("istio_requests_total"),
            status: "response_code",
            histogram: "istio_request_duration_milliseconds",
            millis: true,
            labels: r#"reporter="destination",destination_service_name="{service}",destination_version="{version}",source_workload="web""#,
            info: None,
        },
        other => panic!("no such convention in the fixture: {other}"),
    }
}

/// The exposition text after `scrape` scrapes.
pub fn text(e: &Exposition, scrape: u64) -> String {
    let n = names(e.convention);
    let fill = |s: &str| {
        s.replace("{service}", &e.service)
            .replace("{version}", e.version)
    };
    let labels = fill(n.labels);
    let total = scrape * e.requests_per_scrape;
    let errors = (total as f64 * e.error_ratio).round() as u64;
    let mut out = String::new();
    // Bucket bounds in seconds, and as the convention's unit writes them.
    let bounds = [0.005, 0.05, 0.5, 5.0];
    let shown = if n.millis {
        ["5", "50", "500", "5000"]
    } else {
        ["0.005", "0.05", "0.5", "5"]
    };
    let unit = if n.millis { 1000.0 } else { 1.0 };
    let took = if e.slow { 3.0 } else { 0.02 };
    for (status, count) in [("200", total - errors), ("500", errors)] {
        if count == 0 && status == "500" {
            continue; // a healthy service has no 5xx series at all
        }
        let series = format!("{labels},{}=\"{status}\"", n.status);
        if let Some(counter) = n.counter {
            out.push_str(&format!("{counter}{{{series}}} {count}\n"));
        }
        for (b, le) in bounds.iter().zip(shown) {
            let c = if took <= *b { count } else { 0 };
            out.push_str(&format!(
                "{}_bucket{{{series},le=\"{le}\"}} {c}\n",
                n.histogram
            ));
        }
        out.push_str(&format!(
            "{}_bucket{{{series},le=\"+Inf\"}} {count}\n",
            n.histogram
        ));
        out.push_str(&format!(
            "{}_sum{{{series}}} {}\n",
            n.histogram,
            count as f64 * took * unit
        ));
        out.push_str(&format!("{}_count{{{series}}} {count}\n", n.histogram));
    }
    if let Some(info) = n.info {
        out.push_str(&format!("{} 1\n", fill(info)));
    }
    out
}

/// Serves `/metrics` for `e`.
pub fn start(e: Exposition) -> AppServer {
    let scrapes = Arc::new(AtomicU64::new(0));
    AppServer::start(Router::new().route(
        "/metrics",
        get(move || {
            let n = scrapes.fetch_add(1, Ordering::SeqCst) + 1;
            let body = text(&e, n);
            async move { body }
        }),
    ))
}

/// The port `app` listens on.
pub fn port(app: &AppServer) -> u16 {
    app.addr.port()
}

#[test]
fn each_convention_names_its_series_as_documented() {
    let e = Exposition::new("otel", "shop-api")
        .errors(0.5)
        .version("2.0.0");
    let t = text(&e, 2);
    assert!(t.contains(r#"http_server_request_duration_seconds_count{http_request_method="GET",http_route="/api",http_response_status_code="500"} 1000"#), "{t}");
    assert!(
        t.contains(r#"target_info{service_name="shop",service_version="2.0.0"} 1"#),
        "{t}"
    );
    let t = text(&Exposition::new("istio", "shop-api").slow(), 1);
    assert!(t.contains(r#"istio_requests_total{reporter="destination",destination_service_name="shop-api",destination_version="1.0.0",source_workload="web",response_code="200"} 1000"#), "{t}");
    assert!(t.contains(r#"le="5000"} 1000"#), "{t}");
    assert!(!t.contains("response_code=\"500\""), "{t}");
}
