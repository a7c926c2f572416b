//! Discovery from the web service at `base_url`: the health endpoint and its JSON, the page
//! that sets the session cookie, a hashed static asset, a WebSocket endpoint, an API route and
//! the protected paths. Each candidate is a GET (or an upgrade) under the pacer's bound.

use checks::net::http::page::Page;
use serde_json::Value;

use super::finding::{Finding, Learned, short};
use super::html;
use super::polite::Pacer;
use super::routes;
use super::urls::{PAGE_CAP, SMALL_CAP, path_of, same_host};
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
/// Candidate requests per kind at most.
const MAX_LOGIN: usize = 5;
const MAX_WS: usize = 4;

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
    routes::api(pacer, &base, routes, &links, &mut learned).await;
    routes::protected(pacer, &base, &links, &mut learned).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_health_expectation_names_the_field_a_healthy_answer_holds() {
        assert_eq!(
            expectation(br#"{"status":"ok","db":"up"}"#).as_deref(),
            Some("{ /status: ok }")
        );
        assert_eq!(
            expectation(br#"{"status":"UP"}"#).as_deref(),
            Some("{ /status: UP }")
        );
        assert_eq!(
            expectation(br#"{"healthy":true}"#).as_deref(),
            Some("{ /healthy: true }")
        );
        assert_eq!(
            expectation(br#"{"status":"yes"}"#).as_deref(),
            Some("{ /status: yes }")
        );
        assert_eq!(expectation(br#"{"uptime":3}"#).as_deref(), Some("{}"));
        assert_eq!(expectation(b"OK"), None);
        assert_eq!(expectation(b"[1]"), None);
    }
}
