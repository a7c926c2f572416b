//! The most common configuration: a checklist that declares no variables, whose values come
//! only from prodcheck.yaml's environments and targets. `serve` validates each checklist for
//! what a scrape can name (as `run --env`/`--target` would), starts, and a real Prometheus
//! scrapes it; a scrape naming neither is refused with the reason.

use prodcheck::demo::pki;

use super::prometheus::{prometheus_with, wait_series};
use super::*;

/// No `vars:`: `base_url` and `ca_file` exist only in prodcheck.yaml.
const UNDECLARED: &str = r#"name: NAME
sections:
  - name: S
    items:
      - id: health
        title: Health endpoint answers 200
        check: { http: { url: "${base_url}/health", ca_file: "${ca_file}", expect: { status: 200 } } }
"#;

#[test]
fn serve_starts_when_variables_come_only_from_environments_and_targets() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let bad = service(&ca, 500, 90);
    let p = Project::new();
    p.file("checklists/svc.yaml", &UNDECLARED.replace("NAME", "svc"));
    p.file("checklists/slow.yaml", &UNDECLARED.replace("NAME", "slow"));
    p.file("ca.pem", &ca.ca_pem);
    let ca_file = p.path().join("ca.pem");
    p.file(
        "prodcheck.yaml",
        &format!(
            "environments:\n  production:\n    vars: {{ base_url: \"{}\", ca_file: \"{}\" }}\n  staging:\n    vars: {{ base_url: \"{}\", ca_file: \"{}\" }}\ntargets:\n  api-eu:\n    env: production\n  api-us:\n    vars: {{ base_url: \"{}\", ca_file: \"{}\" }}\n",
            good.app.https_url(""),
            ca_file.display(),
            bad.app.https_url(""),
            ca_file.display(),
            bad.app.https_url(""),
            ca_file.display(),
        ),
    );
    let serve = exporter(&p, &["--timeout-offset", "100ms"]);
    // Named scopes answer; a bare scrape says what to name instead of failing the start-up.
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=production", &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &["item=\"health\"", "status=\"pass\""]
        ),
        Some(1.0),
        "{body}"
    );
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&target=api-us", &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sample(
            &body,
            "prodcheck_item_status",
            &["item=\"health\"", "status=\"fail\""]
        ),
        Some(1.0),
        "{body}"
    );
    let (status, body) = get_http(serve.port, "/probe?checklist=svc", &[]);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("needs an environment or a target")
            && body.contains("`base_url`")
            && body.contains("env=NAME (production, staging)"),
        "{body}"
    );
    // A real Prometheus with the shipped scrape config (environments and the fleet job).
    let Some(prom) = prometheus_with(serve.port, &[]) else {
        return;
    };
    wait_series(
        prom.port,
        r#"prodcheck_item_status{job="prodcheck",env="production",item="health",status="pass"} == 1"#,
    );
    wait_series(
        prom.port,
        r#"prodcheck_item_status{job="prodcheck-environments",env="staging",item="health",status="fail"} == 1"#,
    );
    wait_series(
        prom.port,
        r#"prodcheck_item_status{job="prodcheck-fleet",target="api-eu",item="health",status="pass"} == 1"#,
    );
}
