//! Stapled OCSP freshness and identity: `openssl s_server -status_file` staples a response
//! built here (signed by the CA with `openssl dgst`), fresh, stale (`nextUpdate` passed) or
//! about a certificate of another issuer (CertID hashes of another CA, same serial), judged
//! by `ocsp_staple: lenient` (warn, default) and `strict` (fail).

use std::process::{Command, Stdio};

use time::OffsetDateTime;

use crate::support::openssl_server;
use crate::support::*;
use crate::tls::handshakes::{Files, openssl_ca_and_leaf, openssl_step, probe};

/// One DER element.
fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match body.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(body);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

fn generalized(t: OffsetDateTime) -> Vec<u8> {
    let text = t
        .format(time::macros::format_description!(
            "[year][month][day][hour][minute][second]Z"
        ))
        .expect("time");
    der(0x18, text.as_bytes())
}

/// (tag, whole element, contents, rest) of the first element of `input`.
fn element(input: &[u8]) -> (u8, &[u8], &[u8], &[u8]) {
    let (tag, first) = (input[0], input[1]);
    let (len, start) = match first {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => (usize::from(input[2]), 3),
        _ => (usize::from(u16::from_be_bytes([input[2], input[3]])), 4),
    };
    (
        tag,
        &input[..start + len],
        &input[start..start + len],
        &input[start + len..],
    )
}

/// The CertID (whole DER) of the first request of an OCSPRequest made by `openssl ocsp`.
fn cert_id(request: &[u8]) -> Vec<u8> {
    let (_, _, ocsp_request, _) = element(request);
    let (_, _, tbs, _) = element(ocsp_request);
    let mut rest = tbs;
    // Skip the optional [0] version and [1] requestorName.
    while rest[0] & 0xc0 == 0x80 {
        rest = element(rest).3;
    }
    let (_, _, list, _) = element(rest);
    let (_, _, one, _) = element(list);
    element(one).1.to_vec()
}

/// A good-status response about `id` valid from `this` to `next`, signed with `ca.key` in `p`.
fn response(p: &Project, id: &[u8], this: OffsetDateTime, next: OffsetDateTime) -> Vec<u8> {
    let now = OffsetDateTime::now_utc();
    let single = seq(&[
        id,
        &[0x80, 0x00],
        &generalized(this),
        &der(0xa0, &generalized(next)),
    ]);
    let tbs = seq(&[
        &der(0xa2, &der(0x04, &[7u8; 20])),
        &generalized(now),
        &seq(&[&single]),
    ]);
    std::fs::write(p.path().join("tbs.der"), &tbs).expect("write tbs");
    let openssl = require_binary("openssl", "openssl").expect("openssl");
    let signed = Command::new(openssl)
        .current_dir(p.path())
        .args([
            "dgst", "-sha256", "-sign", "ca.key", "-out", "sig.bin", "tbs.der",
        ])
        .stderr(Stdio::null())
        .status()
        .expect("openssl dgst");
    assert!(signed.success(), "openssl dgst -sign");
    let sig = std::fs::read(p.path().join("sig.bin")).expect("sig");
    let ecdsa_sha256 = der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
    let basic = seq(&[
        &tbs,
        &seq(&[&ecdsa_sha256]),
        &der(0x03, &[&[0u8][..], &sig].concat()),
    ]);
    let ocsp_basic = der(
        0x06,
        &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01],
    );
    seq(&[
        &[0x0a, 0x01, 0x00],
        &der(0xa0, &seq(&[&ocsp_basic, &der(0x04, &basic)])),
    ])
}

#[test]
fn stale_and_mismatched_staples_are_judged_by_the_rule() {
    let Some(openssl) = require_binary("openssl", "openssl") else {
        return;
    };
    let p = Project::new();
    let path = |n: &str| p.path().join(n);
    openssl_ca_and_leaf(&openssl, &p, "Staple CA");
    // Another CA, only for its name and key hashes in a CertID with the leaf's serial.
    openssl_step(
        &openssl,
        &p,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "60",
            "-subj",
            "/CN=Other CA",
            "-keyout",
            "other.key",
            "-out",
            "other.pem",
        ],
    );
    for (issuer, out) in [("ca.pem", "req.der"), ("other.pem", "other-req.der")] {
        openssl_step(
            &openssl,
            &p,
            &[
                "ocsp", "-issuer", issuer, "-cert", "leaf.pem", "-reqout", out,
            ],
        );
    }
    let ours = cert_id(&std::fs::read(path("req.der")).expect("req"));
    let theirs = cert_id(&std::fs::read(path("other-req.der")).expect("req"));
    assert_ne!(ours, theirs);
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::DAY;
    let staples = [
        ("fresh", response(&p, &ours, now - day, now + day)),
        ("stale", response(&p, &ours, now - day * 3, now - day)),
        ("mismatched", response(&p, &theirs, now - day, now + day)),
    ];
    let files = Files {
        ca_pem: std::fs::read_to_string(path("ca.pem")).expect("ca"),
        cert: path("leaf.pem"),
        key: path("leaf.key"),
        p: Project::new(),
    };
    for (name, bytes) in staples {
        let file = p.file(&format!("{name}.der"), "");
        std::fs::write(&file, &bytes).expect("write staple");
        let status_file = file.display().to_string();
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
        for (rule, status) in [("lenient", "warn"), ("strict", "fail"), ("off", "pass")] {
            let (_, it) = probe(&files, s.port, &[&format!("ocsp_staple={rule}")]);
            let msg = it["message"].as_str().unwrap_or_default();
            let ev = &it["evidence"]["ocsp_staple"];
            assert_eq!(ev["signature_checked"], true, "{name}: {it}");
            match name {
                "fresh" => {
                    assert_eq!(it["status"], "pass", "{name}/{rule}: {it}");
                    assert_eq!(
                        (&ev["fresh"], &ev["issuer_matches"]),
                        (&true.into(), &true.into()),
                        "{ev}"
                    );
                }
                "stale" => {
                    assert_eq!(it["status"], status, "{name}/{rule}: {it}");
                    assert_eq!(ev["fresh"], false, "{ev}");
                    if rule != "off" {
                        assert!(
                            msg.contains("the OCSP response the server staples for 127.0.0.1 is stale: its nextUpdate"),
                            "{msg}"
                        );
                        assert!(msg.contains(&format!("(ocsp_staple: {rule})")), "{msg}");
                    }
                }
                _ => {
                    assert_eq!(it["status"], status, "{name}/{rule}: {it}");
                    assert_eq!(ev["issuer_matches"], false, "{ev}");
                    if rule != "off" {
                        assert!(
                            msg.contains("is about a certificate of another issuer (its issuer name and key hashes are not those of `CN=Staple CA`)"),
                            "{msg}"
                        );
                    }
                }
            }
        }
    }
}
