//! The `tls` probe against servers rustls cannot or should not talk to: weak-suite-only
//! `openssl s_server` / `gnutls-serv` (diagnosed by hand-written hellos), mixed-suite servers
//! judged against the Mozilla profiles, and the messages for oddities (SHA-1, reversed chain,
//! a 10,000-name certificate), relative expiry thresholds and extra chain certificates.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use prodcheck::demo::pki::{self, Pki};
use time::OffsetDateTime;

use crate::support::*;

const DAY: time::Duration = time::Duration::DAY;

/// A CA, and an EC P-256 leaf for 127.0.0.1 written as PEM files.
struct Files {
    p: Project,
    ca_pem: String,
    cert: PathBuf,
    key: PathBuf,
}

fn ec_files() -> Files {
    let ca = Pki::new("Handshake CA").expect("ca");
    let leaf = ca.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
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

/// A self-signed RSA certificate for 127.0.0.1 made by openssl (rcgen cannot make RSA keys),
/// trusted through `ca_file` = itself.
fn rsa_files(bits: u32, digest: &str) -> Option<Files> {
    let openssl = require_binary("openssl", "openssl")?;
    let p = Project::new();
    let (cert, key) = (p.path().join("rsa.pem"), p.path().join("rsa.key"));
    assert!(
        openssl_self_signed(&openssl, bits, digest, &cert, &key),
        "openssl could not make an RSA-{bits} certificate"
    );
    let ca_pem = std::fs::read_to_string(&cert).expect("cert");
    Some(Files {
        p,
        ca_pem,
        cert,
        key,
    })
}

/// `prodcheck probe tls` against 127.0.0.1:`port` trusting `ca_pem`, plus `extra` params.
fn probe(f: &Files, port: u16, extra: &[&str]) -> (i32, serde_json::Value) {
    let ca = f.p.file("ca.pem", &f.ca_pem);
    let mut cmd = f.p.cmd();
    cmd.args(["probe", "tls", "--timeout", "5s", "--report", "json"])
        .arg("host=127.0.0.1")
        .arg(format!("port={port}"))
        .arg(format!("ca_file={}", ca.display()))
        .args(extra);
    let ran = run(&mut cmd);
    let report = json(&ran);
    (ran.code, item(&report, "tls").clone())
}

/// Failed, with `needle` in the message and no rustls Debug dump.
fn assert_fails_saying(code: i32, it: &serde_json::Value, needle: &str) {
    assert_code!((code, it), 1);
    assert_eq!(it["status"], "fail", "{it}");
    let msg = item_message(it);
    assert!(msg.contains(needle), "expected `{needle}` in: {msg}");
    for dump in [
        "Context {",
        "OtherError",
        "HandshakeFailure",
        "corrupt message",
    ] {
        assert!(
            !msg.contains(dump),
            "rustls internals `{dump}` leak into: {msg}"
        );
    }
}

#[test]
fn cbc_only_server_is_diagnosed_with_its_certificate() {
    let f = ec_files();
    let Some(s) = openssl_server(
        &f.cert,
        &f.key,
        &[
            "-no_tls1_3",
            "-cipher",
            "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA",
        ],
    ) else {
        return;
    };
    let (code, it) = probe(&f, s.port, &[]);
    assert_fails_saying(code, &it, "server offers only CBC suites on TLSv1.2");
    assert!(
        item_message(&it).contains("the server aborted the handshake (alert handshake_failure)"),
        "{it}"
    );
    let ev = &it["evidence"];
    assert_eq!(ev["version"], "TLSv1.2", "{ev}");
    assert_eq!(ev["negotiated_by"], "prodcheck hello", "{ev}");
    assert!(
        ev["cipher"].as_str().unwrap_or_default().contains("_CBC_"),
        "{ev}"
    );
    // The certificate was fetched by hand and judged.
    assert_eq!(ev["chain_verified"], true, "{ev}");
    assert_eq!(ev["key"], "EC 256", "{ev}");
}

#[test]
fn static_rsa_and_small_dhe_only_servers_are_named() {
    let Some(f) = rsa_files(2048, "sha256") else {
        return;
    };
    let Some(s) = openssl_server(
        &f.cert,
        &f.key,
        &["-no_tls1_3", "-cipher", "AES128-GCM-SHA256:AES128-SHA"],
    ) else {
        return;
    };
    let (code, it) = probe(&f, s.port, &[]);
    assert_fails_saying(
        code,
        &it,
        "server offers only static-RSA key exchange (no forward secrecy) on TLSv1.2",
    );
    drop(s);

    let Some(openssl) = require_binary("openssl", "openssl") else {
        return;
    };
    let dh = f.p.path().join("dh1024.pem");
    let made = Command::new(openssl)
        .args(["dhparam", "-out"])
        .arg(&dh)
        .arg("1024")
        .stderr(Stdio::null())
        .status()
        .expect("openssl dhparam");
    assert!(made.success());
    let dh_arg = dh.display().to_string();
    let Some(s) = openssl_server(
        &f.cert,
        &f.key,
        &[
            "-no_tls1_3",
            "-cipher",
            "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
            "-dhparam",
            &dh_arg,
        ],
    ) else {
        return;
    };
    let (code, it) = probe(&f, s.port, &[]);
    assert_fails_saying(
        code,
        &it,
        "server offers only DHE key exchange on TLSv1.2 (current browsers and rustls no longer offer DHE; its group is 1024 bits)",
    );
    assert_eq!(it["evidence"]["key_exchange"], "DHE 1024", "{it}");
}

#[test]
fn null_3des_and_rc4_only_servers_are_named() {
    let f = ec_files();
    let Some(s) = openssl_server(
        &f.cert,
        &f.key,
        &["-no_tls1_3", "-cipher", "ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0"],
    ) else {
        return;
    };
    let (code, it) = probe(&f, s.port, &[]);
    assert_fails_saying(
        code,
        &it,
        "server offers only NULL (unencrypted) suites on TLSv1.2",
    );
    drop(s);

    // OpenSSL 3 no longer serves 3DES or RC4; GnuTLS still can.
    for (cipher, words) in [("3DES-CBC", "3DES"), ("ARCFOUR-128", "RC4")] {
        let priority = format!(
            "NONE:+VERS-TLS1.2:+ECDHE-ECDSA:+{cipher}:+SHA1:+COMP-NULL:+SIGN-ALL:+CURVE-ALL"
        );
        let Some(s) = gnutls_server(&f.cert, &f.key, &priority) else {
            return;
        };
        let (code, it) = probe(&f, s.port, &[]);
        assert_fails_saying(
            code,
            &it,
            &format!("server offers only {words} suites on TLSv1.2"),
        );
        assert_eq!(it["evidence"]["chain_verified"], true, "{it}");
    }
}

#[test]
fn a_512_bit_rsa_key_is_the_named_cause() {
    let Some(f) = rsa_files(512, "sha256") else {
        return;
    };
    let Some(s) = openssl_server(&f.cert, &f.key, &["-cipher", "DEFAULT:@SECLEVEL=0"]) else {
        return;
    };
    let (code, it) = probe(&f, s.port, &[]);
    assert_fails_saying(code, &it, "512-bit RSA key, below min_key_bits 2048");
    assert!(
        item_message(&it).contains("TLS handshake failed: the server aborted the handshake"),
        "{it}"
    );
    assert_eq!(it["evidence"]["key"], "RSA 512", "{it}");
}

#[test]
fn mixed_server_is_judged_against_each_profile() {
    let f = ec_files();
    let Some(s) = openssl_server(
        &f.cert,
        &f.key,
        &[
            "-cipher",
            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA",
        ],
    ) else {
        return;
    };
    // Intermediate (default): CBC on TLS 1.2 fails although TLS 1.3 negotiated fine.
    let (code, it) = probe(&f, s.port, &[]);
    assert_fails_saying(
        code,
        &it,
        "server accepts CBC suites on TLSv1.2 (TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA), outside the Mozilla intermediate profile",
    );
    let ev = &it["evidence"];
    assert_eq!(ev["version"], "TLSv1.3", "{ev}");
    assert_eq!(ev["key_exchange"], "x25519", "{ev}");
    let accepted = ev["tls12_suites"]["accepted"].to_string();
    assert!(
        accepted.contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        "{accepted}"
    );
    assert!(
        accepted.contains("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
        "{accepted}"
    );

    // Old tolerates CBC; the pass names the key exchange group.
    assert_item(probe(&f, s.port, &["profile=old"]), 0, "pass", "(x25519)");

    // Modern: TLS 1.2 itself is outside the profile.
    let (code, it) = probe(&f, s.port, &["profile=modern"]);
    assert_fails_saying(
        code,
        &it,
        "server accepts TLSv1.2 at all (the modern profile is TLS 1.3 only)",
    );

    // Enumeration off: only the negotiated handshake is judged.
    let (code, it) = probe(&f, s.port, &["enumerate=false"]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    assert!(it["evidence"]["tls12_suites"].is_null(), "{it}");
}

#[test]
fn sha1_signature_reads_as_a_sentence() {
    let Some(f) = rsa_files(2048, "sha1") else {
        return;
    };
    let Some(s) = openssl_server(&f.cert, &f.key, &["-cipher", "DEFAULT:@SECLEVEL=0"]) else {
        return;
    };
    let (code, it) = probe(&f, s.port, &["profile=old"]);
    assert_fails_saying(
        code,
        &it,
        "chain does not verify: `127.0.0.1` is signed with sha1WithRSAEncryption: SHA-1 and MD5 signatures are forgeable, and browsers and rustls refuse them; reissue it with SHA-256",
    );
    let msg = item_message(&it);
    assert!(!msg.contains("0x06"), "algorithm ids leak into: {msg}");
    assert!(msg.len() < 400, "message too long: {msg}");
}

/// Runs `openssl ARGS` in `p`'s directory.
fn openssl_step(openssl: &Path, p: &Project, args: &[&str]) {
    let ok = Command::new(openssl)
        .current_dir(p.path())
        .args(args)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("openssl");
    assert!(ok.success(), "openssl {args:?}");
}

/// `ca.pem`/`ca.key` (a CA named `ca_name`) and `leaf.pem`/`leaf.key` for 127.0.0.1 signed by
/// it, made by openssl in `p` (for servers that need the CA's key or an OCSP responder).
fn openssl_ca_and_leaf(openssl: &Path, p: &Project, ca_name: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let subj = format!("/CN={ca_name}");
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days", "60", "-subj", &subj, "-keyout", "ca.key", "-out", "ca.pem",
    ]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    openssl_step(openssl, p, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ]);
    openssl_step(openssl, p, &csr);
    p.file(
        "ext.cnf",
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    );
    openssl_step(
        openssl,
        p,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "4660",
            "-days",
            "60",
            "-extfile",
            "ext.cnf",
            "-out",
            "leaf.pem",
        ],
    );
}

#[test]
fn stapled_ocsp_good_is_evidence_and_revoked_fails() {
    let Some(openssl) = require_binary("openssl", "openssl") else {
        return;
    };
    let p = Project::new();
    let path = |n: &str| p.path().join(n);
    openssl_ca_and_leaf(&openssl, &p, "OCSP CA");
    openssl_step(
        &openssl,
        &p,
        &[
            "ocsp", "-issuer", "ca.pem", "-cert", "leaf.pem", "-reqout", "req.der",
        ],
    );
    let expires = "301231235959Z";
    let revoked = (OffsetDateTime::now_utc() - DAY)
        .format(time::macros::format_description!(
            "[year repr:last_two][month][day][hour][minute][second]Z"
        ))
        .expect("time");
    let respond = |index: String, out: &str| {
        p.file("index.txt", &index);
        openssl_step(
            &openssl,
            &p,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                "ca.pem",
                "-rkey",
                "ca.key",
                "-CA",
                "ca.pem",
                "-reqin",
                "req.der",
                "-respout",
                out,
                "-ndays",
                "1",
            ],
        );
    };
    respond(
        format!("V\t{expires}\t\t1234\tunknown\t/CN=127.0.0.1\n"),
        "good.der",
    );
    respond(
        format!("R\t{expires}\t{revoked},keyCompromise\t1234\tunknown\t/CN=127.0.0.1\n"),
        "revoked.der",
    );
    let files = Files {
        ca_pem: std::fs::read_to_string(path("ca.pem")).expect("ca"),
        cert: path("leaf.pem"),
        key: path("leaf.key"),
        p: Project::new(),
    };
    for (staple, status) in [("good.der", "good"), ("revoked.der", "revoked")] {
        let status_file = path(staple).display().to_string();
        let Some(s) = openssl_server(
            &path("leaf.pem"),
            &path("leaf.key"),
            &[
                "-status_file",
                &status_file,
                "-cipher",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
            ],
        ) else {
            return;
        };
        let (code, it) = probe(&files, s.port, &[]);
        assert_eq!(it["evidence"]["ocsp_staple"]["status"], status, "{it}");
        if status == "good" {
            assert_code!((code, &it), 0);
            assert_eq!(it["status"], "pass", "{it}");
        } else {
            assert_fails_saying(code, &it, "certificate for 127.0.0.1 is revoked since ");
            assert!(
                item_message(&it)
                    .contains("reason keyCompromise, says the OCSP response the server staples"),
                "{it}"
            );
        }
    }

    // No staple is no fault.
    let Some(s) = openssl_server(
        &path("leaf.pem"),
        &path("leaf.key"),
        &["-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"],
    ) else {
        return;
    };
    let (code, it) = probe(&files, s.port, &[]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    assert_eq!(it["evidence"]["ocsp_staple"]["status"], "none", "{it}");
}

#[test]
fn stapled_ocsp_signatures_are_checked_against_the_issuer_or_its_delegated_responder() {
    let Some(openssl) = require_binary("openssl", "openssl") else {
        return;
    };
    let p = Project::new();
    let path = |n: &str| p.path().join(n);
    openssl_ca_and_leaf(&openssl, &p, "OCSP CA");
    openssl_step(
        &openssl,
        &p,
        &[
            "ocsp", "-issuer", "ca.pem", "-cert", "leaf.pem", "-reqout", "req.der",
        ],
    );
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    // A forger: a self-signed certificate of the same name as the CA, another key.
    let mut forger = vec!["req", "-x509"];
    forger.extend(ec);
    forger.extend([
        "-days",
        "60",
        "-subj",
        "/CN=OCSP CA",
        "-keyout",
        "forger.key",
        "-out",
        "forger.pem",
    ]);
    openssl_step(&openssl, &p, &forger);
    // A responder the CA delegated OCSP signing to.
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=OCSP responder",
        "-keyout",
        "responder.key",
        "-out",
        "responder.csr",
    ]);
    openssl_step(&openssl, &p, &csr);
    p.file(
        "responder.cnf",
        "extendedKeyUsage=OCSPSigning\nbasicConstraints=CA:FALSE\n",
    );
    openssl_step(
        &openssl,
        &p,
        &[
            "x509",
            "-req",
            "-in",
            "responder.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "77",
            "-days",
            "60",
            "-extfile",
            "responder.cnf",
            "-out",
            "responder.pem",
        ],
    );
    p.file(
        "index.txt",
        "V\t301231235959Z\t\t1234\tunknown\t/CN=127.0.0.1\n",
    );
    let respond = |signer: &str, out: &str| {
        openssl_step(
            &openssl,
            &p,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                &format!("{signer}.pem"),
                "-rkey",
                &format!("{signer}.key"),
                "-CA",
                "ca.pem",
                "-reqin",
                "req.der",
                "-respout",
                out,
                "-ndays",
                "1",
            ],
        );
    };
    respond("ca", "by-ca.der");
    respond("responder", "by-responder.der");
    respond("forger", "forged.der");
    let files = Files {
        ca_pem: std::fs::read_to_string(path("ca.pem")).expect("ca"),
        cert: path("leaf.pem"),
        key: path("leaf.key"),
        p: Project::new(),
    };
    for (staple, signed_by) in [
        ("by-ca.der", Some("CN=OCSP CA")),
        ("by-responder.der", Some("CN=OCSP responder")),
        ("forged.der", None),
    ] {
        let status_file = path(staple).display().to_string();
        let Some(s) = openssl_server(
            &path("leaf.pem"),
            &path("leaf.key"),
            &[
                "-status_file",
                &status_file,
                "-cipher",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
            ],
        ) else {
            return;
        };
        let (code, it) = probe(&files, s.port, &["enumerate=false"]);
        let evidence = &it["evidence"]["ocsp_staple"];
        assert_eq!(evidence["status"], "good", "{it}");
        match signed_by {
            Some(by) => {
                assert_code!((code, &it), 0);
                assert_eq!(it["status"], "pass", "{it}");
                assert_eq!(evidence["signature_checked"], true, "{it}");
                assert_eq!(evidence["signed_by"], by, "{it}");
            }
            None => {
                assert_eq!(evidence["signature_checked"], "invalid", "{it}");
                assert_fails_saying(
                    code,
                    &it,
                    "the OCSP response the server staples for 127.0.0.1 is not signed by its issuer `CN=OCSP CA` or a responder the issuer delegated to",
                );
            }
        }
    }
}

#[test]
fn reversed_chain_says_the_order_is_wrong() {
    let Some(openssl) = require_binary("openssl", "openssl") else {
        return;
    };
    let p = Project::new();
    let path = |n: &str| p.path().join(n);
    openssl_ca_and_leaf(&openssl, &p, "Reversed CA");
    // The CA's certificate (and key) first, the leaf after it: a bundle in reverse order.
    let chain_arg = path("leaf.pem").display().to_string();
    let Some(s) = openssl_server(
        &path("ca.pem"),
        &path("ca.key"),
        &["-cert_chain", &chain_arg],
    ) else {
        return;
    };
    let files = Files {
        ca_pem: std::fs::read_to_string(path("ca.pem")).expect("ca"),
        cert: path("leaf.pem"),
        key: path("leaf.key"),
        p,
    };
    let (code, it) = probe(&files, s.port, &["profile=old"]);
    assert_fails_saying(
        code,
        &it,
        "the certificates are in the wrong order: the server sends the CA certificate `CN=Reversed CA` first and its own certificate `127.0.0.1` as #2 of 2",
    );
    assert!(!item_message(&it).contains("SANs: none"), "{it}");
}

#[test]
fn a_ten_thousand_name_certificate_is_too_large_not_corrupt() {
    let Some(openssl) = require_binary("openssl", "openssl") else {
        return;
    };
    let f = ec_files();
    // 10,000 names do not fit on a command line: an openssl config file carries them.
    let names: String = (0..10_000)
        .map(|i| format!("DNS.{} = h{i}.example.com\n", i + 1))
        .collect();
    let config = f.p.file(
        "big.cnf",
        &format!(
            "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n[dn]\nCN = 127.0.0.1\n[ext]\nsubjectAltName = @alt\nbasicConstraints = CA:FALSE\n[alt]\nIP.1 = 127.0.0.1\n{names}"
        ),
    );
    let (cert, key) = (f.p.path().join("big.pem"), f.p.path().join("big.key"));
    let made = Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "60", "-config"])
        .arg(&config)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl req");
    assert!(
        made.success(),
        "openssl could not make a 10,000-name certificate"
    );
    let Some(s) = openssl_server(&cert, &key, &["-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]) else {
        return;
    };
    // Not trusted (WebPKI cannot even load it as a root): the size is what is judged here.
    let (code, it) = probe(&f, s.port, &[]);
    assert_fails_saying(code, &it, "the server's certificate message is ");
    let msg = item_message(&it);
    assert!(msg.contains("carries 10001 names"), "{msg}");
    assert!(
        msg.contains("rustls and many other clients refuse handshake messages over 64 KB"),
        "{msg}"
    );
    assert!(msg.len() < 1200, "message too long: {msg}");
    let bytes = it["evidence"]["certificate_message_bytes"]
        .as_u64()
        .unwrap_or(0);
    assert!(bytes > 100_000, "{it}");
}

fn app() -> Router {
    Router::new().route("/", get(|| async { "ok" }))
}

#[test]
fn relative_thresholds_follow_the_certificate_lifetime() {
    let ca = Pki::new("Short CA").expect("ca");
    let now = OffsetDateTime::now_utc();
    let hour = time::Duration::HOUR;
    // A 47-day certificate with 20 days left (and 10 for the second case).
    let leaf = ca
        .leaf(&["127.0.0.1"], now - DAY * 27, now + DAY * 20 + hour)
        .expect("leaf");
    let server = AppServer::start_tls(
        app(),
        pki::server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("config"),
    );
    let f = Files {
        p: Project::new(),
        ca_pem: ca.ca_pem.clone(),
        cert: PathBuf::new(),
        key: PathBuf::new(),
    };
    let port = server.addr.port();
    assert_item(probe(&f, port, &[]), 0, "warn", "warn threshold 30");
    // A third of 47 days is 15: not yet.
    let (code, it) = probe(&f, port, &["warn_before=33%", "fail_before=10%"]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    // Both forms: the one leaving fewer days (33% = 15 days) wins over 30 days.
    let (code, it) = probe(&f, port, &["warn_days=30", "warn_before=33%"]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "pass", "{it}");
    drop(server);

    let leaf = ca
        .leaf(&["127.0.0.1"], now - DAY * 37, now + DAY * 10 + hour)
        .expect("leaf");
    let server = AppServer::start_tls(
        app(),
        pki::server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("config"),
    );
    let (code, it) = probe(
        &f,
        server.addr.port(),
        &["warn_before=33%", "fail_before=10%"],
    );
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "warn", "{it}");
    assert!(
        item_message(&it).contains("expires in 10 days")
            && item_message(&it).contains("warn threshold 33% of its 47-day lifetime (15 days)"),
        "{it}"
    );

    // A percentage without its sign is refused before anything runs.
    let ran = run(f
        .p
        .cmd()
        .args(["probe", "tls", "host=127.0.0.1", "warn_before=33"]));
    assert_code!(ran, 2);
    assert!(ran.stderr.contains("percent sign"), "{}", ran.stderr);
}

#[test]
fn an_expired_extra_certificate_warns_instead_of_failing_the_chain() {
    let root = Pki::new("Current Root").expect("root");
    let now = OffsetDateTime::now_utc();
    let inter = root
        .intermediate("Current Intermediate", now - DAY, now + DAY * 400)
        .expect("intermediate");
    let leaf = inter.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    // What blackbox_exporter#340 users see: an expired cross-sign the path does not need.
    let old = Pki::new("Retired Root").expect("old root");
    let cross = old
        .intermediate("Retired Cross-Sign", now - DAY * 800, now - DAY * 30)
        .expect("cross");
    let server = AppServer::start_tls(
        app(),
        pki::server_config(
            vec![
                leaf.cert_der.clone(),
                inter.ca_der.clone(),
                cross.ca_der.clone(),
            ],
            leaf.key(),
        )
        .expect("config"),
    );
    let f = Files {
        p: Project::new(),
        ca_pem: root.ca_pem.clone(),
        cert: PathBuf::new(),
        key: PathBuf::new(),
    };
    let (code, it) = probe(&f, server.addr.port(), &[]);
    assert_code!((code, &it), 0);
    assert_eq!(it["status"], "warn", "{it}");
    let msg = item_message(&it);
    assert!(
        msg.contains("the server also sends #3 `CN=Retired Cross-Sign`"),
        "{msg}"
    );
    assert!(msg.contains("the verified path does not need it"), "{msg}");
    let ev = &it["evidence"];
    assert_eq!(ev["verified_path"], serde_json::json!([1, 2]), "{ev}");
    // Expiry is the path's (the 90-day leaf), not the expired extra.
    assert_eq!(ev["earliest_expiring"]["position"], 1, "{ev}");
    assert!(!msg.contains("expired 30 days ago"), "{msg}");
    assert_eq!(ev["extra_certificates"][0]["position"], 3, "{ev}");
}

#[test]
fn a_plain_text_port_is_named_as_such() {
    use std::io::{Read, Write};
    let server = RawServer::start(|mut s| {
        let mut buf = [0u8; 512];
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let f = Files {
        p: Project::new(),
        ca_pem: Pki::new("Unused CA").expect("ca").ca_pem,
        cert: PathBuf::new(),
        key: PathBuf::new(),
    };
    let (code, it) = probe(&f, server.addr.port(), &[]);
    assert_fails_saying(
        code,
        &it,
        "the port answers in plain text, not TLS (`HTTP/…`)",
    );
    assert!(
        item_message(&it).starts_with(&format!(
            "127.0.0.1:{}: TLS handshake failed",
            server.addr.port()
        )),
        "{it}"
    );
}

#[test]
fn tolerated_legacy_versions_are_enumerated_too() {
    let f = ec_files();
    let Some(s) = gnutls_server(&f.cert, &f.key, "NORMAL:+VERS-TLS1.0:+ARCFOUR-128") else {
        return;
    };
    let (code, it) = probe(&f, s.port, &["profile=old", "allow_legacy=true"]);
    assert_fails_saying(
        code,
        &it,
        "server accepts RC4 on TLSv1.0 (TLS_ECDHE_ECDSA_WITH_RC4_128_SHA), outside the Mozilla old profile",
    );
    assert!(!item_message(&it).contains("allow_legacy is false"), "{it}");
    let tls10 = it["evidence"]["tls10_suites"]["accepted"].to_string();
    assert!(
        tls10.contains("TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"),
        "{tls10}"
    );

    // Not tolerated: the version itself is the failure, its suites are not walked.
    let (code, it) = probe(&f, s.port, &["profile=old"]);
    assert_fails_saying(
        code,
        &it,
        "server still accepts TLSv1.0 (allow_legacy is false)",
    );
    assert!(it["evidence"]["tls10_suites"].is_null(), "{it}");
}
