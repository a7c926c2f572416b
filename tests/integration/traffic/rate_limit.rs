//! The `rate_limit` probe against servers that count what they receive (token bucket, 503
//! throttler, never-throttling, slow) and a real nginx `limit_req`, in its 503 and 429 forms.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prodcheck::demo::service::TokenBucket;
use serde_json::Value;

use crate::support::*;

/// A server and the number of requests it has received.
struct Counted {
    server: AppServer,
    hits: Arc<AtomicUsize>,
}

impl Counted {
    fn start(respond: impl Fn(usize) -> Response + Clone + Send + Sync + 'static) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let app = Router::new().route(
            "/",
            get(move || {
                let n = h.fetch_add(1, Ordering::SeqCst) + 1;
                let respond = respond.clone();
                async move { respond(n) }
            }),
        );
        Counted {
            server: AppServer::start(app),
            hits,
        }
    }

    fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst) as u64
    }

    fn url(&self) -> String {
        self.server.url("/")
    }
}

/// 429 with Retry-After and RateLimit headers once `capacity` tokens are spent.
fn token_bucket(capacity: u32, per_second: f64) -> Counted {
    let bucket = Arc::new(TokenBucket::new(capacity, per_second));
    Counted::start(move |_| match bucket.take() {
        Ok(left) => {
            let mut r = "ok\n".into_response();
            r.headers_mut()
                .insert("ratelimit-limit", HeaderValue::from(capacity));
            r.headers_mut()
                .insert("ratelimit-remaining", HeaderValue::from(left));
            r
        }
        Err(after) => {
            let mut r = (StatusCode::TOO_MANY_REQUESTS, "slow down\n").into_response();
            let h = r.headers_mut();
            h.insert("retry-after", HeaderValue::from(after));
            h.insert("ratelimit-limit", HeaderValue::from(capacity));
            h.insert("ratelimit-remaining", HeaderValue::from(0));
            h.insert("ratelimit-reset", HeaderValue::from(after));
            h.insert(
                "ratelimit-policy",
                HeaderValue::from_static("\"default\";q=10;w=20"),
            );
            r
        }
    })
}

/// 503 without Retry-After from request `after + 1` on, for ever.
fn throttles_with_503(after: usize) -> Counted {
    Counted::start(move |n| {
        if n > after {
            (StatusCode::SERVICE_UNAVAILABLE, "busy\n").into_response()
        } else {
            "ok\n".into_response()
        }
    })
}

fn never_throttles() -> Counted {
    Counted::start(|_| "ok\n".into_response())
}

fn checklist(timeout: &str, params: &str) -> String {
    Checklist::new("t")
        .item(
            Item::check_block("rl", "rate_limit", params)
                .title("Rate limit")
                .timeout(timeout),
        )
        .build()
}

/// Runs one `rate_limit` item; returns the exit code and the item of the JSON report.
fn run_item(timeout: &str, params: &str) -> (i32, Value) {
    let ran = run_checklist(&checklist(timeout, params));
    let report = json(&ran);
    (ran.code, item(&report, "rl").clone())
}

fn num(it: &Value, key: &str) -> u64 {
    it["evidence"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("evidence `{key}` missing: {it}"))
}

#[test]
fn traffic_token_bucket_429_is_detected_and_the_burst_stops_there() {
    let s = token_bucket(10, 0.2);
    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            concurrency: 1\n            expect_limited_within: 20\n",
            s.url()
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    assert_eq!(num(&it, "first_throttled_index"), 11);
    assert_eq!(s.hits(), 11, "one request past the first throttled one");
    assert_eq!(num(&it, "sent"), 11);
    assert_eq!(it["evidence"]["statuses"]["200"], 10);
    assert_eq!(it["evidence"]["statuses"]["429"], 1);
    let headers = &it["evidence"]["rate_limit_headers"];
    assert_eq!(headers["retry-after"]["well_formed"], true, "{it}");
    assert_eq!(headers["retry-after"]["parsed"]["seconds"], 5);
    assert_eq!(headers["ratelimit-policy"]["well_formed"], true, "{it}");
    assert_eq!(headers["ratelimit-remaining"]["parsed"], 0);
    assert!(
        item_message(&it).contains("throttled at request 11 with 429"),
        "{it}"
    );
}

#[test]
fn traffic_concurrent_burst_never_exceeds_the_cap_or_runs_past_the_throttle() {
    let s = token_bucket(10, 0.2);
    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            max_requests: 100\n",
            s.url()
        ),
    );
    assert_code!((code, &it), 0);
    let sent = num(&it, "sent");
    assert_eq!(s.hits(), sent, "the server saw exactly what was sent");
    // The server throttles its 11th arrival. After that the probe can only have had the
    // other 7 of its 8 slots in flight, and sends nothing once it sees a 429.
    assert!(
        (11..=18).contains(&sent),
        "sent {sent}, expected 11 up to 11 + concurrency - 1"
    );
    assert!(num(&it, "first_throttled_index") <= sent);
}

#[test]
fn traffic_throttling_later_than_expected_fails() {
    let s = token_bucket(10, 0.2);
    assert_item(
        run_item(
            "10s",
            &format!(
                "            url: {}\n            concurrency: 1\n            expect_limited_within: 5\n",
                s.url()
            ),
        ),
        1,
        "fail",
        "first throttled request 11 is past expect_limited_within 5",
    );
    assert_eq!(s.hits(), 11);
}

#[test]
fn traffic_never_throttled_fails_after_exactly_max_requests() {
    let s = never_throttles();
    let it = assert_item(
        run_item(
            "10s",
            &format!(
                "            url: {}\n            max_requests: 50\n",
                s.url()
            ),
        ),
        1,
        "fail",
        "not throttled after 50 requests (max_requests 50)",
    );
    assert_eq!(s.hits(), 50);
    assert_eq!(it["evidence"]["statuses"]["200"], 50);
}

#[test]
fn traffic_max_requests_caps_the_burst_before_the_limit() {
    let s = token_bucket(10, 0.2);
    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            max_requests: 5\n            concurrency: 4\n",
            s.url()
        ),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("not throttled after 5 requests"),
        "{it}"
    );
    assert_eq!(s.hits(), 5);
}

#[test]
fn traffic_503_throttling_warns_unless_listed_and_retry_after_can_be_required() {
    let s = throttles_with_503(5);
    let (code, it) = run_item(
        "10s",
        &format!("            url: {}\n            concurrency: 1\n", s.url()),
    );
    assert_code!((code, &it), 0, "warnings do not gate");
    assert_eq!(it["status"], "warn");
    let m = item_message(&it);
    assert!(m.contains("throttled at request 6 with 503"), "{m}");
    assert!(m.contains("cannot tell from an outage"), "{m}");
    assert!(m.contains("no Retry-After on the 503 response"), "{m}");
    assert_eq!(s.hits(), 6);

    let s = throttles_with_503(5);
    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            concurrency: 1\n            limited_status: [503]\n            require_retry_after: true\n",
            s.url()
        ),
    );
    assert_code!((code, &it), 1);
    assert_eq!(it["status"], "fail");
    let m = item_message(&it);
    assert!(!m.contains("outage"), "503 is listed: {m}");
    assert!(m.contains("no Retry-After on the 503 response"), "{m}");
}

#[test]
fn traffic_503_on_every_request_is_not_taken_for_throttling() {
    let s = throttles_with_503(0);
    let it = assert_item(
        run_item("10s", &format!("            url: {}\n", s.url())),
        3,
        "error",
        "may be down rather than throttling",
    );
    assert!(s.hits() <= 8, "{it}");
}

#[test]
fn traffic_recovery_waits_the_advertised_retry_after_then_succeeds() {
    let s = token_bucket(3, 1.0);
    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            concurrency: 1\n            recovery: true\n            require_retry_after: true\n",
            s.url()
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    assert_eq!(it["evidence"]["recovery"]["status"], 200, "{it}");
    assert_eq!(it["evidence"]["recovery"]["wait_ms"], 1000, "{it}");
    assert!(item_message(&it).contains("recovered"), "{it}");
    assert_eq!(s.hits(), 5, "4 in the burst, 1 after the wait");
}

#[test]
fn traffic_recovery_fails_when_still_throttled() {
    let s = throttles_with_503(2);
    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            concurrency: 1\n            limited_status: [503]\n            recovery: true\n",
            s.url()
        ),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("still 503 after waiting"),
        "{it}"
    );
    assert_eq!(s.hits(), 4);
}

#[test]
fn traffic_malformed_rate_limit_headers_are_reported() {
    let s = Counted::start(|n| {
        if n <= 3 {
            return "ok\n".into_response();
        }
        let mut r = (StatusCode::TOO_MANY_REQUESTS, "no\n").into_response();
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("soon"));
        r.headers_mut()
            .insert("ratelimit-remaining", HeaderValue::from_static("-1"));
        r
    });
    let (code, it) = run_item(
        "10s",
        &format!("            url: {}\n            concurrency: 1\n", s.url()),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "warn");
    let m = item_message(&it);
    assert!(m.contains("malformed Retry-After"), "{m}");
    assert!(m.contains("malformed RateLimit-Remaining"), "{m}");
    let headers = &it["evidence"]["rate_limit_headers"];
    assert_eq!(headers["retry-after"]["well_formed"], false);
    assert_eq!(headers["ratelimit-remaining"]["well_formed"], false);
}

#[test]
fn traffic_the_item_timeout_bounds_the_burst_and_says_how_far_it_got() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = AppServer::start(Router::new().route(
        "/",
        get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                "ok\n"
            }
        }),
    ));
    let it = assert_item(
        run_item(
            "1s",
            &format!(
                "            url: {}\n            max_requests: 10000\n            concurrency: 2\n",
                server.url("/")
            ),
        ),
        3,
        "error",
        "item timeout ran out after",
    );
    assert!(item_message(&it).contains("of 10000 requests sent"), "{it}");
    let sent = num(&it, "sent");
    assert!(sent < 10000);
    drop(server);
    assert!(hits.load(Ordering::SeqCst) as u64 <= sent);
}

#[test]
fn traffic_unreachable_target_fails_after_one_round() {
    // Refused × Content = fail (no_answer.rs): the target answered, with a refusal.
    let port = closed_port();
    let (code, it) = run_item(
        "5s",
        &format!("            url: http://127.0.0.1:{port}/\n"),
    );
    assert_code!((code, &it), 1);
    assert!(item_message(&it).contains("could not be reached"), "{it}");
    assert_eq!(it["evidence"]["no_answer"], "refused", "{it}");
    assert!(num(&it, "sent") <= 8, "{it}");
}

#[test]
fn traffic_rate_limit_runs_after_the_other_probes() {
    // The burst empties the bucket; the http item, listed later, still gets its token because
    // disruptive probes run last.
    let s = token_bucket(5, 0.01);
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &format!(
            "name: t\nsections:\n  - name: S\n    items:\n      - id: rl\n        title: Burst\n        check: {{ rate_limit: {{ url: \"{0}\" }} }}\n      - id: api\n        title: API answers\n        check: {{ http: {{ url: \"{0}\" }} }}\n",
            s.url()
        ),
    );
    let ran = p.run_json(&file);
    let report = json(&ran);
    assert_eq!(item(&report, "api")["status"], "pass", "{}", ran.stdout);
    assert_eq!(item(&report, "rl")["status"], "pass", "{}", ran.stdout);
}

#[test]
fn traffic_rate_limit_parameters_are_validated_at_the_field() {
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &checklist(
            "10s",
            "            url: http://127.0.0.1:1/\n            max_requests: 20000\n            concurrency: 0\n            limited_status: []\n",
        ),
    );
    p.case()
        .args(["validate", file.to_str().unwrap_or_default()])
        .code(2)
        .stderr_has("c.yaml:11:")
        .stderr_has("between 1 and 10000")
        .stderr_has("c.yaml:12:")
        .stderr_has("`concurrency` is 0")
        .stderr_has("c.yaml:13:")
        .stderr_has("empty `limited_status`")
        .run();
}

#[test]
fn traffic_rate_limit_ad_hoc_uses_yaml_names() {
    let s = token_bucket(3, 0.2);
    let ran = run(prodcheck().args([
        "probe",
        "rate_limit",
        &format!("url={}", s.url()),
        "max_requests=10",
        "concurrency=1",
        "limited_status=[429]",
    ]));
    assert_code!(ran, 0);
    assert!(
        ran.stdout.contains("throttled at request 4 with 429"),
        "{}",
        ran.stdout
    );
    assert_eq!(s.hits(), 4);
}

const NGINX_LIMITS: &str = "limit_req_zone $binary_remote_addr zone=z503:1m rate=1r/m;\n  limit_req_zone $binary_remote_addr zone=z429:1m rate=1r/m;\n  server { listen 127.0.0.1:{PORT0}; root {DIR}/www; location / { limit_req zone=z503 burst=3 nodelay; } }\n  server { listen 127.0.0.1:{PORT1}; root {DIR}/www; location / { limit_req zone=z429 burst=3 nodelay; limit_req_status 429; } }";

#[test]
fn traffic_nginx_limit_req_is_detected_in_503_and_429_forms() {
    let Some(nginx) = Nginx::start(2, NGINX_LIMITS) else {
        return;
    };
    nginx.write("www/index.html", "ok\n");
    // 1 request plus a burst of 3 pass; the 5th is rejected, deterministically at rate 1r/m.
    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            concurrency: 1\n",
            nginx.url(0, "/")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "warn", "{it}");
    let m = item_message(&it);
    assert!(m.contains("throttled at request 5 with 503"), "{m}");
    assert!(m.contains("cannot tell from an outage"), "{m}");
    assert_eq!(num(&it, "sent"), 5);

    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            concurrency: 1\n            expect_limited_within: 5\n            require_retry_after: true\n",
            nginx.url(1, "/")
        ),
    );
    assert_code!((code, &it), 1, "nginx sends no Retry-After");
    let m = item_message(&it);
    assert!(m.contains("throttled at request 5 with 429"), "{m}");
    assert!(m.contains("no Retry-After on the 429 response"), "{m}");
    assert!(!m.contains("outage"), "{m}");
    assert_eq!(num(&it, "sent"), 5);
}

#[test]
fn traffic_nginx_concurrent_burst_is_detected_within_the_cap() {
    let Some(nginx) = Nginx::start(2, NGINX_LIMITS) else {
        return;
    };
    nginx.write("www/index.html", "ok\n");
    let (code, it) = run_item(
        "10s",
        &format!(
            "            url: {}\n            max_requests: 40\n            expect_limited_within: 12\n",
            nginx.url(1, "/")
        ),
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "warn", "no Retry-After only warns: {it}");
    assert_eq!(it["evidence"]["statuses"]["200"], 4, "{it}");
    // Nothing new starts once a throttled answer is in: at most the 4 accepted requests plus
    // one full window of 8 in flight were sent. (The throttled index is in send order, which
    // concurrent answers can overtake, so it is not a bound by itself.)
    let (first, sent) = (num(&it, "first_throttled_index"), num(&it, "sent"));
    assert!(
        first >= 1 && sent <= 4 + 8,
        "sent {sent}, first {first}: {it}"
    );
}
