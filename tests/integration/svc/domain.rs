//! `domain` against an RDAP registry served here on 127.0.0.1 (the bootstrap registry and
//! domain objects): healthy, expiring within the warn window, `pendingDelete`, unknown. The
//! real IANA or RDAP servers are never contacted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::*;

#[derive(Clone)]
struct Registry {
    base: Arc<std::sync::OnceLock<String>>,
    bootstrap_hits: Arc<AtomicUsize>,
    domain_hits: Arc<AtomicUsize>,
}

fn rdap_json(status: StatusCode, doc: serde_json::Value) -> axum::response::Response {
    let ct = [(axum::http::header::CONTENT_TYPE, "application/rdap+json")];
    (status, ct, doc.to_string()).into_response()
}

fn in_days(days: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::days(days))
        .format(&Rfc3339)
        .unwrap_or_default()
}

async fn bootstrap(State(r): State<Registry>) -> impl IntoResponse {
    r.bootstrap_hits.fetch_add(1, Ordering::SeqCst);
    let base = r.base.get().cloned().unwrap_or_default();
    rdap_json(
        StatusCode::OK,
        json!({
            "version": "1.0",
            "services": [[["test"], [format!("{base}/rdap/")]]]
        }),
    )
}

async fn domain(State(r): State<Registry>, Path(name): Path<String>) -> impl IntoResponse {
    r.domain_hits.fetch_add(1, Ordering::SeqCst);
    let (status, days) = match name.as_str() {
        "healthy.test" => (vec!["active"], 400),
        "soon.test" => (vec!["client transfer prohibited"], 12),
        "gone.test" => (vec!["pending delete", "redemption period"], 200),
        _ => return rdap_json(StatusCode::NOT_FOUND, json!({"errorCode": 404})),
    };
    let doc = json!({
        "objectClassName": "domain",
        "ldhName": name,
        "status": status,
        "events": [{"eventAction": "expiration", "eventDate": in_days(days)}],
        "entities": [{"objectClassName": "entity", "roles": ["registrar"],
            "vcardArray": ["vcard", [["fn", {}, "text", "Test Registrar"]]]}]
    });
    rdap_json(StatusCode::OK, doc)
}

fn registry() -> (AppServer, Registry) {
    let r = Registry {
        base: Arc::default(),
        bootstrap_hits: Arc::default(),
        domain_hits: Arc::default(),
    };
    let app = Router::new()
        .route("/dns.json", get(bootstrap))
        .route("/rdap/domain/{name}", get(domain))
        .with_state(r.clone());
    let server = AppServer::start(app);
    let _ = r.base.set(server.url("").trim_end_matches('/').to_string());
    (server, r)
}

fn run_in(p: &Project, text: &str) -> Ran {
    let file = p.file("c.yaml", text);
    let cache = p.path().join("cache");
    run(p.cmd().env("PRODCHECK_CACHE_DIR", &cache).args([
        "run",
        file.to_str().unwrap_or_default(),
        "--report",
        "json",
    ]))
}

#[test]
fn registry_statuses_and_expiry_are_judged_with_one_cached_bootstrap() {
    let (server, reg) = registry();
    let boot = server.url("/dns.json");
    let check = |d: &str| format!("domain: {{ domain: {d}, bootstrap_url: '{boot}' }}");
    let text = checklist_of(
        "5s",
        &[
            ("healthy", &check("healthy.test")),
            ("soon", &check("soon.test")),
            ("gone", &check("gone.test")),
            ("unknown", &check("nobody.test")),
        ],
    );
    let p = Project::new();
    let ran = run_in(&p, &text);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let healthy = item(&report, "healthy");
    assert_eq!(healthy["status"], "pass", "{healthy}");
    assert!(
        message(&report, "healthy").contains("healthy.test: registered until"),
        "{healthy}"
    );
    assert_eq!(healthy["evidence"]["registrar"], "Test Registrar");
    let soon = item(&report, "soon");
    assert_eq!(soon["status"], "warn", "{soon}");
    assert!(
        message(&report, "soon").contains("expires in 11 days")
            || message(&report, "soon").contains("expires in 12 days"),
        "{soon}"
    );
    assert!(
        message(&report, "soon").contains("warn threshold 30"),
        "{soon}"
    );
    let gone = item(&report, "gone");
    assert_eq!(gone["status"], "fail", "{gone}");
    assert!(
        message(&report, "gone").contains("`pending delete`, `redemption period`")
            && message(&report, "gone").contains("restore it with the registrar"),
        "{gone}"
    );
    assert_eq!(item(&report, "unknown")["status"], "fail");
    assert!(message(&report, "unknown").contains("has no such domain"));
    // Polite: one request per domain; the bootstrap at most once per concurrent first use.
    assert_eq!(reg.domain_hits.load(Ordering::SeqCst), 4);
    let first = reg.bootstrap_hits.load(Ordering::SeqCst);
    assert!((1..=4).contains(&first), "{first}");
    // A second run reads the cached bootstrap.
    let again = run_in(&p, &text);
    assert_eq!(again.code, 1);
    assert_eq!(reg.bootstrap_hits.load(Ordering::SeqCst), first);
    assert_eq!(
        item(&json(&again), "healthy")["evidence"]["bootstrap_cached"],
        true
    );
}

#[test]
fn rdap_server_skips_the_bootstrap_and_probe_command_takes_it() {
    let (server, reg) = registry();
    let p = Project::new();
    let rdap = format!("rdap_server={}", server.url("/rdap"));
    let ran = run(p.cmd().env("PRODCHECK_CACHE_DIR", p.path()).args([
        "probe",
        "domain",
        "domain=soon.test",
        &rdap,
        "warn_days=10",
        "--report",
        "json",
    ]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(item(&json(&ran), "domain")["status"], "pass");
    assert_eq!(reg.bootstrap_hits.load(Ordering::SeqCst), 0);
    let bad = run(p.cmd().args(["probe", "domain", "domain=not a domain"]));
    assert_eq!(bad.code, 2, "{}{}", bad.stdout, bad.stderr);
    assert!(
        bad.stderr.contains("is not a domain name"),
        "{}",
        bad.stderr
    );
}

/// The shipped `maintenance/domain-expiry`: unconfigured without `domain`, then judged
/// against the registry here (a healthy domain passes, one in `pendingDelete` fails).
#[test]
fn shipped_maintenance_item_is_unconfigured_until_domain_is_set() {
    let (server, _reg) = registry();
    let p = Project::new();
    let base = [
        "run",
        "maintenance",
        "--only",
        "domain-expiry",
        "--non-interactive",
    ];
    let ran = run(p.cmd().args(base).args(["--report", "json"]));
    let it = item(&json(&ran), "domain-expiry").clone();
    assert_eq!(it["status"], "unconfigured", "{it}");
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`domain`"),
        "{it}"
    );
    let rdap = format!("rdap_server={}", server.url("/rdap"));
    for (domain, status, code) in [("healthy.test", "pass", 0), ("gone.test", "fail", 1)] {
        let ran = run(p.cmd().args(base).args([
            "--var",
            &format!("domain={domain}"),
            "--var",
            &rdap,
            "--report",
            "json",
        ]));
        assert_eq!(ran.code, code, "{}{}", ran.stdout, ran.stderr);
        assert_eq!(item(&json(&ran), "domain-expiry")["status"], status);
    }
}
