//! `prodcheck_item_failure_reason`: a scrape of real local servers that refuse, present an
//! expired certificate, stay silent, answer NXDOMAIN or answer wrongly names each failing
//! item's reason from the fixed set; passing items have no series.

use axum::Router;
use axum::routing::get;
use prodcheck::demo::pki;

use super::*;

/// One `fail`/`error` item per reason, and one that passes.
/// `tls_port` presents an expired certificate; `healthy` is a sound HTTPS service.
fn reasons_checklist(
    closed: u16,
    tls_port: u16,
    healthy: u16,
    silent: u16,
    dns: &str,
    ca: &str,
) -> String {
    format!(
        r#"name: reasons
sections:
  - name: S
    items:
      - id: refused
        title: Port open
        timeout: 2s
        check: {{ tcp: {{ host: 127.0.0.1, port: {closed} }} }}
      - id: expired
        title: Certificate valid
        timeout: 2s
        check: {{ tls: {{ host: localhost, port: {tls_port}, ca_file: "{ca}", enumerate: false }} }}
      - id: silent
        title: Answers in time
        timeout: 1s
        check: {{ http: {{ url: "http://127.0.0.1:{silent}/" }} }}
      - id: gone
        title: Name exists
        timeout: 2s
        check: {{ dns: {{ nameserver: "{dns}", name: gone.example.test }} }}
      - id: wrong
        title: Answers 200 on /missing
        timeout: 2s
        check: {{ http: {{ url: "https://localhost:{healthy}/missing", ca_file: "{ca}", expect: {{ status: 200 }} }} }}
      - id: open
        title: Port open
        timeout: 2s
        check: {{ tcp: {{ host: 127.0.0.1, port: {healthy} }} }}
"#
    )
}

#[test]
fn each_failing_item_names_its_reason_from_the_fixed_set() {
    let ca = pki::Pki::new("serve reasons CA").expect("CA");
    // Expired three days ago, issued by the CA the item trusts: only the date is wrong.
    let leaf = ca
        .leaf_expiring_in(&["localhost"], -3, 90)
        .expect("expired leaf");
    let tls = pki::server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("tls");
    let expired = AppServer::start_tls(Router::new().route("/", get(|| async { "ok" })), tls);
    let silent = RawServer::silent();
    let closed = closed_port();
    let dns = Background::spawn(|| async {
        let dns = prodcheck::demo::dns::serve(
            "example.test.",
            "$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 admin 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 127.0.0.10\n",
        )
        .await
        .expect("dns server");
        Background::hold(dns.addr, dns)
    });
    let healthy = service(&ca, 200, 90);
    let p = project(&[("production", &healthy)], &ca);
    let ca_file = p.path().join("ca.pem");
    p.file(
        "checklists/reasons.yaml",
        &reasons_checklist(
            closed,
            expired.addr.port(),
            healthy.app.addr.port(),
            silent.addr.port(),
            &dns.addr.to_string(),
            &ca_file.display().to_string(),
        ),
    );
    let serve = exporter(&p, &["--checklist", "reasons"]);

    let (status, body) = get_http(
        serve.port,
        "/probe?checklist=reasons",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "15")],
    );
    assert_eq!(status, 200, "{body}");
    for (item, status, reason) in [
        ("refused", "fail", "refused"),
        ("expired", "fail", "cert_expired"),
        ("silent", "fail", "timeout"),
        ("gone", "fail", "nxdomain"),
        ("wrong", "fail", "violated"),
    ] {
        assert_eq!(
            sample(
                &body,
                "prodcheck_item_status",
                &[
                    &format!(r#"item="{item}""#),
                    &format!(r#"status="{status}""#)
                ]
            ),
            Some(1.0),
            "{item} is not {status}:\n{body}"
        );
        let line = format!(
            r#"prodcheck_item_failure_reason{{checklist="reasons",item="{item}",reason="{reason}"}} 1"#
        );
        assert!(body.contains(&line), "no `{line}` in:\n{body}");
    }
    // One series per failing item, none for the passing one.
    let reasons: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("prodcheck_item_failure_reason{"))
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:#?}");
    assert!(
        !body.contains(r#"prodcheck_item_failure_reason{checklist="reasons",item="open""#),
        "{body}"
    );
    assert!(
        body.contains("# TYPE prodcheck_item_failure_reason gauge"),
        "{body}"
    );
    promtool_check_metrics(&body);

    // A healthy page has no failure family at all (its series set is unchanged).
    let (status, body) = get_http(
        serve.port,
        "/probe?checklist=svc&env=production&item=health&item=cert",
        &[],
    );
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("prodcheck_item_failure_reason"), "{body}");
}
