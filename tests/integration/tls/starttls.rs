//! `tls` with `starttls:` against a small SMTP/IMAP/POP3 server written here (the plain-text
//! exchange, then rustls with an rcgen certificate) and the real PostgreSQL with `ssl=on`.

use std::sync::Arc;

use prodcheck::demo::pki::{self, Leaf, Pki};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::start_postgres;
use crate::support::*;

/// Which dialogue the in-test server speaks before TLS.
#[derive(Clone, Copy)]
enum Dialogue {
    Smtp,
    Imap,
    /// SMTP whose EHLO does not list STARTTLS.
    SmtpWithout,
}

/// A server on 127.0.0.1 speaking `dialogue`, then TLS with `leaf` (as rustls serves it).
fn serve(dialogue: Dialogue, leaf: &Leaf) -> Background {
    let config = Arc::new(
        pki::server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("server config"),
    );
    Background::spawn(move || async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let serve = async move {
            // Bounded: the probe opens a few dozen connections (scans), never this many.
            for _ in 0..500 {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    if talk(dialogue, &mut stream).await.is_some() {
                        let _ = acceptor.accept(stream.into_inner()).await;
                    }
                });
            }
        };
        (addr, Box::pin(serve) as _)
    })
}

/// The plain-text part; `Some` when the client may start TLS.
async fn talk(d: Dialogue, s: &mut BufReader<tokio::net::TcpStream>) -> Option<()> {
    let mut line = String::new();
    match d {
        Dialogue::Smtp | Dialogue::SmtpWithout => {
            s.write_all(b"220 mx.test ESMTP ready\r\n").await.ok()?;
            s.read_line(&mut line).await.ok()?;
            if !line.starts_with("EHLO") {
                return None;
            }
            let caps: &[u8] = match d {
                Dialogue::Smtp => b"250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
                _ => b"250-mx.test\r\n250 PIPELINING\r\n",
            };
            s.write_all(caps).await.ok()?;
            line.clear();
            s.read_line(&mut line).await.ok()?;
            if line.trim() != "STARTTLS" {
                return None;
            }
            s.write_all(b"220 2.0.0 Ready to start TLS\r\n")
                .await
                .ok()?;
        }
        Dialogue::Imap => {
            s.write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
                .await
                .ok()?;
            s.read_line(&mut line).await.ok()?;
            let tag = line.split(' ').next()?.to_string();
            if !line.contains("STARTTLS") {
                return None;
            }
            s.write_all(format!("{tag} OK Begin TLS negotiation now\r\n").as_bytes())
                .await
                .ok()?;
        }
    }
    Some(())
}

/// `prodcheck probe tls` with `params`: (exit code, the item).
fn probe(p: &Project, params: &[String]) -> (i32, serde_json::Value) {
    let mut cmd = p.cmd();
    cmd.args(["probe", "tls", "--timeout", "10s", "--report", "json"])
        .args(params);
    let ran = run(&mut cmd);
    let report = json(&ran);
    (ran.code, item(&report, "tls").clone())
}

fn params(p: &Project, port: u16, ca_pem: &str, starttls: &str) -> Vec<String> {
    let ca = p.file("ca.pem", ca_pem);
    vec![
        "host=127.0.0.1".into(),
        format!("port={port}"),
        format!("ca_file={}", ca.display()),
        format!("starttls={starttls}"),
    ]
}

fn msg(it: &serde_json::Value) -> String {
    it["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn smtp_and_imap_behind_starttls_get_every_judgement() {
    let ca = Pki::new("Mail CA").expect("ca");
    let leaf = ca.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let p = Project::new();
    for (dialogue, name) in [(Dialogue::Smtp, "smtp"), (Dialogue::Imap, "imap")] {
        let server = serve(dialogue, &leaf);
        let (code, it) = probe(&p, &params(&p, server.addr.port(), &ca.ca_pem, name));
        assert_eq!((code, it["status"].as_str()), (0, Some("pass")), "{it}");
        assert_eq!(it["evidence"]["starttls"], name, "{it}");
        assert_eq!(it["evidence"]["version"], "TLSv1.3", "{it}");
        assert_eq!(it["evidence"]["chain_verified"], true, "{it}");
        // The suite scan ran behind STARTTLS too: rustls accepts TLS 1.2 ECDHE suites.
        let accepted = it["evidence"]["tls12_suites"]["accepted"]
            .as_array()
            .cloned();
        assert!(
            accepted.is_some_and(|a| !a.is_empty()),
            "no TLS 1.2 suite found behind STARTTLS: {it}"
        );
        assert!(msg(&it).contains("TLSv1.3"), "{it}");
    }
}

#[test]
fn expired_certificate_behind_smtp_starttls_fails() {
    let ca = Pki::new("Mail CA").expect("ca");
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::DAY;
    let leaf = ca
        .leaf(&["127.0.0.1"], now - day * 100, now - day * 3)
        .expect("leaf");
    let server = serve(Dialogue::Smtp, &leaf);
    let p = Project::new();
    let (code, it) = probe(&p, &params(&p, server.addr.port(), &ca.ca_pem, "smtp"));
    assert_eq!((code, it["status"].as_str()), (1, Some("fail")), "{it}");
    assert!(msg(&it).contains("expired 3 days ago"), "{it}");
    assert_eq!(it["evidence"]["starttls"], "smtp", "{it}");
}

#[test]
fn smtp_without_starttls_and_plain_tls_port_are_told_apart() {
    let ca = Pki::new("Mail CA").expect("ca");
    let leaf = ca.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let server = serve(Dialogue::SmtpWithout, &leaf);
    let p = Project::new();
    let (code, it) = probe(&p, &params(&p, server.addr.port(), &ca.ca_pem, "smtp"));
    assert_eq!((code, it["status"].as_str()), (1, Some("fail")), "{it}");
    assert!(
        msg(&it).contains("SMTP STARTTLS at 127.0.0.1:")
            && msg(&it).contains("does not offer STARTTLS in its EHLO reply"),
        "{it}"
    );
    assert_eq!(it["evidence"]["no_answer"], "tls_rejected", "{it}");
}

#[test]
fn postgres_with_ssl_on_is_judged_after_its_sslrequest() {
    let Some((pg, ca)) = start_postgres(true) else {
        return;
    };
    let ca_pem = std::fs::read_to_string(ca.expect("ca written")).expect("read ca");
    let p = Project::new();
    let (code, it) = probe(&p, &params(&p, pg.port, &ca_pem, "postgres"));
    // PostgreSQL's default ssl_ciphers (HIGH:MEDIUM:+3DES:!aNULL) accept CBC suites: the suite
    // scan ran behind an SSLRequest per connection and the intermediate profile judged it:
    // outside intermediate but inside old is the warning tier.
    assert_eq!((code, it["status"].as_str()), (0, Some("warn")), "{it}");
    assert!(
        msg(&it).contains("server accepts CBC suites on TLSv1.2")
            && msg(&it).contains("outside the Mozilla intermediate profile")
            && msg(&it).contains("tier old-only: warn"),
        "{it}"
    );
    assert_eq!(it["evidence"]["chain_verified"], true, "{it}");
    assert_eq!(it["evidence"]["starttls"], "postgres", "{it}");
    assert_eq!(it["evidence"]["version"], "TLSv1.3", "{it}");
    let mut old = params(&p, pg.port, &ca_pem, "postgres");
    old.push("profile=old".into());
    let (code, it) = probe(&p, &old);
    assert_eq!((code, it["status"].as_str()), (0, Some("pass")), "{it}");
    // Without STARTTLS the same port is no TLS server at all.
    let mut plain = params(&p, pg.port, &ca_pem, "postgres");
    plain.pop();
    let (code, it) = probe(&p, &plain);
    assert_eq!(code, 1, "{it}");
    assert!(msg(&it).contains("TLS handshake failed"), "{it}");
}
