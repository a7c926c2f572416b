//! `tls` with `h3`: HTTP/3 advertisement read from HTTPS DNS records (type 65) served by the
//! demo's hickory-server on 127.0.0.1, for a rustls front on a free port (`_PORT._https`).

use prodcheck::demo::pki::{self, Pki};

use crate::support::*;

const NAMES: [&str; 3] = ["www.example.test", "old.example.test", "none.example.test"];

/// The zone for a front on `port`: `www` offers h3, `old` only h2, `none` has no record.
fn zone(port: u16) -> String {
    format!(
        "$ORIGIN example.test.\n$TTL 300\n\
         @ IN SOA ns1.example.test. admin.example.test. 1 3600 600 86400 300\n\
         @ IN NS ns1.example.test.\nns1 IN A 127.0.0.1\n\
         _{port}._https.www IN HTTPS 1 . alpn=h3,h2\n\
         _{port}._https.old IN HTTPS 1 . alpn=h2\n"
    )
}

#[test]
fn https_records_offering_h3_are_reported_and_required() {
    let ca = Pki::new("H3 CA").expect("ca");
    let leaf = ca.leaf_for_days(&NAMES, 90).expect("leaf");
    let front = echo_server(Some(
        pki::server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("config"),
    ));
    let port = front.addr.port();
    let text = zone(port);
    let dns = Background::spawn(move || async move {
        let dns = prodcheck::demo::dns::serve("example.test.", &text)
            .await
            .expect("dns server");
        Background::hold(dns.addr, dns)
    });
    let ns = dns.addr;
    let p = Project::new();
    let ca_file = p.file("ca.pem", &ca.ca_pem);
    let probe = |host: &str, mode: &str| {
        let mut cmd = p.cmd();
        cmd.args(["probe", "tls", "--timeout", "5s", "--report", "json"])
            .arg(format!("host={host}"))
            .arg(format!("port={port}"))
            .arg("resolve=127.0.0.1")
            .arg(format!("ca_file={}", ca_file.display()))
            .arg(format!("h3={mode}"))
            .arg(format!("nameserver={ns}"))
            .arg("enumerate=false");
        let ran = run(&mut cmd);
        (ran.code, item(&json(&ran), "tls").clone())
    };

    let (code, it) = probe("www.example.test", "require");
    assert_code!((code, &it), 0);
    let h3 = &it["evidence"]["h3"];
    assert_eq!(h3["advertised"], true, "{it}");
    assert_eq!(
        h3["query"],
        format!("_{port}._https.www.example.test"),
        "{it}"
    );
    assert_eq!(h3["alpn"], serde_json::json!(["h3", "h2"]), "{it}");

    let (code, it) = probe("old.example.test", "require");
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains(&format!(
            "no HTTP/3 advertised: the HTTPS DNS record of _{port}._https.old.example.test offers alpn `h2` without `h3`"
        )),
        "{it}"
    );
    // Reported, not judged, with `h3: report`.
    let (code, it) = probe("old.example.test", "report");
    assert_code!((code, &it), 0);
    assert_eq!(it["evidence"]["h3"]["advertised"], false, "{it}");

    let (code, it) = probe("none.example.test", "require");
    assert_code!((code, &it), 1);
    assert!(
        item_message(&it).contains(&format!(
            "no HTTP/3 advertised: _{port}._https.none.example.test has no HTTPS DNS record"
        )),
        "{it}"
    );
    drop(dns);
    // The resolver gone, requiring h3 is an error (not checked), not a verdict.
    let (code, it) = probe("www.example.test", "require");
    assert_eq!(it["status"], "error", "{it}");
    assert!(
        item_message(&it).contains("HTTP/3 advertisement not checked"),
        "{it}"
    );
    assert_ne!(code, 0, "{it}");
}

#[test]
fn h3_on_an_ip_address_is_refused_before_running() {
    let p = Project::new();
    let mut cmd = p.cmd();
    cmd.args(["probe", "tls", "host=127.0.0.1", "h3=require"]);
    let ran = run(&mut cmd);
    assert_eq!(ran.code, 2, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr
            .contains("`h3` looks up an HTTPS DNS record, and `127.0.0.1` is an IP address"),
        "{}",
        ran.stderr
    );
}
