//! `prodcheck serve` for a fleet: `&target=NAME` names a target of prodcheck.yaml and nothing
//! else; a real Prometheus scrapes a good and a bad target through the shipped example's
//! fleet job, the series carry `target`, and the shipped rules alert for the bad one only.

use std::sync::atomic::Ordering;

use prodcheck::demo::pki;

use super::prometheus::{prom_query, prometheus_with, wait_series};
use super::*;

/// A project serving `svc` and `slow` with targets `shop-good` (labelled `team: shop`) and
/// `shop-bad` (environment `production`, whose variables it inherits).
fn fleet_project(good: &Service, bad: &Service, ca: &pki::Pki) -> Project {
    let p = Project::new();
    p.file("checklists/svc.yaml", CHECKLIST);
    p.file("checklists/slow.yaml", SLOW);
    p.file("ca.pem", &ca.ca_pem);
    let ca_file = p.path().join("ca.pem");
    p.file(
        "prodcheck.yaml",
        &format!(
            "environments:\n  production:\n    vars: {{ base_url: \"{}\", ca_file: \"{}\" }}\ntargets:\n  shop-good:\n    vars: {{ base_url: \"{}\", ca_file: \"{}\" }}\n    labels: {{ team: shop }}\n  shop-bad:\n    env: production\n",
            bad.app.https_url(""),
            ca_file.display(),
            good.app.https_url(""),
            ca_file.display(),
        ),
    );
    p
}

#[test]
fn a_scrape_may_name_a_configured_target_and_nothing_else() {
    let ca = pki::Pki::new("serve fleet CA").expect("CA");
    let good = service(&ca, 200, 90);
    let bad = service(&ca, 500, 90);
    let canary = RawServer::respond(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let p = fleet_project(&good, &bad, &ca);
    let serve = exporter(&p, &[]);

    let (status, body) = get_http(serve.port, "/probe?checklist=svc&target=shop-good", &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &[
                r#"target="shop-good""#,
                r#"team="shop""#,
                r#"item="health""#,
                r#"status="pass""#
            ]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "prodcheck_run_exit_code", &[r#"target="shop-good""#]),
        Some(0.0)
    );
    promtool_check_metrics(&body);
    // The bad target runs with its environment's variables and says so in `env`.
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&target=shop-bad", &[]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(
            r#"prodcheck_run_exit_code{checklist="svc",env="production",target="shop-bad"} 1"#
        ),
        "{body}"
    );
    // Repeating the target's environment is fine; contradicting it is not.
    let (status, _) = get_http(
        serve.port,
        "/probe?checklist=svc&target=shop-bad&env=production&item=health",
        &[],
    );
    assert_eq!(status, 200);

    let c = canary.url("/");
    let addr = canary.addr.to_string();
    let ip = canary.addr.ip().to_string();
    for (path, want, says) in [
        (
            "/probe?checklist=svc&target=shop-gone".to_string(),
            404,
            "known: shop-good, shop-bad",
        ),
        (
            format!("/probe?checklist=svc&target={ip}"),
            404,
            "no target",
        ),
        (
            format!("/probe?checklist=svc&target={c}"),
            400,
            "must be a name",
        ),
        (
            format!("/probe?checklist=svc&target={addr}"),
            400,
            "must be a name",
        ),
        (
            "/probe?checklist=svc&target=shop-good&target=shop-bad".to_string(),
            400,
            "given twice",
        ),
        (
            "/probe?checklist=svc&target=shop-good&env=production".to_string(),
            400,
            "takes its environment from prodcheck.yaml",
        ),
        (
            format!("/probe?checklist=svc&target=shop-good&url={c}"),
            400,
            "cannot choose what is probed",
        ),
        (
            "/probe?checklist=nope&target=shop-good".to_string(),
            404,
            "no checklist",
        ),
    ] {
        let (status, body) = get_http(serve.port, &path, &[]);
        assert_eq!(status, want, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
    assert_eq!(
        canary.accepted.load(Ordering::SeqCst),
        0,
        "a scrape reached the canary"
    );
}

#[test]
fn prometheus_scrapes_each_target_and_alerts_for_the_bad_one() {
    let ca = pki::Pki::new("serve fleet CA").expect("CA");
    let good = service(&ca, 200, 90);
    let bad = service(&ca, 500, 10);
    let p = fleet_project(&good, &bad, &ca);
    let serve = exporter(&p, &["--timeout-offset", "100ms"]);
    let Some(prom) = prometheus_with(
        serve.port,
        &[(
            "targets: [api-eu, api-us]",
            "targets: [shop-good, shop-bad]",
        )],
    ) else {
        return;
    };
    let port = prom.port;
    let (labels, _) = wait_series(
        port,
        r#"prodcheck_item_status{job="prodcheck-fleet",target="shop-good",item="health",status="pass"} == 1"#,
    );
    assert_eq!(labels["instance"], "svc/shop-good", "{labels}");
    assert_eq!(labels["team"], "shop", "{labels}");
    let (labels, _) = wait_series(
        port,
        r#"prodcheck_item_status{job="prodcheck-fleet",target="shop-bad",item="health",status="fail"} == 1"#,
    );
    assert_eq!(labels["env"], "production", "{labels}");
    wait_series(
        port,
        r#"prodcheck_item_status{target="shop-bad",item="cert",status="fail"} == 1"#,
    );
    let (_, good_code) = wait_series(port, r#"prodcheck_run_exit_code{target="shop-good"}"#);
    let (_, bad_code) = wait_series(port, r#"prodcheck_run_exit_code{target="shop-bad"}"#);
    assert_eq!((good_code, bad_code), (0.0, 1.0));
    let (_, bad_days) = wait_series(
        port,
        r#"(prodcheck_certificate_expiry_timestamp_seconds{target="shop-bad",item="cert"} - time()) / 86400"#,
    );
    assert!((9.0..=10.0).contains(&bad_days), "{bad_days} days");
    wait_series(
        port,
        r#"up{job="prodcheck-fleet",instance="svc/shop-bad"} == 1"#,
    );
    // The shipped rules on what the exporter answered: the bad target's certificate alert
    // fires (naming the target), its failing health check is pending; the good one is calm.
    let (alert, _) = wait_series(
        port,
        r#"ALERTS{alertname="ProdcheckCertificateExpiring",target="shop-bad",item="cert",alertstate="firing"}"#,
    );
    assert_eq!(alert["instance"], "svc/shop-bad", "{alert}");
    wait_series(
        port,
        r#"ALERTS{alertname="ProdcheckGatingItemFailing",target="shop-bad",item="health",alertstate="pending"}"#,
    );
    let calm = prom_query(port, r#"ALERTS{target="shop-good"}"#);
    assert!(calm.is_empty(), "the good target alerted: {calm:?}");
    assert_eq!(
        good.hits.load(Ordering::SeqCst) + bad.hits.load(Ordering::SeqCst),
        0,
        "a scrape ran the disruptive probe"
    );
}
