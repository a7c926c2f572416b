//! `init --discover` where things are missing or unfriendly: no prodcheck.yaml yet, a real
//! PostgreSQL and Redis with an unreachable web service, and a service that throttles.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::fixture::*;
use crate::support::*;

#[test]
fn without_a_file_it_writes_inits_template_then_fills_what_the_build_output_says() {
    let p = Project::new();
    p.file("build/static/js/main.5f3c2a1b.js", &"x".repeat(3000));
    let ran = run(p.cmd().args(["init", "--discover"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.starts_with("wrote ./prodcheck.yaml"),
        "{}",
        ran.stdout
    );
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("file");
    let folded: String = text
        .lines()
        .map(|l| {
            l.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replacen(" # ", "  # ", 1)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        line_of(&folded, "bundle_glob"),
        "bundle_glob: build/static/js/main.*.js  # found: matches 1 file(s) of the build output, e.g. build/static/js/main.5f3c2a1b.js (3 KiB)"
    );
    for var in [
        "health_url",
        "login_url",
        "ws_url",
        "api_url",
        "protected_urls",
    ] {
        assert_eq!(
            line_of(&folded, var),
            format!(
                "{var}: ~  # not found: base_url is not set in this environment: set it and run `prodcheck init --discover` again"
            )
        );
    }
    // Discovery filled `staging` (the default) only.
    let prod = env_vars(&text, "production");
    assert_eq!(
        prod.get("health_url").map(String::as_str),
        Some("${base_url}/health")
    );
    assert!(ran.stdout.contains("no HTTP requests"), "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("needed   metrics_convention, api_job, node_job"),
        "{}",
        ran.stdout
    );
    // Run again: what it wrote is now the user's file, and still valid for `validate`.
    let again = run(p.cmd().args(["init", "--discover", "--env", "staging"]));
    assert_eq!(again.code, 0, "{}", again.stderr);
    let validated = run(p.cmd().args(["validate"]));
    assert_eq!(
        validated.code, 0,
        "{}{}",
        validated.stdout, validated.stderr
    );
}

#[test]
fn postgres_replicas_and_extensions_and_the_redis_role_from_real_servers() {
    let Some((pg, _)) = crate::support::start_postgres(false) else {
        return;
    };
    let Some(redis) = crate::support::start_redis() else {
        return;
    };
    let web = closed_port();
    let p = Project::new();
    p.file(
        "prodcheck.yaml",
        &format!(
            "environments:\n  staging:\n    vars:\n      base_url: http://127.0.0.1:{web}\n      database_url: postgres://postgres:${{env:PG_PW}}@127.0.0.1:{}/postgres\n      redis_url: redis://:${{env:REDIS_PW}}@127.0.0.1:{}\n      min_replicas: 2   # we run two\n",
            pg.port, redis.port
        ),
    );
    let ran = run(p
        .cmd()
        .env("PG_PW", crate::support::PG_PASSWORD)
        .env("REDIS_PW", crate::support::REDIS_PASSWORD)
        .args(["init", "--discover"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("file");
    // The user's number is kept; discovery says what it saw beside it.
    assert!(
        text.contains("      min_replicas: 2   # we run two\n"),
        "{text}"
    );
    assert!(
        ran.stdout.contains("kept     min_replicas")
            && ran
                .stdout
                .contains("set by you, not changed; discovery guessed 0"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("pg_stat_statements") && ran.stdout.contains("not installed"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("master with 0 connected replica(s)"),
        "{}",
        ran.stdout
    );
    let health = line_of(&text, "health_url");
    assert!(
        health.starts_with(&format!(
            "health_url: ~  # not found: http://127.0.0.1:{web}/ did not answer ("
        )) && health.contains("refused"),
        "{health}"
    );
    for secret in [crate::support::PG_PASSWORD, crate::support::REDIS_PASSWORD] {
        assert!(
            !ran.stdout.contains(secret) && !text.contains(secret),
            "a secret leaked"
        );
    }
}

#[test]
fn a_throttling_service_is_left_alone_after_its_first_429() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = AppServer::start(Router::new().fallback(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < 1 {
                (StatusCode::OK, "<html><a href=\"/login\">in</a></html>").into_response()
            } else {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "30")],
                    "slow down",
                )
                    .into_response()
            }
        }
    }));
    let p = Project::new();
    p.file(
        "prodcheck.yaml",
        &format!(
            "environments:\n  staging:\n    vars:\n      base_url: {}\n",
            app.url("")
        ),
    );
    let ran = run(p.cmd().args(["init", "--discover"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(hits.load(Ordering::SeqCst), 2, "{}", ran.stdout);
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("file");
    let login = line_of(&text, "login_url");
    assert!(
        login.contains("throttled discovery (429, Retry-After 30 s); it stopped asking that host"),
        "{text}"
    );
    assert!(
        ran.stdout
            .contains(&format!("2 to 127.0.0.1:{}", app.addr.port())),
        "{}",
        ran.stdout
    );
}

#[test]
fn without_prometheus_routes_come_from_the_openapi_document() {
    let json = |body: &'static str| ([(header::CONTENT_TYPE, "application/json")], body);
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = AppServer::start(
        Router::new()
            .route(
                "/",
                axum::routing::get(|| async {
                    ([(header::SET_COOKIE, "sessionid=x; HttpOnly")], "<html>shop</html>")
                }),
            )
            .route("/health", axum::routing::get(move || async move { json(r#"{"healthy":true}"#) }))
            .route(
                "/openapi.json",
                axum::routing::get(move || async move {
                    json(r#"{"openapi":"3.0.0","paths":{"/api/v1/orders":{"get":{}},"/api/v1/orders/{id}":{"get":{}},"/api/v1/login":{"post":{}}}}"#)
                }),
            )
            .route("/api/v1/orders", axum::routing::get(move || async move { json("[]") }))
            .route("/internal", axum::routing::get(|| async { StatusCode::FORBIDDEN }))
            .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    next.run(req).await
                }
            })),
    );
    let base = app.url("");
    let p = Project::new();
    p.file(
        "prodcheck.yaml",
        &format!("environments:\n  staging:\n    vars:\n      base_url: {base}\n"),
    );
    let ran = run(p.cmd().args(["init", "--discover"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("file");
    println!("{}\n{text}", ran.stdout);
    let expected = [
        format!("health_url: {base}/health  # found: /health answers 200 {{\"healthy\":true}}"),
        "health_expect_json: { /healthy: true }  # found: /health answers {\"healthy\":true}".to_string(),
        format!("login_url: {base}/  # found: / answers 200 and sets sessionid"),
        "static_asset_url: ~  # not found: the home page references no content-hashed asset (like app.3f2a1c9b.js)".to_string(),
        format!("api_url: {base}/api/v1/orders  # found: GET /api/v1/orders answers 200 application/json (a GET route of the OpenAPI document)"),
        format!("rate_limit_url: {base}/api/v1/orders  # guessed: /api/v1/orders answers 2xx; its rate limiting was not tested (discovery sends no burst)"),
        format!("protected_urls: [\"{base}/internal\"]  # found: answer without credentials: /internal 403"),
        "api_job: ~  # not found: prometheus_url is not set in this environment: set it and run `prodcheck init --discover` again".to_string(),
    ];
    for line in expected {
        let var = line.split(':').next().unwrap_or_default();
        assert_eq!(line_of(&text, var), line);
    }
    let ws = line_of(&text, "ws_url");
    assert!(ws.starts_with("ws_url: ~  # not found: none of /ws, /socket, /cable, /socket.io/?EIO=4&transport=websocket upgrades ("), "{ws}");
    // 1 home + 2 health + 4 upgrades + 1 OpenAPI + 1 route + 5 protected paths.
    assert_eq!(hits.load(Ordering::SeqCst), 14);
    assert!(
        ran.stdout
            .contains(&format!("14 to 127.0.0.1:{} (bound 40)", app.addr.port())),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_silent_service_costs_one_timed_out_request_and_every_web_variable_says_so() {
    // The client's own timeout and the fetch deadline are both 5 s: either wording may win.
    let silent = RawServer::silent();
    let p = Project::new();
    p.file(
        "prodcheck.yaml",
        &format!(
            "environments:\n  staging:\n    vars:\n      base_url: {}\n",
            silent.url("")
        ),
    );
    let started = std::time::Instant::now();
    let ran = run(p.cmd().args(["init", "--discover"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(silent.accepted.load(Ordering::SeqCst), 1, "{}", ran.stdout);
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("file");
    for var in [
        "health_url",
        "login_url",
        "static_asset_url",
        "ws_url",
        "api_url",
        "protected_urls",
    ] {
        let line = line_of(&text, var);
        assert!(
            line.starts_with(&format!(
                "{var}: ~  # not found: {}/ did not answer (GET {}/: timed out",
                silent.url(""),
                silent.url("")
            )),
            "{line}"
        );
    }
}

#[test]
fn a_secret_in_base_url_never_reaches_the_file_or_the_terminal() {
    let app = AppServer::start(
        Router::new()
            .route("/", axum::routing::get(|| async { "<html></html>" }))
            .route(
                "/healthz",
                axum::routing::get(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"status":"ok"}"#,
                    )
                }),
            )
            .route(
                "/admin",
                axum::routing::get(|| async { StatusCode::FORBIDDEN }),
            ),
    );
    let port = app.addr.port();
    let p = Project::new();
    p.file(
        "prodcheck.yaml",
        &format!("environments:\n  staging:\n    vars:\n      base_url: http://probe:${{env:WEB_PW}}@127.0.0.1:{port}\n"),
    );
    let ran = run(p
        .cmd()
        .env("WEB_PW", "w3b-s3cret")
        .args(["init", "--discover"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("file");
    assert!(
        !text.contains("w3b-s3cret") && !ran.stdout.contains("w3b-s3cret"),
        "{}\n{text}",
        ran.stdout
    );
    assert_eq!(
        line_of(&text, "health_url"),
        "health_url: ${base_url}/healthz  # found: /healthz answers 200 {\"status\":\"ok\"}"
    );
    assert_eq!(
        line_of(&text, "protected_urls"),
        "protected_urls: [\"${base_url}/admin\"]  # found: answer without credentials: /admin 403"
    );
    // The ws:// form of the URL cannot be written on ${base_url}: it is left to the user.
    let ws = line_of(&text, "ws_url");
    assert!(
        ws.starts_with("ws_url: ~  # not found: none of /ws"),
        "{ws}"
    );
}
