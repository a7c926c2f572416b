//! The acceptance case of progressive runs against a real, healthy TLS service: only the
//! variables a user knows, every item they reach runs and passes, the rest is unconfigured.

use prodcheck::demo::pki;
use prodcheck::demo::service::{self, AppOptions};

use crate::support::*;

/// The service's domain, as its real DNS would answer.
const ZONE: &str = r#"
$ORIGIN shop.progressive.test.
$TTL 300
@      IN SOA  ns1.shop.progressive.test. admin.shop.progressive.test. 2026112201 3600 600 86400 300
@      IN NS   ns1.shop.progressive.test.
ns1    IN A    127.0.0.1
@      IN A    127.0.0.1
@      IN CAA  0 issue "letsencrypt.org"
"#;

/// The acceptance case: `run pre-deploy --var base_url=URL --non-interactive` against a
/// reachable, healthy service runs every item its variables allow, lists the rest as
/// unconfigured, and exits with the pending code (4), not 2.
#[test]
fn pre_deploy_runs_what_base_url_allows_against_a_healthy_service() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = pki::Pki::new("prodcheck progressive CA").expect("CA");
    let leaf = ca
        .leaf_expiring_in(&["localhost", "127.0.0.1"], 365, 90)
        .expect("leaf");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).expect("ca file");
    let tls = pki::server_config(vec![leaf.cert_der.clone(), ca.ca_der.clone()], leaf.key())
        .expect("tls config");
    let opts = AppOptions {
        reflect_cors: false,
        gzip_assets: true,
        ..AppOptions::demo()
    };
    let https = AppServer::start_tls(service::app_with(opts), tls);
    let http = AppServer::start(service::redirect_app(https.addr.port()));
    let dns = Background::spawn(|| async {
        let dns = prodcheck::demo::dns::serve("shop.progressive.test.", ZONE)
            .await
            .expect("dns");
        Background::hold(dns.addr, dns)
    });
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).expect("backups");
    std::fs::write(backups.join("latest.dump"), vec![b'-'; 4096]).expect("backup");

    let p = Project::new();
    let vars = [
        format!("base_url={}", https.https_url("")),
        // What a user knows without looking: their CA, where backups land, the scan command.
        format!("ca_file={}", ca_file.display()),
        format!("http_url=http://localhost:{}/", http.addr.port()),
        format!("backup_glob={}/*.dump", backups.display()),
        "dns_name=shop.progressive.test".to_string(),
        format!("nameserver={}", dns.addr),
        "security_scan_command=echo OK - scanned".to_string(),
    ];
    let mut cmd = p.cmd();
    cmd.args(["run", "pre-deploy", "--non-interactive", "--report", "json"])
        .timeout(std::time::Duration::from_secs(240));
    for v in &vars {
        cmd.args(["--var", v]);
    }
    let ran = run(&mut cmd);
    assert_eq!(ran.code, 4, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let items = report["items"].as_array().expect("items");
    let set: Vec<&str> = vars
        .iter()
        .filter_map(|v| v.split_once('=').map(|(k, _)| k))
        .collect();
    let mut ran_ids = Vec::new();
    for it in items.iter().filter(|i| i["kind"] != "manual") {
        let id = it["id"].as_str().unwrap_or_default();
        match it["status"].as_str().unwrap_or_default() {
            "unconfigured" => {
                // Named variables are really unset, and none of them was given.
                let vars = it["evidence"]["unset_variables"].as_array().expect("vars");
                assert!(!vars.is_empty(), "{it}");
                for v in vars {
                    let v = v.as_str().unwrap_or_default();
                    assert!(!set.contains(&v), "`{v}` was set: {it}");
                    assert!(
                        it["message"]
                            .as_str()
                            .unwrap_or_default()
                            .contains(&format!("`{v}`")),
                        "{it}"
                    );
                }
            }
            "fail" | "error" if it["gating"] == true => {
                panic!("a gating item did not pass on a healthy service: {it}")
            }
            _ => ran_ids.push(id.to_string()),
        }
    }
    for id in [
        "tls-certificate",
        "https-redirect",
        "security-headers",
        "fresh-backup",
        "health-endpoint",
        "security-scan",
    ] {
        assert!(
            ran_ids.iter().any(|r| r == id),
            "`{id}` should run from base_url: {}",
            item(&report, id)
        );
        assert_eq!(item(&report, id)["status"], "pass", "{}", item(&report, id));
    }
    for (id, var) in [
        ("session-cookies", "login_url"),
        ("unit-tests", "test_command"),
        ("bundle-size", "bundle_glob"),
        ("dependency-audit", "audit_command"),
        // Routes have no default: discovery or the user names them.
        ("auth-required", "protected_urls"),
        ("websocket-echo", "ws_url"),
    ] {
        let it = item(&report, id);
        assert_eq!(it["status"], "unconfigured", "{it}");
        assert!(
            it["evidence"]["unset_variables"]
                .as_array()
                .is_some_and(|v| v.iter().any(|x| x == var)),
            "{it}"
        );
    }
    assert!(report["summary"]["unconfigured"].as_u64().unwrap_or(0) >= 4);
    drop((https, http, dns));
}
