//! Discovery from the web service at `base_url`: the health endpoint and its JSON, the page
//! that sets the session cookie, a hashed static asset, a WebSocket endpoint, an API route and
//! the protected paths. Each candidate is a GET (or an upgrade) under the pacer's bound.

use checks::web::page::Page;
use serde_json::Value;

use super::finding::{Finding, Learned, short};
use super::html;
use super::polite::Pacer;
use super::yaml_edit::render_str;

/// The variables this source settles.
pub const VARIABLES: [&str; 8] = [
    "health_url",
    "health_expect_json",
    "login_url",
    "static_asset_url",
    "ws_url",
    "api_url",
    "rate_limit_url",
    "protected_urls",
];

/// Pages read up to this size; asset and probe answers much less.
const PAGE_CAP: u64 = 512 * 1024;
const SMALL_CAP: u64 = 16 * 1024;

const HEALTH_PATHS: [&str; 8] = [
    "/healthz",
    "/health",
    "/livez",
    "/readyz",
    "/api/health",
    "/status",
    "/actuator/health",
    "/health/live",
];
const LOGIN_PATHS: [&str; 5] = [
    "/login",
    "/signin",
    "/users/sign_in",
    "/account/login",
    "/auth/login",
];
const LOGIN_WORDS: [&str; 5] = ["login", "signin", "sign_in", "sign-in", "log-in"];
const SESSION_WORDS: [&str; 7] = ["session", "sess", "sid", "csrf", "xsrf", "token", "auth"];
const WS_PATHS: [&str; 4] = [
    "/ws",
    "/socket",
    "/cable",
    "/socket.io/?EIO=4&transport=websocket",
];
const OPENAPI_PATHS: [&str; 3] = ["/openapi.json", "/swagger.json", "/v3/api-docs"];
const PROTECTED_PATHS: [&str; 5] = ["/admin", "/api/admin", "/internal", "/dashboard", "/manage"];
/// Candidate requests per kind at most.
const MAX_LOGIN: usize = 5;
const MAX_WS: usize = 4;
const MAX_API: usize = 3;
const MAX_PROTECTED: usize = 5;

fn same_host(a: &str, b: &str) -> bool {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .map(|u| (u.host_str().map(str::to_string), u.port_or_known_default()))
    };
    host(a).is_some() && host(a) == host(b)
}

fn path_of(u: &str) -> String {
    url::Url::parse(u).map_or_else(
        |_| u.to_string(),
        |p| {
            let mut s = p.path().to_string();
            if let Some(q) = p.query() {
                s.push('?');
                s.push_str(q);
            }
            s
        },
    )
}

/// Learns what the service at `base_url` answers; `routes` are paths Prometheus labels name.
pub async fn discover(pacer: &Pacer, base_url: &str, routes: &[String]) -> Learned {
    let mut learned = Learned::default();
    let base = base_url.trim_end_matches('/').to_string();
    let home = match pacer
        .get(
            &format!("{base}/"),
            &[("accept", "text/html,*/*")],
            PAGE_CAP,
        )
        .await
    {
        Ok(p) => p,
        Err(r) => {
            let why = format!("{base}/ did not answer ({})", r.reason());
            learned.all_needed(&VARIABLES, &why);
            return learned;
        }
    };
    let links = html::links(&home.url, &home.body.text());
    health(pacer, &base, &mut learned).await;
    login(pacer, &base, &home, &links, &mut learned).await;
    static_asset(pacer, &home, &links, &mut learned).await;
    websocket(pacer, &base, &links, &mut learned).await;
    api(pacer, &base, routes, &links, &mut learned).await;
    protected(pacer, &base, &links, &mut learned).await;
    learned
}

/// `health_expect_json` from a health answer: the first of `status`, `state`, `health`,
/// `healthy`, `ok` holding a string or boolean; `{}` (status only) otherwise.
pub fn expectation(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    for key in ["status", "state", "health", "healthy", "ok"] {
        match obj.get(key) {
            Some(Value::String(s)) => return Some(format!("{{ /{key}: {} }}", render_str(s))),
            Some(Value::Bool(b)) => return Some(format!("{{ /{key}: {b} }}")),
            _ => {}
        }
    }
    Some("{}".into())
}

async fn health(pacer: &Pacer, base: &str, learned: &mut Learned) {
    let mut tried = Vec::new();
    for path in HEALTH_PATHS {
        let url = format!("{base}{path}");
        match pacer
            .get(&url, &[("accept", "application/json")], SMALL_CAP)
            .await
        {
            Ok(p) if p.status == 200 => {
                let body = short(&p.body.text(), 60);
                learned.push(Finding::found(
                    "health_url",
                    &url,
                    format!("{path} answers 200 {body}"),
                ));
                match expectation(&p.body.bytes) {
                    Some(e) if e != "{}" => {
                        let ev = format!("{path} answers {body}");
                        learned.push(Finding::found_yaml("health_expect_json", e, ev));
                    }
                    Some(e) => learned.push(Finding::found_yaml(
                        "health_expect_json",
                        e,
                        format!(
                            "{path}'s JSON has no status field: the status code alone is checked"
                        ),
                    )),
                    None => learned.push(Finding::found_yaml(
                        "health_expect_json",
                        "{}",
                        format!("{path} answers no JSON: the status code alone is checked"),
                    )),
                }
                return;
            }
            Ok(p) => tried.push(format!("{path} {}", p.status)),
            Err(r) => {
                tried.push(format!("{path}: {}", r.reason()));
                if !pacer.open(&url) {
                    break;
                }
            }
        }
    }
    let why = format!(
        "no usual health path answers 200 ({})",
        short(&tried.join(", "), 150)
    );
    learned.all_needed(&["health_url", "health_expect_json"], &why);
}

/// The names of the cookies a page sets, and whether one looks like a session cookie.
fn cookies(page: &Page) -> (Vec<String>, bool) {
    let names: Vec<String> = page
        .all("set-cookie")
        .iter()
        .filter_map(|c| c.split('=').next().map(|n| n.trim().to_string()))
        .collect();
    let session = names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        SESSION_WORDS.iter().any(|w| n.contains(w))
    });
    (names, session)
}

async fn login(pacer: &Pacer, base: &str, home: &Page, links: &[String], learned: &mut Learned) {
    let (names, session) = cookies(home);
    if session {
        let ev = format!("/ answers {} and sets {}", home.status, names.join(", "));
        learned.push(Finding::found("login_url", &format!("{base}/"), ev));
        return;
    }
    let mut candidates: Vec<String> = links
        .iter()
        .filter(|l| {
            same_host(l, base)
                && LOGIN_WORDS
                    .iter()
                    .any(|w| path_of(l).to_ascii_lowercase().contains(w))
        })
        .cloned()
        .collect();
    for p in LOGIN_PATHS {
        let url = format!("{base}{p}");
        if !candidates.contains(&url) {
            candidates.push(url);
        }
    }
    let mut some_cookie: Option<(String, String)> = None;
    let mut tried = Vec::new();
    for url in candidates.iter().take(MAX_LOGIN) {
        let p = match pacer.get(url, &[("accept", "text/html")], PAGE_CAP).await {
            Ok(p) => p,
            Err(r) => {
                tried.push(r.reason().to_string());
                break;
            }
        };
        let (names, session) = cookies(&p);
        let path = path_of(url);
        if p.status == 200 && session {
            let ev = format!("{path} answers 200 and sets {}", names.join(", "));
            learned.push(Finding::found("login_url", url, ev));
            return;
        }
        if p.status == 200 && !names.is_empty() && some_cookie.is_none() {
            some_cookie = Some((
                url.clone(),
                format!(
                    "{path} answers 200 and sets {} (no session-like name)",
                    names.join(", ")
                ),
            ));
        }
        tried.push(format!("{path} {}", p.status));
    }
    match some_cookie {
        Some((url, ev)) => learned.push(Finding::guessed("login_url", &url, ev)),
        None => learned.push(Finding::needed(
            "login_url",
            format!(
                "no page sets a session cookie ({})",
                short(&tried.join(", "), 150)
            ),
        )),
    }
}

async fn static_asset(pacer: &Pacer, home: &Page, links: &[String], learned: &mut Learned) {
    let assets = html::hashed_assets(&home.url, links);
    for url in assets.iter().take(2) {
        if let Ok(p) = pacer.get(url, &[], 1).await
            && p.status == 200
        {
            let cache = p
                .first("cache-control")
                .map(|c| format!(", cache-control: {c}"))
                .unwrap_or_default();
            let ev = format!("the home page references it; answers 200{cache}");
            learned.push(Finding::found("static_asset_url", url, ev));
            return;
        }
    }
    let why = if assets.is_empty() {
        "the home page references no content-hashed asset (like app.3f2a1c9b.js)".to_string()
    } else {
        format!(
            "{} referenced by the home page did not answer 200",
            assets[0]
        )
    };
    learned.push(Finding::needed("static_asset_url", why));
}

async fn websocket(pacer: &Pacer, base: &str, links: &[String], learned: &mut Learned) {
    let ws_base = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let mut candidates: Vec<String> = links
        .iter()
        .filter(|l| (l.starts_with("ws://") || l.starts_with("wss://")) && same_host(l, &ws_base))
        .cloned()
        .collect();
    candidates.extend(WS_PATHS.iter().map(|p| format!("{ws_base}{p}")));
    let mut tried = Vec::new();
    for url in candidates.iter().take(MAX_WS) {
        match pacer.upgrades(url).await {
            Ok((true, _)) => {
                let ev = format!("{} upgrades to a WebSocket", path_of(url));
                learned.push(Finding::found("ws_url", url, ev));
                return;
            }
            Ok((false, why)) => tried.push(short(why.rsplit(": ").next().unwrap_or(&why), 60)),
            Err(r) => {
                tried.push(r.reason().to_string());
                break;
            }
        }
    }
    let paths: Vec<String> = candidates.iter().take(MAX_WS).map(|c| path_of(c)).collect();
    let why = format!(
        "none of {} upgrades ({})",
        paths.join(", "),
        short(&tried.join("; "), 120)
    );
    learned.push(Finding::needed("ws_url", why));
}

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

async fn api(
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

async fn protected(pacer: &Pacer, base: &str, links: &[String], learned: &mut Learned) {
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
