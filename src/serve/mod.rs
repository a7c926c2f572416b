//! `prodcheck serve`: a Prometheus exporter in the blackbox_exporter mould. A scrape names a
//! checklist and an environment or target from the config (never an address); the answer is
//! its metrics.

mod exposition;
mod handlers;
mod journal;
mod listen;
mod metrics;
pub mod query;
mod reason;
mod scrape;
mod snapshot;
pub mod web_config;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use handlers::AppState;
use metrics::Metrics;
pub use snapshot::LoadError;
use snapshot::Snapshot;
use web_config::WebConfig;

/// Everything `prodcheck serve` was started with.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub config: Option<PathBuf>,
    pub listen: SocketAddr,
    pub web_config: Option<PathBuf>,
    pub max_concurrent_runs: usize,
    pub timeout_offset: Duration,
    /// Served checklists (empty: every known one).
    pub checklists: Vec<String>,
    /// Serve a non-loopback address without basic auth.
    pub allow_unauthenticated: bool,
}

/// Why the exporter could not start.
#[derive(Debug)]
pub enum StartError {
    Load(LoadError),
    Usage { message: String, hint: String },
    Io { what: String, cause: String },
}

pub(crate) fn log(line: &str) {
    eprintln!("prodcheck serve: {line}");
}

/// Loads the config, checklists and web config together: all or nothing.
fn load_all(opts: &ServeOptions) -> Result<(Snapshot, WebConfig), StartError> {
    let snapshot =
        Snapshot::load(opts.config.as_deref(), &opts.checklists).map_err(StartError::Load)?;
    let web = match &opts.web_config {
        Some(path) => WebConfig::load(path).map_err(|message| StartError::Usage {
            message,
            hint: "fix --web.config.file (exporter-toolkit format)".into(),
        })?,
        None => WebConfig::default(),
    };
    // A panic message is redacted with the secrets of every served checklist and target.
    crate::redact::activate(&crate::redact::Redactor::new(&snapshot.secrets));
    Ok((snapshot, web))
}

/// Refuses a listener that would let anyone on the network run checks.
fn check_exposure(opts: &ServeOptions, web: &WebConfig) -> Result<(), StartError> {
    if opts.listen.ip().is_loopback() {
        return Ok(());
    }
    if !web.requires_auth() && !opts.allow_unauthenticated {
        return Err(StartError::Usage {
            message: format!(
                "--listen {} is not a loopback address and no basic auth is configured: anyone who can reach it could make prodcheck run checks",
                opts.listen
            ),
            hint: "set basic_auth_users (and tls_server_config) in a --web.config.file, or pass --allow-unauthenticated if a firewall already restricts it".into(),
        });
    }
    if web.tls.is_none() {
        log(&format!(
            "warning: {} is served without TLS: passwords and results cross the network in clear text (add tls_server_config to the web config)",
            opts.listen
        ));
    }
    Ok(())
}

/// Runs the exporter until SIGTERM or Ctrl-C; `Err` only when it cannot start.
pub async fn serve(opts: ServeOptions) -> Result<(), StartError> {
    let (snapshot, web) = load_all(&opts)?;
    check_exposure(&opts, &web)?;
    for line in snapshot.unset_summary() {
        log(&line);
    }
    let state = Arc::new(AppState {
        snapshot: RwLock::new(Arc::new(snapshot)),
        web: RwLock::new(Arc::new(web)),
        metrics: Metrics::new(),
        journal: journal::Journal::default(),
        runs: Semaphore::new(opts.max_concurrent_runs.max(1)),
        auth_checks: Semaphore::new(2),
        max_runs: opts.max_concurrent_runs.max(1),
        offset: opts.timeout_offset,
    });
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| StartError::Io {
            what: format!(
                "cannot listen on {} (is another exporter using it? choose another with --listen)",
                opts.listen
            ),
            cause: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| StartError::Io {
        what: "cannot read the listening address".into(),
        cause: e.to_string(),
    })?;
    // Installed before "listening" is logged: a SIGHUP's default action would end the process.
    let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    let scheme = if state.web().tls.is_some() {
        "https"
    } else {
        "http"
    };
    log(&format!(
        "listening on {scheme}://{addr} (/probe?checklist=NAME&env=ENV or &target=NAME, /metrics); SIGHUP reloads the config"
    ));
    let reloader = tokio::spawn(reload_on_sighup(hup, opts.clone(), state.clone()));
    let app = handlers::router(state.clone());
    tokio::select! {
        () = listen::accept_loop(listener, app, state.clone()) => {}
        () = shutdown_signal() => log("stopping"),
    }
    reloader.abort();
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// On SIGHUP, loads everything again; a bad new config keeps the old one and says why.
async fn reload_on_sighup(
    hup: std::io::Result<tokio::signal::unix::Signal>,
    opts: ServeOptions,
    state: Arc<AppState>,
) {
    let Ok(mut hup) = hup else {
        log("warning: cannot listen for SIGHUP; restart to reload the config");
        return;
    };
    while hup.recv().await.is_some() {
        let opts = opts.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let all = load_all(&opts)?;
            check_exposure(&opts, &all.1)?;
            Ok::<_, StartError>(all)
        })
        .await;
        match loaded {
            Ok(Ok((snapshot, web))) => {
                for line in snapshot.unset_summary() {
                    log(&line);
                }
                if let Ok(mut slot) = state.snapshot.write() {
                    *slot = Arc::new(snapshot);
                }
                if let Ok(mut slot) = state.web.write() {
                    *slot = Arc::new(web);
                }
                state.metrics.loaded(true);
                log("reloaded the config");
            }
            Ok(Err(e)) => {
                state.metrics.loaded(false);
                log(&format!(
                    "reload failed; still serving the previous config:\n{}",
                    describe(&e)
                ));
            }
            Err(e) => {
                state.metrics.loaded(false);
                log(&format!(
                    "reload failed; still serving the previous config: {e}"
                ));
            }
        }
    }
}

/// A start or reload failure as text.
pub fn describe(e: &StartError) -> String {
    match e {
        StartError::Load(l) => l.render(),
        StartError::Usage { message, hint } => format!("error: {message}\n  help: {hint}\n"),
        StartError::Io { what, cause } => format!("error: {what}: {cause}\n"),
    }
}
