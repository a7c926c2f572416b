//! `tls` and the hybrid post-quantum group: a rustls server with X25519MLKEM768 (ml-kem +
//! x25519-dalek, test-only) selects it; the machine's `openssl s_server` (3.0, no ML-KEM) does
//! not, answers a P-256-only setup with a HelloRetryRequest, and a TLS 1.2-only one without a share.

use std::sync::Arc;

use prodcheck::demo::pki::Pki;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;
use crate::tls::handshakes::{Files, assert_fails_saying, ec_files, probe};

/// A CA, a leaf for 127.0.0.1, the hybrid-group server serving it, and the CA certificate.
fn pq_files() -> (Files, Background, rustls_pki_types::CertificateDer<'static>) {
    let ca = Pki::new("PQ CA").expect("ca");
    let leaf = ca.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let server = pq_server(&leaf);
    let p = Project::new();
    let cert = p.file("cert.pem", &leaf.cert_pem);
    let key = p.file("key.pem", &leaf.key_pem().expect("key pem"));
    let files = Files {
        p,
        ca_pem: ca.ca_pem,
        cert,
        key,
    };
    (files, server, ca.ca_der)
}

#[test]
fn the_test_server_really_completes_an_x25519mlkem768_handshake() {
    // Without this, a server that merely names the group would pass the probe's test below.
    let (_f, server, ca) = pq_files();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("root");
    let config = rustls::ClientConfig::builder_with_provider(hybrid_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let group = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect");
        let name = ServerName::try_from("127.0.0.1").expect("name");
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let mut tls = connector.connect(name, tcp).await.expect("handshake");
        tls.write_all(b"x").await.expect("write");
        let mut buf = [0u8; 1];
        // The server sends nothing; a clean close or a timeout both prove the keys agreed.
        let _ =
            tokio::time::timeout(std::time::Duration::from_millis(200), tls.read(&mut buf)).await;
        tls.get_ref()
            .1
            .negotiated_key_exchange_group()
            .map(|g| u16::from(g.name()))
    });
    assert_eq!(group, Some(0x11ec));
}

#[test]
fn a_server_selecting_x25519mlkem768_passes_require_pq() {
    let (f, server, _) = pq_files();
    let (code, it) = probe(&f, server.addr.port(), &["require_pq=true"]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    let pq = &it["evidence"]["post_quantum"];
    assert_eq!(pq["selected"], "X25519MLKEM768", "{it}");
    assert_eq!(pq["hybrid"], true, "{it}");
    assert_eq!(pq["answer"], "X25519MLKEM768", "{it}");
    // Offered classic groups only, it picks x25519.
    assert_eq!(pq["classic_selected"], "x25519", "{it}");
    assert_eq!(pq["mozilla_guideline"], "6.0", "{it}");
    assert_eq!(
        pq["mozilla_groups"],
        serde_json::json!(["X25519MLKEM768", "x25519", "P-256", "P-384"]),
        "{it}"
    );
    assert_eq!(pq["offered"][0], "X25519MLKEM768", "{it}");
}

#[test]
fn openssl_3_0_does_not_select_the_hybrid_group() {
    let f = ec_files();
    let Some(s) = openssl_server(&f.cert, &f.key, &[]) else {
        return;
    };
    // Reported without failing when not required...
    let (code, it) = probe(&f, s.port, &[]);
    assert_code!((code, &it), 0);
    let pq = &it["evidence"]["post_quantum"];
    assert_eq!(pq["hybrid"], false, "{it}");
    assert_eq!(pq["selected"], "x25519", "{it}");
    assert_eq!(pq["classic_selected"], "x25519", "{it}");
    // ...and a failure naming what it picked when required.
    let (code, it) = probe(&f, s.port, &["require_pq=true"]);
    assert_fails_saying(
        code,
        &it,
        "server selects x25519 when offered X25519MLKEM768 first (require_pq)",
    );
    assert!(
        item_message(&it).contains("Mozilla's server-side TLS guideline 6.0"),
        "{it}"
    );
}

#[test]
fn hello_retry_and_tls12_only_servers_are_read_right() {
    let f = ec_files();
    // P-256 only: no share for it was sent, so the server asks again for P-256.
    let Some(s) = openssl_server(&f.cert, &f.key, &["-groups", "P-256"]) else {
        return;
    };
    let (code, it) = probe(&f, s.port, &["require_pq=true"]);
    assert_fails_saying(
        code,
        &it,
        "server selects P-256 (after a HelloRetryRequest) when offered X25519MLKEM768 first",
    );
    let pq = &it["evidence"]["post_quantum"];
    assert_eq!(
        pq["classic_answer"], "P-256 (after a HelloRetryRequest)",
        "{it}"
    );
    drop(s);
    let Some(s) = openssl_server(&f.cert, &f.key, &["-no_tls1_3"]) else {
        return;
    };
    let (code, it) = probe(&f, s.port, &["require_pq=true"]);
    assert_fails_saying(
        code,
        &it,
        "server selects TLSv1.2 (hybrid groups need TLS 1.3) when offered X25519MLKEM768 first",
    );
    assert_eq!(it["evidence"]["post_quantum"]["hybrid"], false, "{it}");
}
