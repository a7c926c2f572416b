//! What a scrape may ask for: only names the config defines (400/404, and nothing reached),
//! the answer before the scrape deadline, and waivers honoured.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use prodcheck::demo::pki;

use super::*;

#[test]
fn a_scrape_can_name_only_what_the_config_defines() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    // A canary standing in for anything a scrape might try to reach.
    let canary = RawServer::respond(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let p = project(&[("good", &good)], &ca);
    let serve = exporter(&p, &[]);
    let c = canary.url("/");
    let cases: &[(&str, u16)] = &[
        (&format!("/probe?checklist=svc&env=good&target={c}"), 400),
        (&format!("/probe?checklist=svc&env=good&url={c}"), 400),
        (
            &format!("/probe?checklist=svc&env=good&var=base_url%3D{c}"),
            400,
        ),
        (
            &format!("/probe?checklist=svc&env=good&host={}", canary.addr),
            400,
        ),
        ("/probe?checklist=svc&env=good&debug=1", 400),
        ("/probe?checklist=svc&checklist=svc", 400),
        ("/probe?env=good", 400),
        ("/probe?checklist=..%2F..%2Fetc%2Fpasswd", 400),
        ("/probe?checklist=%2Ftmp%2Fx.yaml", 400),
        ("/probe?checklist=svc&env=good&item=burst", 400),
        ("/probe?checklist=svc&env=good&item=runbook", 400),
        ("/probe?checklist=nope&env=good", 404),
        ("/probe?checklist=pre-deploy&env=good", 404),
        ("/probe?checklist=svc&env=production", 404),
        ("/probe?checklist=svc&env=good&item=nope", 404),
        ("/probe?checklist=svc&env=good&tag=nope", 404),
        ("/elsewhere", 404),
    ];
    for (path, want) in cases {
        let (status, body) = get_http(serve.port, path, &[]);
        assert_eq!(status, *want, "{path}: {body}");
        assert_eq!(
            body.trim_end().lines().count(),
            1,
            "{path}: one line, got {body:?}"
        );
    }
    assert_eq!(
        canary.accepted.load(Ordering::SeqCst),
        0,
        "a scrape reached the canary"
    );
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=good&url=x", &[]);
    assert_eq!(status, 400);
    assert!(body.contains("cannot choose what is probed"), "{body}");
    // `target=` names a target of prodcheck.yaml, and this one defines none.
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&target=x", &[]);
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("defines none (add it under `targets:`)"),
        "{body}"
    );
    let (_, body) = get_http(serve.port, "/probe?checklist=svc&env=production", &[]);
    assert!(body.contains("known: good"), "{body}");
    let (_, metrics) = get_http(serve.port, "/metrics", &[]);
    let bad_requests = sample(
        &metrics,
        "prodcheck_exporter_requests_rejected_total",
        &[r#"reason="bad_request""#],
    );
    assert_eq!(bad_requests, Some(12.0), "{metrics}");
    // A good scrape still works, and runs only the automated, non-disruptive items.
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=good&item=health", &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &[r#"item="health""#, r#"status="pass""#]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[r#"env="good""#]),
        Some(0.0),
        "{body}"
    );
    assert!(
        !body.contains(r#"item="cert""#),
        "item= narrows the run: {body}"
    );
    // Whole answers are valid exposition text, lint included.
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=good", &[]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("# TYPE prodcheck_latency_seconds summary"),
        "{body}"
    );
    for family in [
        "prodcheck_certificate_expiry_timestamp_seconds",
        "prodcheck_item_duration_seconds",
    ] {
        assert!(
            body.contains(&format!("# TYPE {family} gauge")),
            "{family}: {body}"
        );
    }
    promtool_check_metrics(&body);
    promtool_check_metrics(&get_http(serve.port, "/metrics", &[]).1);
}

#[test]
fn waivers_recorded_with_prodcheck_waive_apply_to_scrapes() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let bad = service(&ca, 500, 90);
    let p = project(&[("bad", &bad)], &ca);
    let serve = exporter(&p, &[]);
    let path = "/probe?checklist=svc&env=bad&item=health";
    let (_, body) = get_http(serve.port, path, &[]);
    assert_eq!(
        sample(&body, "prodcheck_item_status", &[r#"status="fail""#]),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[]),
        Some(1.0),
        "{body}"
    );
    p.case()
        .args([
            "waive",
            "svc",
            "health",
            "--reason",
            "known outage",
            "--until",
            "2099-01-01",
            "--by",
            "ops",
        ])
        .run();
    // Read at every scrape: no reload needed.
    let (_, body) = get_http(serve.port, path, &[]);
    assert_eq!(
        sample(&body, "prodcheck_item_status", &[r#"status="waived""#]),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[]),
        Some(0.0),
        "{body}"
    );
    let log = std::fs::read_to_string(p.path().join("serve.log")).unwrap_or_default();
    assert!(
        log.contains("svc@bad health: fail (first scrape): "),
        "{log}"
    );
    assert!(
        log.contains("svc@bad health: waived (was fail): waived by ops"),
        "{log}"
    );
    assert!(
        !p.path().join(".prodcheck/history").exists(),
        "scrapes write no history"
    );
}

#[test]
fn the_answer_comes_before_the_scrape_timeout() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let p = project(&[("good", &good)], &ca);
    let serve = exporter(&p, &["--timeout-offset", "500ms"]);
    let started = Instant::now();
    let (status, body) = get_http(
        serve.port,
        "/probe?checklist=slow&env=good",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "2")],
    );
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(
        took < Duration::from_secs(2),
        "answered after the scrape timeout: {took:?}"
    );
    assert!(
        took >= Duration::from_millis(1400),
        "answered early: {took:?}"
    );
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &[r#"item="slow""#, r#"status="error""#]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &[r#"item="health""#, r#"status="pass""#]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[]),
        Some(3.0),
        "{body}"
    );
    let (_, metrics) = get_http(serve.port, "/metrics", &[]);
    assert_eq!(
        sample(
            &metrics,
            "prodcheck_exporter_timed_out_items_total",
            &[r#"env="good""#]
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "prodcheck_exporter_runs_in_flight", &[]),
        Some(0.0)
    );
    // The log says why, once: the status change with the item's message.
    let log = std::fs::read_to_string(p.path().join("serve.log")).unwrap_or_default();
    assert!(
        log.contains("slow@good slow: error (first scrape): timed out: still running when the scrape's deadline came (scrape timeout 2s minus the 500ms --timeout-offset)"),
        "{log}"
    );
    assert!(
        !log.contains("slow@good health"),
        "a passing item is not news: {log}"
    );
    let (status, body) = get_http(
        serve.port,
        "/probe?checklist=svc&env=good",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "soon")],
    );
    assert_eq!(status, 400, "{body}");
}

#[test]
fn runs_beyond_max_concurrent_runs_wait_then_get_503() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let p = project(&[("good", &good)], &ca);
    let serve = exporter(&p, &["--max-concurrent-runs", "1"]);
    let port = serve.port;
    let first = std::thread::spawn(move || {
        get_http(
            port,
            "/probe?checklist=slow&env=good",
            &[("X-Prometheus-Scrape-Timeout-Seconds", "4")],
        )
    });
    let running = wait_until(Duration::from_secs(10), || {
        let (_, m) = get_http(port, "/metrics", &[]);
        sample(&m, "prodcheck_exporter_runs_in_flight", &[]) == Some(1.0)
    });
    assert!(running, "the first run never started");
    let (status, body) = get_http(
        port,
        "/probe?checklist=svc&env=good&item=health",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "1")],
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("--max-concurrent-runs"), "{body}");
    let (status, _) = first.join().expect("first scrape");
    assert_eq!(status, 200, "the run holding the slot still answers");
    let (_, m) = get_http(port, "/metrics", &[]);
    assert_eq!(
        sample(
            &m,
            "prodcheck_exporter_requests_rejected_total",
            &[r#"reason="busy""#]
        ),
        Some(1.0),
        "{m}"
    );
}
