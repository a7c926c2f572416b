//! API routes and protected paths of the web service: `api_url` and `rate_limit_url` from
//! Prometheus route labels, an OpenAPI document or the home page's links, each verified by a
//! GET; `protected_urls` from the usual admin paths that refuse an anonymous request.

use serde_json::Value;

use super::finding::{Finding, Learned};
use super::polite::Pacer;
use super::urls::{PAGE_CAP, SMALL_CAP, path_of, same_host};

const OPENAPI_PATHS: [&str; 3] = ["/openapi.json", "/swagger.json", "/v3/api-docs"];
const PROTECTED_PATHS: [&str; 5] = ["/admin", "/api/admin", "/internal", "/dashboard", "/manage"];
const MAX_API: usize = 3;
const MAX_PROTECTED: usize = 5;

/// Paths worth trying as an API route: no parameters, not health, metrics, assets or admin.
fn usable_route(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.starts_with('/')
        && p.len() > 1
        && !p.contains(['{', ':', '*', '<', '(', '$'])
        && ![
            "health", "metrics", "static", "assets", "admin", "login", "/ws", "socket", "favicon",
            "livez", "readyz",
        ]
        .iter()
        .any(|w| p.contains(w))
}

/// GET paths without parameters of an OpenAPI / Swagger document.
fn openapi_paths(doc: &Value) -> Vec<String> {
    doc["paths"]
        .as_object()
        .map(|paths| {
            paths
                .iter()
                .filter(|(_, ops)| ops.get("get").is_some())
                .map(|(p, _)| p.clone())
                .collect()
        })
        .unwrap_or_default()
}

pub(super) async fn api(
    pacer: &Pacer,
    base: &str,
    routes: &[String],
    links: &[String],
    learned: &mut Learned,
) {
    let mut candidates: Vec<(String, &str)> = routes
        .iter()
        .map(|r| (r.clone(), "a route Prometheus's labels name"))
        .collect();
    if !candidates.iter().any(|(p, _)| usable_route(p)) {
        for path in OPENAPI_PATHS {
            let Ok(p) = pacer
                .get(
                    &format!("{base}{path}"),
                    &[("accept", "application/json")],
                    PAGE_CAP,
                )
                .await
            else {
                break;
            };
            if p.status == 200
                && let Ok(doc) = serde_json::from_slice::<Value>(&p.body.bytes)
            {
                candidates.extend(
                    openapi_paths(&doc)
                        .into_iter()
                        .map(|r| (r, "a GET route of the OpenAPI document")),
                );
                break;
            }
        }
        candidates.extend(
            links
                .iter()
                .filter(|l| same_host(l, base))
                .map(|l| (path_of(l), "a link of the home page"))
                .filter(|(p, _)| p.starts_with("/api/")),
        );
    }
    candidates.retain(|(p, _)| usable_route(p));
    candidates.sort_by_key(|(p, _)| !p.starts_with("/api"));
    let mut seen = std::collections::BTreeSet::new();
    candidates.retain(|(p, _)| seen.insert(p.clone()));
    let mut ok: Vec<(String, String)> = Vec::new();
    let mut refused: Option<(String, String)> = None;
    let mut tried = Vec::new();
    for (path, source) in candidates.iter().take(MAX_API) {
        let url = format!("{base}{path}");
        let p = match pacer
            .get(&url, &[("accept", "application/json")], SMALL_CAP)
            .await
        {
            Ok(p) => p,
            Err(r) => {
                tried.push(r.reason().to_string());
                break;
            }
        };
        let kind = p
            .first("content-type")
            .unwrap_or("no content type")
            .to_string();
        match p.status {
            200..=299 => ok.push((
                url,
                format!("GET {path} answers {} {kind} ({source})", p.status),
            )),
            401 | 403 if refused.is_none() => {
                refused = Some((
                    url,
                    format!(
                        "GET {path} answers {} ({source}): set api_headers",
                        p.status
                    ),
                ));
            }
            s => tried.push(format!("{path} {s}")),
        }
    }
    match (ok.first(), refused) {
        (Some((url, ev)), _) => learned.push(Finding::found("api_url", url, ev.clone())),
        (None, Some((url, ev))) => learned.push(Finding::guessed("api_url", &url, ev)),
        (None, None) if candidates.is_empty() => learned.push(Finding::needed("api_url", "no API route found (no Prometheus route label, no OpenAPI document at /openapi.json, /swagger.json or /v3/api-docs, no /api/ link on the home page)")),
        (None, None) => learned.push(Finding::needed("api_url", format!("no API route answered 2xx ({})", tried.join(", ")))),
    }
    let limited = ok.iter().find(|(u, _)| u.contains("search")).or(ok.first());
    match limited {
        Some((url, _)) => learned.push(Finding::guessed(
            "rate_limit_url",
            url,
            format!(
                "{} answers 2xx; its rate limiting was not tested (discovery sends no burst)",
                path_of(url)
            ),
        )),
        None => learned.push(Finding::needed(
            "rate_limit_url",
            pacer
                .stopped(base)
                .unwrap_or_else(|| "no API route answered 2xx".to_string()),
        )),
    }
}

pub(super) async fn protected(pacer: &Pacer, base: &str, links: &[String], learned: &mut Learned) {
    let mut candidates: Vec<String> = links
        .iter()
        .filter(|l| same_host(l, base) && path_of(l).contains("admin"))
        .map(|l| path_of(l))
        .collect();
    for p in PROTECTED_PATHS {
        if !candidates.iter().any(|c| c == p) {
            candidates.push(p.to_string());
        }
    }
    let mut refused = Vec::new();
    let mut tried = Vec::new();
    for path in candidates.iter().take(MAX_PROTECTED) {
        let url = format!("{base}{path}");
        let p = match pacer.get(&url, &[], SMALL_CAP).await {
            Ok(p) => p,
            Err(r) => {
                tried.push(r.reason().to_string());
                break;
            }
        };
        match p.status {
            401 | 403 => refused.push((url, format!("{path} {}", p.status))),
            s => tried.push(format!("{path} {s}")),
        }
    }
    if refused.is_empty() {
        let why = format!(
            "none of the usual protected paths answers 401 or 403 ({})",
            tried.join(", ")
        );
        learned.push(Finding::needed("protected_urls", why));
        return;
    }
    let urls: Vec<&str> = refused.iter().map(|(u, _)| u.as_str()).collect();
    let ev: Vec<&str> = refused.iter().map(|(_, e)| e.as_str()).collect();
    let yaml = serde_json::to_string(&urls).unwrap_or_else(|_| "[]".into());
    learned.push(Finding::found_yaml(
        "protected_urls",
        yaml,
        format!("answer without credentials: {}", ev.join(", ")),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_parameterless_api_like_paths_are_tried() {
        for good in ["/api/items", "/v1/orders", "/search"] {
            assert!(usable_route(good), "{good}");
        }
        for bad in [
            "/",
            "/users/{id}",
            "/users/:id",
            "/metrics",
            "/healthz",
            "/static/x.js",
            "/admin",
            "*",
            "/ws",
        ] {
            assert!(!usable_route(bad), "{bad}");
        }
        let doc = serde_json::json!({"paths": {
            "/api/v1/orders": {"get": {}, "post": {}},
            "/api/v1/login": {"post": {}},
            "/api/v1/orders/{id}": {"get": {}}
        }});
        assert_eq!(
            openapi_paths(&doc),
            ["/api/v1/orders", "/api/v1/orders/{id}"]
        );
    }
}
