//! `tls` with `starttls: ldap` against the real OpenLDAP `slapd`: its StartTLS extended
//! operation, then every TLS judgement; a slapd without TLS refuses the operation.

use prodcheck::demo::pki::Pki;
use time::OffsetDateTime;

use crate::support::*;
use crate::tls::handshakes::{Files, assert_fails_saying, probe};

/// A CA and a leaf for 127.0.0.1 valid from `days_from` to `days_to` (relative to now).
fn files(days_from: i32, days_to: i32) -> Files {
    let ca = Pki::new("Directory CA").expect("ca");
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::DAY;
    let leaf = ca
        .leaf(&["127.0.0.1"], now + day * days_from, now + day * days_to)
        .expect("leaf");
    let p = Project::new();
    let cert = p.file("cert.pem", &leaf.cert_pem);
    let key = p.file("key.pem", &leaf.key_pem().expect("key pem"));
    Files {
        p,
        ca_pem: ca.ca_pem,
        cert,
        key,
    }
}

#[test]
fn slapd_behind_starttls_is_judged_like_any_tls_front() {
    let f = files(-1, 90);
    let Some(slapd) = start_slapd(Some((&f.cert, &f.key))) else {
        return;
    };
    let (code, it) = probe(&f, slapd.port, &["starttls=ldap", "enumerate=false"]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    assert_eq!(it["evidence"]["starttls"], "ldap", "{it}");
    assert_eq!(it["evidence"]["chain_verified"], true, "{it}");
    assert_eq!(it["evidence"]["version"], "TLSv1.3", "{it}");
    // The TLS 1.0 probe spoke StartTLS too: slapd (TLSProtocolMin 3.3) hangs up on it.
    let legacy = it["evidence"]["legacy"]["TLSv1.0"]
        .as_str()
        .unwrap_or_default();
    assert!(legacy.starts_with("refused"), "{it}");
    // slapd closes the connection without an alert when no suite is shared, so the suite
    // scan cannot tell "refused" from "broke": it finds the AEAD suites and says it is
    // incomplete (error), never a pass on suites it could not check.
    let (code, it) = probe(&f, slapd.port, &["starttls=ldap"]);
    assert_eq!(it["status"], "error", "{it}");
    assert_ne!(code, 0, "{it}");
    let accepted = it["evidence"]["tls12_suites"]["accepted"].to_string();
    assert!(
        accepted.contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        "{it}"
    );
    assert!(
        item_message(&it).contains("TLSv1.2 suite enumeration incomplete"),
        "{it}"
    );
    // Without StartTLS the LDAP port is no TLS server.
    let (code, it) = probe(&f, slapd.port, &[]);
    assert_eq!(code, 1, "{it}");
    assert!(item_message(&it).contains("TLS handshake failed"), "{it}");
}

#[test]
fn expired_certificate_behind_ldap_starttls_fails() {
    let f = files(-100, -3);
    let Some(slapd) = start_slapd(Some((&f.cert, &f.key))) else {
        return;
    };
    let (code, it) = probe(&f, slapd.port, &["starttls=ldap", "enumerate=false"]);
    assert_fails_saying(code, &it, "expired 3 days ago");
    assert_eq!(it["evidence"]["starttls"], "ldap", "{it}");
}

#[test]
fn slapd_without_tls_refuses_starttls_in_its_own_words() {
    let f = files(-1, 90);
    let Some(slapd) = start_slapd(None) else {
        return;
    };
    let (code, it) = probe(&f, slapd.port, &["starttls=ldap"]);
    assert_code!((code, &it), 1);
    let msg = item_message(&it);
    assert!(
        msg.contains("LDAP STARTTLS at 127.0.0.1:")
            && msg.contains(
                "answered StartTLS with result 2 protocolError (unsupported extended operation)"
            ),
        "{it}"
    );
    assert_eq!(it["evidence"]["no_answer"], "tls_rejected", "{it}");
}
