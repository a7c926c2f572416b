//! `cors` against in-process servers with one CORS policy each (fine-grained cases) and a
//! real nginx (reflected origin with credentials, strict allow-list).

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::any;
use serde_json::Value;

use crate::support::*;
use crate::web::headers::run_item;

/// A server whose CORS headers are `policy(origin)`.
fn server(policy: fn(&str) -> Vec<(&'static str, String)>) -> AppServer {
    AppServer::start(Router::new().route(
        "/api",
        any(move |headers: HeaderMap| async move {
            let origin = headers
                .get("origin")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let mut out = HeaderMap::new();
            for (k, v) in policy(&origin) {
                if let Ok(v) = v.parse() {
                    out.insert(k, v);
                }
            }
            (out, "{}")
        }),
    ))
}

fn cors(server: &AppServer, allowed: &[&str]) -> (i32, Value) {
    let list: Vec<String> = allowed.iter().map(|o| format!("\"{o}\"")).collect();
    run_item(
        &Project::new(),
        &format!(
            "cors: {{ url: \"{}\", allowed_origins: [{}] }}",
            server.url("/api"),
            list.join(", ")
        ),
    )
}

fn findings(it: &Value) -> Vec<Value> {
    it["evidence"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn reflect_with_credentials(origin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("access-control-allow-origin", origin.to_string()),
        ("access-control-allow-credentials", "true".into()),
        ("vary", "Origin".into()),
    ]
}

#[test]
fn reflecting_any_origin_with_credentials_is_critical() {
    let s = server(reflect_with_credentials);
    let (code, it) = cors(&s, &[]);
    assert_code!((code, &it), 1);
    assert_eq!(it["status"], "fail");
    assert!(
        item_message(&it).contains(
            "critical: reflects origin `https://attacker.test` (foreign domain) with credentials"
        ),
        "{it}"
    );
    let f = findings(&it);
    assert!(
        f.iter()
            .any(|f| f["origin"] == "null" && f["severity"] == "high"),
        "{it}"
    );
    assert!(
        f.iter().any(|f| f["method"] == "OPTIONS"),
        "the preflight is checked too: {it}"
    );
    // Bounded: two requests per origin, nothing else.
    let origins = it["evidence"]["origins_tested"].as_u64().unwrap_or(0);
    assert_eq!(it["evidence"]["requests"].as_u64(), Some(origins * 2));
    assert!(origins <= 16, "{origins}");
}

#[test]
fn an_unanchored_allow_list_lets_attacker_suffixes_through() {
    // Like `^https://app\.example` without `$`.
    let s = server(|origin| {
        if origin.starts_with("https://app.example") {
            reflect_with_credentials(origin)
        } else {
            Vec::new()
        }
    });
    let (code, it) = cors(&s, &["https://app.example"]);
    assert_code!((code, &it), 1);
    let f = findings(&it);
    let hit = f
        .iter()
        .find(|f| f["origin"] == "https://app.example.attacker.test")
        .unwrap_or_else(|| panic!("suffix bypass not found: {it}"));
    assert_eq!(hit["family"], "host as prefix");
    assert_eq!(hit["severity"], "high");
    assert!(
        item_message(&it).starts_with(&format!("{}: high: reflects", s.url("/api"))),
        "{it}"
    );
}

#[test]
fn null_origin_with_credentials_fails() {
    let s = server(|origin| {
        if origin == "null" {
            reflect_with_credentials(origin)
        } else {
            Vec::new()
        }
    });
    let (code, it) = cors(&s, &[]);
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("high: reflects origin `null` (null origin) with credentials"),
        "{it}"
    );
}

#[test]
fn reflection_without_credentials_warns() {
    let s = server(|origin| {
        vec![
            ("access-control-allow-origin", origin.to_string()),
            ("vary", "Origin".into()),
        ]
    });
    let (code, it) = cors(&s, &[]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "warn");
    assert!(
        item_message(&it).contains(
            "low: reflects origin `https://attacker.test` (foreign domain) without credentials"
        ),
        "{it}"
    );
}

#[test]
fn wildcard_alone_passes_and_with_credentials_is_a_broken_config() {
    let s = server(|_| vec![("access-control-allow-origin", "*".into())]);
    let (code, it) = cors(&s, &[]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    let s = server(|_| {
        vec![
            ("access-control-allow-origin", "*".into()),
            ("access-control-allow-credentials", "true".into()),
        ]
    });
    let it = assert_item(cors(&s, &[]), 0, "warn", "broken config");
    // Reported once per method, not once per origin.
    assert_eq!(findings(&it).len(), 2, "{it}");
}

#[test]
fn allowed_origins_must_work_and_dynamic_answers_need_vary() {
    // A fixed allow-list, but without Vary: Origin.
    let s = server(|origin| {
        if origin == "https://app.example" {
            vec![("access-control-allow-origin", origin.to_string())]
        } else {
            Vec::new()
        }
    });
    assert_item(
        cors(&s, &["https://app.example"]),
        0,
        "warn",
        "`Vary: Origin` is missing",
    );
    // An allowed origin the server refuses.
    let (code, it) = cors(&s, &["https://admin.example"]);
    assert_code!((code, &it), 1);
    assert!(item_message(&it).contains("allowed origin `https://admin.example` is refused: GET got no Access-Control-Allow-Origin"), "{it}");
}

#[test]
fn no_cors_headers_pass() {
    let s = server(|_| Vec::new());
    let (code, it) = cors(&s, &[]);
    assert_code!((code, &it), 0);
    assert!(item_message(&it).contains("none of"), "{it}");
}

#[test]
fn nginx_reflected_origin_with_credentials_and_strict_allow_list() {
    let conf = r#"
map $http_origin $cors_origin { "https://app.example" $http_origin; default ""; }
server { listen 127.0.0.1:{PORT0};
  add_header Access-Control-Allow-Origin $http_origin always;
  add_header Access-Control-Allow-Credentials true always;
  location / { return 200 "{}"; } }
server { listen 127.0.0.1:{PORT1};
  add_header Access-Control-Allow-Origin $cors_origin always;
  add_header Access-Control-Allow-Credentials true always;
  add_header Vary Origin always;
  location / { return 200 "{}"; } }
"#;
    let Some(nginx) = Nginx::start(2, conf) else {
        return;
    };
    let p = Project::new();
    let (code, it) = run_item(
        &p,
        &format!("cors: {{ url: \"{}\" }}", nginx.url(0, "/api")),
    );
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it)
            .contains("critical: reflects origin `https://attacker.test` (foreign domain)"),
        "{it}"
    );
    assert_item(
        run_item(
            &p,
            &format!(
                "cors: {{ url: \"{}\", allowed_origins: [\"https://app.example\"] }}",
                nginx.url(1, "/api")
            ),
        ),
        0,
        "pass",
        "the 1 allowed origin(s) work",
    );
}
