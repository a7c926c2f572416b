//! `check_revocation: true` on the `tls` probe: certificates whose CRL distribution point is a
//! local HTTP server (the CRL generated and signed at test time). Revoked is `fail` naming the
//! reason and the URL; a CRL that cannot be fetched, is too big or is signed by another key is
//! `error`; a stale CRL or a certificate naming no CRL warns.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use prodcheck::demo::pki::{Leaf, Pki, server_config};
use rcgen::RevocationReason;

use crate::support::*;

/// An HTTP server answering `/ca.crl` with whatever bytes it holds at the time.
struct CrlServer {
    app: AppServer,
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl CrlServer {
    fn start() -> CrlServer {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let app = AppServer::start(
            Router::new()
                .route(
                    "/ca.crl",
                    get(|State(b): State<Arc<Mutex<Vec<u8>>>>| async move {
                        b.lock().expect("lock").clone()
                    }),
                )
                .with_state(bytes.clone()),
        );
        CrlServer { app, bytes }
    }

    fn url(&self) -> String {
        self.app.url("/ca.crl")
    }

    fn serve(&self, crl: Vec<u8>) {
        *self.bytes.lock().expect("lock") = crl;
    }
}

/// A TLS server presenting `leaf`; stops on drop.
fn tls_server(leaf: &Leaf) -> AppServer {
    AppServer::start_tls(
        Router::new().route("/", get(|| async { "ok" })),
        server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("tls config"),
    )
}

fn tls_item(p: &Project, ca: &str, server: &AppServer) -> String {
    let ca = p.file("ca.pem", ca);
    format!(
        r#"tls: {{ host: 127.0.0.1, port: {}, ca_file: "{}", enumerate: false, check_revocation: true }}"#,
        server.addr.port(),
        ca.display()
    )
}

fn run_items(p: &Project, items: &[(&str, &str)]) -> (i32, serde_json::Value) {
    p.file("c.yaml", &checklist_of("10s", items));
    let ran = run(p.cmd().args(["run", "c.yaml", "--report", "json"]));
    (ran.code, json(&ran))
}

#[test]
fn a_certificate_on_the_crl_fails_naming_the_reason_and_the_url() {
    let pki = Pki::new("prodcheck CRL CA").expect("CA");
    let crls = CrlServer::start();
    let revoked = pki
        .leaf_with_crl(&["127.0.0.1"], 90, 0x1001, &crls.url())
        .expect("revoked leaf");
    let good = pki
        .leaf_with_crl(&["127.0.0.1"], 90, 0x1002, &crls.url())
        .expect("good leaf");
    crls.serve(
        pki.crl(&[(0x1001, RevocationReason::KeyCompromise)], 7)
            .expect("crl"),
    );
    let (bad_server, good_server) = (tls_server(&revoked), tls_server(&good));
    let p = Project::new();
    let (code, report) = run_items(
        &p,
        &[
            ("revoked", &tls_item(&p, &pki.ca_pem, &bad_server)),
            ("good", &tls_item(&p, &pki.ca_pem, &good_server)),
        ],
    );
    assert_code!((code, &report), 1);
    assert_status(&report, "revoked", "fail");
    let m = message(&report, "revoked");
    let yesterday = (time::OffsetDateTime::now_utc() - time::Duration::DAY).date();
    assert!(
        m.contains(&format!(
            "certificate for 127.0.0.1 is revoked (keyCompromise) since {yesterday}, per the CRL at {}: replace the certificate",
            crls.url()
        )),
        "{m}"
    );
    let it = item(&report, "good");
    assert_eq!(it["status"], "pass", "{it}");
    assert_eq!(it["evidence"]["revocation"][0]["status"], "good", "{it}");
    assert_eq!(it["evidence"]["revocation"][0]["crl"], crls.url(), "{it}");
}

#[test]
fn a_crl_that_cannot_be_had_or_trusted_is_an_error_and_a_stale_one_warns() {
    let pki = Pki::new("prodcheck CRL CA").expect("CA");
    // Same name, another key: its CRL must not be believed.
    let forger = Pki::new("prodcheck CRL CA").expect("forger");
    let forged = CrlServer::start();
    forged.serve(forger.crl(&[], 7).expect("forged crl"));
    let huge = CrlServer::start();
    huge.serve(vec![0x30; 9 * 1024 * 1024]);
    let stale = CrlServer::start();
    stale.serve(pki.crl(&[], -1).expect("stale crl"));
    let dead = format!("http://127.0.0.1:{}/ca.crl", closed_port());
    let leaf = |serial: u64, url: &str| {
        pki.leaf_with_crl(&["127.0.0.1"], 90, serial, url)
            .expect("leaf")
    };
    let servers = [
        ("dead", tls_server(&leaf(1, &dead))),
        ("forged", tls_server(&leaf(2, &forged.url()))),
        ("huge", tls_server(&leaf(3, &huge.url()))),
        ("stale", tls_server(&leaf(4, &stale.url()))),
        (
            "no-crl",
            tls_server(&pki.leaf_for_days(&["127.0.0.1"], 90).expect("leaf")),
        ),
    ];
    let p = Project::new();
    let items: Vec<(&str, String)> = servers
        .iter()
        .map(|(id, s)| (*id, tls_item(&p, &pki.ca_pem, s)))
        .collect();
    let borrowed: Vec<(&str, &str)> = items.iter().map(|(i, t)| (*i, t.as_str())).collect();
    let (code, report) = run_items(&p, &borrowed);
    assert_code!((code, &report), 3);
    let statuses: Vec<String> = ["dead", "forged", "huge", "stale", "no-crl"]
        .iter()
        .map(|id| {
            format!(
                "{id}={}",
                item(&report, id)["status"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "dead=error",
            "forged=error",
            "huge=error",
            "stale=warn",
            "no-crl=warn"
        ]
    );
    let says = |id: &str, text: &str| {
        let m = message(&report, id);
        assert!(m.contains(text), "{id}: {m}");
    };
    says(
        "dead",
        &format!(
            "revocation of the certificate for 127.0.0.1 could not be checked: the CRL at {dead}: could not be fetched: "
        ),
    );
    says(
        "forged",
        "its signature does not verify with the key of `CN=prodcheck CRL CA`: it cannot be trusted",
    );
    says("huge", "it is over 8 MiB and was not read");
    says(
        "stale",
        &format!(
            "the CRL at {} (for the certificate for 127.0.0.1) expired on ",
            stale.url()
        ),
    );
    says(
        "no-crl",
        "revocation of the certificate for 127.0.0.1 cannot be checked: it names no CRL distribution point",
    );
}
