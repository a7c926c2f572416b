//! The metric conventions discovery recognises and each one's standard names, so that only
//! what differs from the standard is written as an explicit variable.
//!
//! The names follow /work/shared/reference/metric-conventions.md; the shipped items read the
//! same variables (`metrics_convention`, `requests_metric`, `status_label`, …).

/// A convention without a standard version metric (Micrometer, ingress-nginx): any found one
/// is written explicitly.
pub const NONE: &str = "";

/// One convention's standard names (as `checklists/conventions/metrics.yaml` sets them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Convention {
    pub name: &'static str,
    /// The series counted as requests (a counter, or a histogram's `_count`).
    pub requests_metric: &'static str,
    pub status_label: &'static str,
    /// The latency histogram's family (without `_bucket`).
    pub latency_histogram: &'static str,
    /// Seconds per unit of the histogram (1 or 0.001).
    pub latency_unit_seconds: f64,
    pub version_metric: &'static str,
    pub version_label: &'static str,
}

pub const PROMETHEUS: Convention = Convention {
    name: "prometheus",
    requests_metric: "http_requests_total",
    status_label: "status",
    latency_histogram: "http_request_duration_seconds",
    latency_unit_seconds: 1.0,
    version_metric: "app_build_info",
    version_label: "version",
};

pub const PROMETHEUS_CODE: Convention = Convention {
    name: "prometheus-code",
    status_label: "code",
    ..PROMETHEUS
};

pub const OTEL: Convention = Convention {
    name: "otel",
    requests_metric: "http_server_request_duration_seconds_count",
    status_label: "http_response_status_code",
    latency_histogram: "http_server_request_duration_seconds",
    latency_unit_seconds: 1.0,
    version_metric: "target_info",
    version_label: "service_version",
};

pub const OTEL_LEGACY: Convention = Convention {
    name: "otel-legacy",
    requests_metric: "http_server_duration_milliseconds_count",
    status_label: "http_status_code",
    latency_histogram: "http_server_duration_milliseconds",
    latency_unit_seconds: 0.001,
    ..OTEL
};

pub const MICROMETER: Convention = Convention {
    name: "micrometer",
    requests_metric: "http_server_requests_seconds_count",
    status_label: "status",
    latency_histogram: "http_server_requests_seconds",
    latency_unit_seconds: 1.0,
    version_metric: NONE,
    version_label: NONE,
};

pub const INGRESS_NGINX: Convention = Convention {
    name: "ingress-nginx",
    requests_metric: "nginx_ingress_controller_requests",
    status_label: "status",
    latency_histogram: "nginx_ingress_controller_request_duration_seconds",
    latency_unit_seconds: 1.0,
    version_metric: NONE,
    version_label: NONE,
};

pub const ISTIO: Convention = Convention {
    name: "istio",
    requests_metric: "istio_requests_total",
    status_label: "response_code",
    latency_histogram: "istio_request_duration_milliseconds",
    latency_unit_seconds: 0.001,
    version_metric: "istio_requests_total",
    version_label: "destination_version",
};

/// Request series whose name alone says the convention, most specific first.
pub const BY_REQUESTS_METRIC: [Convention; 5] =
    [ISTIO, INGRESS_NGINX, OTEL, OTEL_LEGACY, MICROMETER];

/// Labels that carry a response status, in the order they are preferred.
pub const STATUS_LABELS: [&str; 6] = [
    "http_response_status_code",
    "http_status_code",
    "response_code",
    "status",
    "code",
    "status_code",
];

/// Labels that carry a route, in the order they are preferred.
pub const ROUTE_LABELS: [&str; 7] = [
    "http_route",
    "route",
    "handler",
    "path",
    "uri",
    "endpoint",
    "url",
];

/// Labels that carry a version on a `*_build_info` / `target_info` series.
pub const VERSION_LABELS: [&str; 4] = ["version", "service_version", "app_version", "revision"];

/// Metric-name prefixes of Prometheus, client libraries and exporters: never the API's.
pub const NOT_THE_API: [&str; 10] = [
    "prometheus_",
    "promhttp_",
    "go_",
    "process_",
    "node_",
    "pg_",
    "redis_",
    "kube_",
    "scrape_",
    "net_conntrack_",
];

/// The classic-client convention for a request counter labelled `status_label`.
pub fn classic(status_label: &str) -> Convention {
    if status_label == "code" {
        PROMETHEUS_CODE
    } else {
        PROMETHEUS
    }
}
