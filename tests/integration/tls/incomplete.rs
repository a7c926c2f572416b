//! A TLS server that misbehaves on purpose in the middle of the suite enumeration: a raw TCP
//! front on 127.0.0.1 reads each ClientHello, passes real clients (rustls) to a rustls server,
//! and closes or stalls prodcheck's hand-written hellos once a walk is under way. Such a scan
//! is incomplete, so the item must never pass, and must say the same thing every time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use prodcheck::demo::pki::{self, Pki};

use crate::support::*;

/// What the front does with a hand-written hello it does not pass on.
#[derive(Clone, Copy)]
enum Misbehave {
    /// Close the connection without an alert.
    Close,
    /// Hold the connection open and never answer (until the client gives up).
    Stall,
}

/// The client random prodcheck's hand-written hellos carry (`i * 37 + 11`).
fn hand_written(random: &[u8]) -> bool {
    random.len() == 32
        && random
            .iter()
            .enumerate()
            .all(|(i, b)| *b == (i as u8).wrapping_mul(37).wrapping_add(11))
}

/// Reads one TLS record (header and payload), bounded by the record length field.
fn read_record(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 5];
    s.read_exact(&mut header).ok()?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut record = header.to_vec();
    record.resize(5 + len, 0);
    s.read_exact(&mut record[5..]).ok()?;
    Some(record)
}

/// Whether a ClientHello record is prodcheck's hand-written one that the front should spoil:
/// every legacy-version hello, and every TLS 1.2 hello except those offering
/// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (the first one of the ECDHE walk, which finds one
/// suite; the walk's next step is then spoiled, i.e. mid-enumeration).
fn spoil(record: &[u8]) -> bool {
    let hello = &record[5.min(record.len())..];
    let (Some(version), Some(random)) = (hello.get(4..6), hello.get(6..38)) else {
        return false;
    };
    if !hand_written(random) {
        return false;
    }
    if version != [3, 3] {
        return true;
    }
    let sid = usize::from(hello.get(38).copied().unwrap_or(0));
    let at = 39 + sid;
    let Some(len) = hello.get(at..at + 2) else {
        return true;
    };
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    let suites = hello.get(at + 2..at + 2 + len).unwrap_or_default();
    !suites.chunks(2).any(|c| c == [0xc0, 0x2b])
}

/// Copies `from` into `to` until either side closes (reads time out after 10 s).
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let _ = from.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// The front: passes connections to `backend` unless the first record is a hello to spoil.
fn front(backend: SocketAddr, how: Misbehave, spoiled: Arc<AtomicUsize>) -> RawServer {
    RawServer::start(move |mut client| {
        let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
        let Some(first) = read_record(&mut client) else {
            return;
        };
        if spoil(&first) {
            spoiled.fetch_add(1, Ordering::Relaxed);
            match how {
                Misbehave::Close => drop(client),
                Misbehave::Stall => {
                    // Silent until the client gives up (read returns 0) or 30 s pass.
                    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
                    let mut buf = [0u8; 512];
                    while let Ok(n) = client.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                    }
                }
            }
            return;
        }
        let Ok(mut server) = TcpStream::connect(backend) else {
            return;
        };
        if server.write_all(&first).is_err() {
            return;
        }
        let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
            return;
        };
        let back = std::thread::spawn(move || pump(s2, c2));
        pump(client, server);
        let _ = back.join();
    })
}

struct Bed {
    p: Project,
    ca: String,
    _server: AppServer,
    backend: SocketAddr,
}

fn bed() -> Bed {
    let ca = Pki::new("Incomplete CA").expect("ca");
    let leaf = ca.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let config =
        pki::server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("server config");
    let app = Router::new().route("/", get(|| async { "ok" }));
    let server = AppServer::start_tls(app, config);
    let p = Project::new();
    let path = p.file("ca.pem", &ca.ca_pem);
    Bed {
        backend: server.addr,
        ca: path.display().to_string(),
        p,
        _server: server,
    }
}

/// `prodcheck probe tls` against 127.0.0.1:`port` with a `timeout`: (status, message).
fn probe(b: &Bed, port: u16, timeout: &str) -> (String, String) {
    let mut cmd = b.p.cmd();
    cmd.args(["probe", "tls", "--timeout", timeout, "--report", "json"])
        .arg("host=127.0.0.1")
        .arg(format!("port={port}"))
        .arg(format!("ca_file={}", b.ca));
    let ran = run(&mut cmd);
    let report = json(&ran);
    let it = item(&report, "tls");
    let status = it["status"].as_str().unwrap_or_default().to_string();
    (
        status,
        it["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn the_server_behind_the_front_passes_when_nothing_is_spoiled() {
    let b = bed();
    let (status, message) = probe(&b, b.backend.port(), "5s");
    assert_eq!(status, "pass", "{message}");
}

#[test]
fn a_server_closing_mid_enumeration_never_passes_and_says_what_was_not_checked() {
    let b = bed();
    let spoiled = Arc::new(AtomicUsize::new(0));
    let f = front(b.backend, Misbehave::Close, spoiled.clone());
    let mut verdicts = Vec::new();
    for _ in 0..10 {
        let (status, message) = probe(&b, f.addr.port(), "5s");
        assert!(
            message.contains("TLSv1.2 suite enumeration incomplete"),
            "{message}"
        );
        assert!(
            message.contains(
                "ECDHE AEAD suites: connection closed without an alert (twice) after 1 found"
            ),
            "{message}"
        );
        // Closed twice on a legacy hello is a refusal, not a stall: no legacy error.
        assert!(!message.contains("could not tell whether"), "{message}");
        verdicts.push(status);
    }
    assert!(
        spoiled.load(Ordering::Relaxed) > 10,
        "the front spoiled nothing"
    );
    assert!(verdicts.iter().all(|v| v == "error"), "{verdicts:?}");
}

#[test]
fn a_server_stalling_mid_enumeration_never_passes_and_says_what_was_not_checked() {
    let b = bed();
    let spoiled = Arc::new(AtomicUsize::new(0));
    let f = front(b.backend, Misbehave::Stall, spoiled.clone());
    let mut verdicts = Vec::new();
    for _ in 0..10 {
        let (status, message) = probe(&b, f.addr.port(), "2s");
        assert!(
            message.contains("TLSv1.2 suite enumeration incomplete"),
            "{message}"
        );
        assert!(message.contains("no answer within"), "{message}");
        assert!(
            message.contains("could not tell whether the server accepts TLSv1.0"),
            "{message}"
        );
        verdicts.push(status);
    }
    assert!(
        spoiled.load(Ordering::Relaxed) > 10,
        "the front spoiled nothing"
    );
    assert!(verdicts.iter().all(|v| v == "error"), "{verdicts:?}");
}
