//! The HTTP surface of `prodcheck serve`: `/probe` (a checklist run as metrics), `/metrics`
//! (the exporter itself) and `/`, all behind the web config's basic auth when it has users.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::Semaphore;

use super::exposition;
use super::metrics::{Metrics, Rejection};
use super::query;
use super::scrape;
use super::snapshot::Snapshot;
use super::web_config::WebConfig;

const EXPOSITION_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Used when a request does not carry `X-Prometheus-Scrape-Timeout-Seconds` (Prometheus'
/// default `scrape_timeout`).
pub const DEFAULT_SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest scrape timeout honoured.
const MAX_SCRAPE_TIMEOUT: Duration = Duration::from_secs(600);

/// Shared by every request; the snapshot and web config are swapped whole on SIGHUP.
pub struct AppState {
    pub snapshot: RwLock<Arc<Snapshot>>,
    pub web: RwLock<Arc<WebConfig>>,
    pub metrics: Metrics,
    /// Item status changes, logged with their messages.
    pub journal: super::journal::Journal,
    pub runs: Semaphore,
    /// Password checks at once: bcrypt is slow on purpose, and a flood of wrong passwords
    /// must not take every CPU.
    pub auth_checks: Semaphore,
    pub max_runs: usize,
    /// Subtracted from the scrape timeout so the answer arrives before Prometheus gives up.
    pub offset: Duration,
}

impl AppState {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn web(&self) -> Arc<WebConfig> {
        match self.web.read() {
            Ok(w) => w.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/probe", get(probe))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

/// A plain-text answer of one line.
fn text(status: StatusCode, line: &str) -> Response {
    let mut r = (status, format!("{line}\n")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn rejected(state: &AppState, why: Rejection, status: StatusCode, line: &str) -> Response {
    state.metrics.reject(why);
    text(status, line)
}

async fn authenticate(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let web = state.web();
    if web.requires_auth() {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let allowed = match state.auth_checks.acquire().await {
            Ok(_permit) => {
                let check = tokio::task::spawn_blocking(move || web.authorized(given.as_deref()));
                matches!(check.await, Ok(true))
            }
            Err(_) => false,
        };
        if !allowed {
            let mut r = rejected(
                &state,
                Rejection::Unauthorized,
                StatusCode::UNAUTHORIZED,
                "unauthorized: this exporter requires basic auth (basic_auth_users in --web.config.file)",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"prodcheck\""),
            );
            return r;
        }
    }
    next.run(req).await
}

async fn index() -> Response {
    text(
        StatusCode::OK,
        "prodcheck serve: GET /probe?checklist=NAME&env=ENV (or &target=NAME)[&item=ID][&tag=T] runs the checklist's automated items as metrics; GET /metrics describes this exporter",
    )
}

async fn not_found(State(state): State<Arc<AppState>>) -> Response {
    rejected(
        &state,
        Rejection::NotFound,
        StatusCode::NOT_FOUND,
        "not found: prodcheck serve answers /probe, /metrics and /",
    )
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    exposition_response(state.metrics.render())
}

fn exposition_response(body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(EXPOSITION_TYPE),
    );
    r
}

/// The scrape's time budget from `X-Prometheus-Scrape-Timeout-Seconds`, minus the offset.
fn budget(headers: &HeaderMap, offset: Duration) -> Result<(Duration, String), String> {
    let name = "X-Prometheus-Scrape-Timeout-Seconds";
    let timeout = match headers.get(name) {
        None => DEFAULT_SCRAPE_TIMEOUT,
        Some(v) => {
            let seconds = v
                .to_str()
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| format!("{name} must be a positive number of seconds"))?;
            Duration::from_secs_f64(seconds.min(MAX_SCRAPE_TIMEOUT.as_secs_f64()))
        }
    };
    let left = timeout
        .checked_sub(offset)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            format!(
                "scrape timeout {} leaves no time after the --timeout-offset of {}: raise the job's scrape_timeout",
                humantime::format_duration(timeout),
                humantime::format_duration(offset)
            )
        })?;
    let why = format!(
        "scrape timeout {} minus the {} --timeout-offset",
        humantime::format_duration(timeout),
        humantime::format_duration(offset)
    );
    Ok((left, why))
}

async fn probe(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let arrived = tokio::time::Instant::now();
    let started = Instant::now();
    let asked =
        query::parse(req.uri().query()).and_then(|q| Ok((q, budget(req.headers(), state.offset)?)));
    let (q, (left, why)) = match asked {
        Ok(asked) => asked,
        Err(reason) => {
            return rejected(
                &state,
                Rejection::BadRequest,
                StatusCode::BAD_REQUEST,
                &reason,
            );
        }
    };
    let deadline = arrived + left;
    let snapshot = state.snapshot();
    if !snapshot.has_checklist(&q.checklist) {
        let line = format!(
            "no checklist `{}` is served; served: {}",
            q.checklist,
            snapshot.checklist_names().join(", ")
        );
        return rejected(&state, Rejection::NotFound, StatusCode::NOT_FOUND, &line);
    }
    let target = match &q.target {
        None => None,
        Some(name) => match snapshot.config.target(name) {
            Some(t) => Some(t),
            None => {
                let line = snapshot.unknown_target(name);
                return rejected(&state, Rejection::NotFound, StatusCode::NOT_FOUND, &line);
            }
        },
    };
    // A target brings its environment from prodcheck.yaml; `env=` may repeat it, not change it.
    let env = match (target, &q.env) {
        (Some(t), Some(env)) if t.env.as_ref() != Some(env) => {
            let line = format!(
                "target `{}` takes its environment from prodcheck.yaml ({}), not from env=`{env}`: drop env= or make it match",
                t.name,
                t.env
                    .as_deref()
                    .map_or("none".to_string(), |e| format!("`{e}`"))
            );
            return rejected(
                &state,
                Rejection::BadRequest,
                StatusCode::BAD_REQUEST,
                &line,
            );
        }
        (Some(t), _) => t.env.clone(),
        (None, env) => env.clone(),
    };
    let loaded = match target {
        Some(t) => match snapshot.get_target(&q.checklist, &t.name) {
            Ok(loaded) => loaded.map(Arc::new),
            Err(reason) => {
                super::log(&reason);
                return rejected(
                    &state,
                    Rejection::Error,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &reason,
                );
            }
        },
        None => snapshot.get(&q.checklist, q.env.as_deref()),
    };
    let Some(loaded) = loaded else {
        if target.is_none()
            && q.env.is_none()
            && let Some(line) = snapshot.bare_refusal(&q.checklist)
        {
            return rejected(
                &state,
                Rejection::BadRequest,
                StatusCode::BAD_REQUEST,
                &line,
            );
        }
        let line = match target {
            Some(t) => snapshot.unknown_target(&t.name),
            None => snapshot.unknown_env(q.env.as_deref().unwrap_or_default()),
        };
        return rejected(&state, Rejection::NotFound, StatusCode::NOT_FOUND, &line);
    };
    let selected = match scrape::select(&loaded, &q) {
        Ok(c) => c,
        Err(refusal) => return refused(&state, refusal),
    };
    let permit = match tokio::time::timeout_at(deadline, state.runs.acquire()).await {
        Ok(Ok(p)) => p,
        _ => {
            let line = format!(
                "busy: {} runs stayed in flight (--max-concurrent-runs) until this scrape's deadline; raise --max-concurrent-runs or spread the scrapes",
                state.max_runs
            );
            return rejected(
                &state,
                Rejection::Busy,
                StatusCode::SERVICE_UNAVAILABLE,
                &line,
            );
        }
    };
    let in_flight = state.metrics.start_run();
    let state_dir = snapshot.config.state_dir.clone();
    let target_name = target.map(|t| t.name.as_str());
    let ran = scrape::run(
        selected,
        &loaded,
        scrape::Scope {
            env: env.clone(),
            target: target_name,
        },
        &state_dir,
        deadline,
        &why,
    )
    .await;
    drop(in_flight);
    drop(permit);
    match ran {
        Ok(scraped) => {
            state.metrics.finish_run(
                &q.checklist,
                env.as_deref().unwrap_or_default(),
                started.elapsed(),
                scraped.timed_out,
            );
            for line in state
                .journal
                .changes(&scraped.report, env.as_deref(), target_name)
            {
                super::log(&line);
            }
            let mut labels: Vec<(&str, &str)> = Vec::new();
            if let Some(env) = env.as_deref() {
                labels.push(("env", env));
            }
            if let Some(t) = target {
                labels.push(("target", t.name.as_str()));
                labels.extend(t.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
            exposition_response(exposition::render_with(&scraped.report, &labels))
        }
        Err(refusal) => {
            super::log(&refusal.reason);
            refused(&state, refusal)
        }
    }
}

fn refused(state: &AppState, refusal: scrape::Refusal) -> Response {
    let (why, status) = match refusal.status {
        404 => (Rejection::NotFound, StatusCode::NOT_FOUND),
        400 => (Rejection::BadRequest, StatusCode::BAD_REQUEST),
        _ => (Rejection::Error, StatusCode::INTERNAL_SERVER_ERROR),
    };
    rejected(state, why, status, &refusal.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrape_timeout_header_sets_the_budget() {
        let mut h = HeaderMap::new();
        let off = Duration::from_millis(500);
        assert_eq!(
            budget(&h, off).map(|b| b.0),
            Ok(Duration::from_millis(9500))
        );
        h.insert(
            "x-prometheus-scrape-timeout-seconds",
            HeaderValue::from_static("3"),
        );
        assert_eq!(
            budget(&h, off).map(|b| b.0),
            Ok(Duration::from_millis(2500))
        );
        for bad in ["0", "-1", "soon", "NaN", "0.4"] {
            h.insert(
                "x-prometheus-scrape-timeout-seconds",
                HeaderValue::from_static(bad),
            );
            assert!(budget(&h, off).is_err(), "{bad}");
        }
    }
}
