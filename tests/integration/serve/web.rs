//! The web side of `prodcheck serve`: basic auth and TLS from the exporter-toolkit web config,
//! no public listener without auth, and SIGHUP reloads that keep the old config when broken.

use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use prodcheck::demo::pki;

use super::*;

#[test]
fn basic_auth_and_tls_come_from_the_web_config() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let p = project(&[("good", &good)], &ca);
    let leaf = ca.leaf_for_days(&["localhost"], 30).expect("leaf");
    p.file("tls/serve.crt", &leaf.cert_pem);
    p.file("tls/serve.key", &leaf.key_pem().expect("key pem"));
    let hash = bcrypt::hash("s3cret", 4).expect("hash");
    p.file(
        "tls/web.yml",
        &format!("tls_server_config:\n  cert_file: serve.crt\n  key_file: serve.key\nbasic_auth_users:\n  prometheus: '{hash}'\n"),
    );
    let serve = exporter(&p, &["--web.config.file", "tls/web.yml"]);
    let get = |path: &str, auth: Option<&str>| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.ca_der.clone()).expect("root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        let tcp = TcpStream::connect(("127.0.0.1", serve.port)).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let header = auth.map(|a| ("Authorization", a));
        exchange(&mut tls, path, header.as_slice())
    };
    use base64::Engine as _;
    let basic = |user: &str, pass: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
    };
    for path in [
        "/metrics",
        "/probe?checklist=svc&env=good",
        "/probe?checklist=svc&target=x",
    ] {
        assert_eq!(get(path, None).0, 401, "{path} without credentials");
        assert_eq!(
            get(path, Some(&basic("prometheus", "wrong"))).0,
            401,
            "{path}"
        );
        assert_eq!(get(path, Some(&basic("nobody", "s3cret"))).0, 401, "{path}");
    }
    let (status, body) = get(
        "/probe?checklist=svc&env=good&item=health",
        Some(&basic("prometheus", "s3cret")),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#"item="health",severity="critical",status="pass""#),
        "{body}"
    );
    let (_, metrics) = get("/metrics", Some(&basic("prometheus", "s3cret")));
    assert_eq!(
        sample(
            &metrics,
            "prodcheck_exporter_requests_rejected_total",
            &[r#"reason="unauthorized""#]
        ),
        Some(9.0),
        "{metrics}"
    );
    // Plain HTTP to the TLS port gets no metrics.
    let (status, _) = get_http(serve.port, "/metrics", &[]);
    assert_ne!(status, 200);
}

#[test]
fn a_public_listener_needs_auth_and_bad_web_configs_stop_the_start() {
    let p = Project::new();
    p.case()
        .args(["serve", "--listen", "0.0.0.0:0"])
        .code(2)
        .stderr_has("not a loopback address")
        .stderr_has("--web.config.file")
        .run();
    p.file("web.yml", "basic_auth_users:\n  prometheus: hunter2\n");
    p.case()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--web.config.file",
            "web.yml",
        ])
        .code(2)
        .stderr_has("basic_auth_users.prometheus is not a bcrypt hash")
        .run();
    p.file(
        "web.yml",
        "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_ca_file: ca.pem\n",
    );
    p.case()
        .args(["serve", "--web.config.file", "web.yml"])
        .code(2)
        .stderr_has("client_ca_file")
        .run();
    p.case()
        .args(["serve", "--checklist", "nope"])
        .code(2)
        .stderr_has("--checklist `nope`")
        .run();
}

#[test]
fn sighup_reloads_and_a_bad_config_keeps_the_old_one() {
    let ca = pki::Pki::new("serve test CA").expect("CA");
    let good = service(&ca, 200, 90);
    let p = project(&[("good", &good)], &ca);
    let serve = exporter(&p, &[]);
    let hup = || {
        let pid = serve.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
    };
    let reloads = |result: &str| {
        let (_, m) = get_http(serve.port, "/metrics", &[]);
        sample(
            &m,
            "prodcheck_exporter_config_reloads_total",
            &[&format!(r#"result="{result}""#)],
        )
    };
    p.file("prodcheck.yaml", "environments:\n  good:\n    varz: {}\n");
    hup();
    assert!(wait_until(Duration::from_secs(10), || reloads("failure") == Some(1.0)));
    let (_, m) = get_http(serve.port, "/metrics", &[]);
    assert_eq!(
        sample(&m, "prodcheck_exporter_config_last_reload_successful", &[]),
        Some(0.0)
    );
    let log = std::fs::read_to_string(p.path().join("serve.log")).unwrap_or_default();
    assert!(log.contains("still serving the previous config"), "{log}");
    assert!(
        log.contains("prodcheck.yaml:3:5"),
        "the log says where: {log}"
    );
    let (status, body) = get_http(serve.port, "/probe?checklist=svc&env=good&item=health", &[]);
    assert_eq!(status, 200, "the old config still answers: {body}");
    write_config(&p, &[("good", &good), ("second", &good)]);
    hup();
    assert!(wait_until(Duration::from_secs(10), || reloads("success") == Some(2.0)));
    let (status, body) = get_http(
        serve.port,
        "/probe?checklist=svc&env=second&item=health",
        &[],
    );
    assert_eq!(status, 200, "the new environment answers: {body}");
}
