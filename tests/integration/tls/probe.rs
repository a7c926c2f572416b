//! The `tls` probe against rustls servers on 127.0.0.1 presenting certificates generated
//! here (valid, expiring, expired, wrong host, self-signed, missing intermediate) and against
//! a real `openssl s_server` for legacy versions and weak keys.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use prodcheck::demo::pki::{self, Leaf, Pki};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use crate::support::*;

const DAY: time::Duration = time::Duration::DAY;

fn app() -> Router {
    Router::new().route("/", get(|| async { "ok" }))
}

/// A TLS server on 127.0.0.1 presenting `chain` (leaf first).
fn serve(chain: Vec<CertificateDer<'static>>, leaf: &Leaf) -> AppServer {
    let config = pki::server_config(chain, leaf.key()).expect("server config");
    AppServer::start_tls(app(), config)
}

/// Runs `prodcheck probe tls` with `params` and returns (exit code, the item as JSON).
fn probe(p: &Project, params: &[String]) -> (i32, serde_json::Value) {
    let mut cmd = p.cmd();
    cmd.args(["probe", "tls", "--timeout", "5s", "--report", "json"])
        .args(params);
    let ran = run(&mut cmd);
    let report = json(&ran);
    (ran.code, item(&report, "tls").clone())
}

fn base(p: &Project, port: u16, ca_pem: &str) -> Vec<String> {
    let ca = p.file("ca.pem", ca_pem);
    vec![
        "host=127.0.0.1".into(),
        format!("port={port}"),
        format!("ca_file={}", ca.display()),
    ]
}

#[test]
fn valid_chain_through_an_intermediate_passes_ad_hoc() {
    let root = Pki::new("Test Root").expect("root");
    let now = OffsetDateTime::now_utc();
    let inter = root
        .intermediate("Test Intermediate", now - DAY, now + DAY * 400)
        .expect("intermediate");
    let leaf = inter
        .leaf_for_days(&["localhost", "127.0.0.1"], 90)
        .expect("leaf");
    let server = serve(vec![leaf.cert_der.clone(), inter.ca_der.clone()], &leaf);
    let p = Project::new();
    let (code, it) = probe(&p, &base(&p, server.addr.port(), &root.ca_pem));
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    let msg = item_message(&it);
    assert!(msg.contains("chain verified"), "{msg}");
    assert!(msg.contains("TLSv1.3"), "{msg}");
    let ev = &it["evidence"];
    assert_eq!(ev["chain_length"], 2);
    assert_eq!(ev["hostname_match"], true);
    assert_eq!(ev["version"], "TLSv1.3");
    assert_eq!(ev["key"], "EC 256");
    assert_eq!(ev["signature_algorithm"], "ecdsa-with-SHA256");
    assert!(ev["sans"].to_string().contains("localhost"), "{ev}");
    for field in [
        "subject",
        "issuer",
        "not_before",
        "not_after",
        "days_left",
        "cipher",
    ] {
        assert!(!ev[field].is_null(), "evidence lacks {field}: {ev}");
    }
    assert!(
        ev["legacy"]["TLSv1.0"]
            .as_str()
            .unwrap_or_default()
            .starts_with("refused"),
        "{ev}"
    );
}

#[test]
fn expiring_in_five_days_fails_and_in_twenty_warns() {
    let ca = Pki::new("Test CA").expect("ca");
    let p = Project::new();
    let now = OffsetDateTime::now_utc();
    // An hour of slack keeps the whole-day count stable however long the test takes.
    let soon = ca
        .leaf(
            &["127.0.0.1"],
            now - DAY,
            now + DAY * 5 + time::Duration::HOUR,
        )
        .expect("leaf");
    let server = serve(vec![soon.cert_der.clone()], &soon);
    let (code, it) = probe(&p, &base(&p, server.addr.port(), &ca.ca_pem));
    assert_code!((code, &it), 1);
    assert_eq!(it["status"], "fail", "{it}");
    let msg = item_message(&it);
    assert!(
        msg.contains("certificate for 127.0.0.1 expires in 5 days"),
        "{msg}"
    );
    assert!(msg.contains("fail threshold 14"), "{msg}");
    drop(server);

    let later = ca.leaf_for_days(&["127.0.0.1"], 20).expect("leaf");
    let server = serve(vec![later.cert_der.clone()], &later);
    assert_item(
        probe(&p, &base(&p, server.addr.port(), &ca.ca_pem)),
        0,
        "warn",
        "warn threshold 30",
    );
}

#[test]
fn expired_certificate_for_the_wrong_host_reports_both() {
    let ca = Pki::new("Test CA").expect("ca");
    let now = OffsetDateTime::now_utc();
    let leaf = ca
        .leaf(&["other.example"], now - DAY * 100, now - DAY * 10)
        .expect("leaf");
    let server = serve(vec![leaf.cert_der.clone()], &leaf);
    let p = Project::new();
    let (code, it) = probe(&p, &base(&p, server.addr.port(), &ca.ca_pem));
    assert_code!((code, &it), 1);
    let msg = item_message(&it);
    assert!(msg.contains("expired 10 days ago"), "{msg}");
    assert!(
        msg.contains("does not match `127.0.0.1` (SANs: other.example)"),
        "{msg}"
    );
    assert_eq!(it["evidence"]["chain_verified"], true, "{it}");
    assert_eq!(it["evidence"]["subject"], "CN=other.example");
}

#[test]
fn not_yet_valid_certificate_fails() {
    let ca = Pki::new("Test CA").expect("ca");
    let now = OffsetDateTime::now_utc();
    let leaf = ca
        .leaf(&["127.0.0.1"], now + DAY * 3, now + DAY * 90)
        .expect("leaf");
    let server = serve(vec![leaf.cert_der.clone()], &leaf);
    let p = Project::new();
    let (code, it) = probe(&p, &base(&p, server.addr.port(), &ca.ca_pem));
    assert_code!((code, &it), 1);
    assert!(item_message(&it).contains("is not valid until"), "{it}");
}

#[test]
fn self_signed_and_missing_intermediate_name_the_broken_link() {
    let p = Project::new();
    let own = pki::self_signed_leaf(&["127.0.0.1"], 90).expect("self-signed");
    let unrelated = Pki::new("Unrelated CA").expect("ca");
    let server = serve(vec![own.cert_der.clone()], &own);
    let (code, it) = probe(&p, &base(&p, server.addr.port(), &unrelated.ca_pem));
    assert_code!((code, &it), 1);
    let msg = item_message(&it);
    assert!(
        msg.contains("self-signed certificate `CN=127.0.0.1` is not a trusted root"),
        "{msg}"
    );
    assert_eq!(it["evidence"]["chain_verified"], false);
    drop(server);

    let root = Pki::new("Test Root").expect("root");
    let now = OffsetDateTime::now_utc();
    let inter = root
        .intermediate("Test Intermediate", now - DAY, now + DAY * 400)
        .expect("intermediate");
    let leaf = inter.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let server = serve(vec![leaf.cert_der.clone()], &leaf);
    let (code, it) = probe(&p, &base(&p, server.addr.port(), &root.ca_pem));
    assert_code!((code, &it), 1);
    let msg = item_message(&it);
    assert!(msg.contains("missing intermediate"), "{msg}");
    assert!(msg.contains("CN=Test Intermediate"), "{msg}");
    // Facts are still reported when the chain does not verify.
    let days = it["evidence"]["days_left"].as_i64().unwrap_or_default();
    assert!((89..=90).contains(&days), "{it}");
}

#[test]
fn earliest_expiring_certificate_in_the_chain_is_named() {
    let root = Pki::new("Test Root").expect("root");
    let now = OffsetDateTime::now_utc();
    let inter = root
        .intermediate(
            "Short Intermediate",
            now - DAY,
            now + DAY * 3 + time::Duration::HOUR,
        )
        .expect("intermediate");
    let leaf = inter.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let server = serve(vec![leaf.cert_der.clone(), inter.ca_der.clone()], &leaf);
    let p = Project::new();
    let (code, it) = probe(&p, &base(&p, server.addr.port(), &root.ca_pem));
    assert_code!((code, &it), 1);
    let msg = item_message(&it);
    assert!(
        msg.contains("chain certificate #2 `CN=Short Intermediate` expires in 3 days"),
        "{msg}"
    );
    assert_eq!(it["evidence"]["earliest_expiring"]["position"], 2);
}

#[test]
fn version_floor_lifetime_and_unreadable_ca_file() {
    let ca = Pki::new("Test CA").expect("ca");
    let leaf = ca.leaf_for_days(&["127.0.0.1"], 400).expect("leaf");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.cert_der.clone()], leaf.key())
        .expect("config");
    let server = AppServer::start_tls(app(), config);
    let p = Project::new();
    let mut params = base(&p, server.addr.port(), &ca.ca_pem);
    params.extend(["min_version=1.3".into(), "max_lifetime_days=366".into()]);
    let (code, it) = probe(&p, &params);
    assert_code!((code, &it), 1);
    let msg = item_message(&it);
    assert!(
        msg.contains("negotiated TLSv1.2, below min_version TLSv1.3"),
        "{msg}"
    );
    assert!(
        msg.contains("lifetime 401 days exceeds max_lifetime_days 366"),
        "{msg}"
    );
    assert!(
        it["evidence"]["cipher"]
            .as_str()
            .unwrap_or_default()
            .starts_with("TLS_ECDHE"),
        "{it}"
    );

    assert_item(
        probe(
            &p,
            &[
                "host=127.0.0.1".into(),
                format!("port={}", server.addr.port()),
                "ca_file=/nonexistent/ca.pem".into(),
            ],
        ),
        3,
        "error",
        "cannot read ca_file",
    );
}

#[test]
fn legacy_tls10_is_detected_on_a_real_openssl_server() {
    let ca = Pki::new("Test CA").expect("ca");
    let leaf = ca.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let p = Project::new();
    let cert = p.file("cert.pem", &leaf.cert_pem);
    let key = p.file("key.pem", &leaf.key_pem().expect("key pem"));
    let Some(server) = openssl_server(
        &cert,
        &key,
        &["-cipher", "DEFAULT:@SECLEVEL=0", "-min_protocol", "TLSv1"],
    ) else {
        return;
    };
    let (code, it) = probe(&p, &base(&p, server.port, &ca.ca_pem));
    let legacy = it["evidence"]["legacy"]["TLSv1.0"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if legacy != "accepted" {
        missing(
            &format!("an openssl that speaks TLS 1.0 at SECLEVEL=0 (this one: {legacy})"),
            "Debian's openssl 3 does; check the s_server options in this test",
        );
        return;
    }
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains("server still accepts TLSv1.0 (allow_legacy is false)"),
        "{it}"
    );
    // The modern handshake still succeeded and was judged.
    assert_eq!(it["evidence"]["chain_verified"], true, "{it}");

    // OpenSSL's DEFAULT list still has CBC suites: only the old profile tolerates them.
    let mut params = base(&p, server.port, &ca.ca_pem);
    params.extend(["allow_legacy=true".into(), "profile=old".into()]);
    let (code, it) = probe(&p, &params);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    assert_eq!(it["evidence"]["legacy"]["TLSv1.0"], "accepted");
}

#[test]
fn weak_rsa_key_and_sha1_signature_fail() {
    let Some(openssl) = require_binary("openssl", "openssl") else {
        return;
    };
    let p = Project::new();
    let (cert, key) = (p.path().join("weak.pem"), p.path().join("weak.key"));
    assert!(
        openssl_self_signed(&openssl, 1024, "sha1", &cert, &key),
        "openssl could not make a weak certificate"
    );
    let Some(server) = openssl_server(&cert, &key, &["-cipher", "DEFAULT:@SECLEVEL=0"]) else {
        return;
    };
    let ca_pem = std::fs::read_to_string(&cert).expect("cert");
    let (code, it) = probe(&p, &base(&p, server.port, &ca_pem));
    assert_code!((code, &it), 1);
    let msg = item_message(&it);
    assert!(
        msg.contains("1024-bit RSA key, below min_key_bits 2048"),
        "{msg}"
    );
    assert!(msg.contains("sha1WithRSAEncryption"), "{msg}");
    assert_eq!(it["evidence"]["key"], "RSA 1024");
}
