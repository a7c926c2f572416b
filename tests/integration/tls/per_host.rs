//! The `tls` probe keeps to `--per-host`: its handshake, legacy versions, suite scans and
//! post-quantum hellos all hold one of the host's slots while open, shared with the run's
//! other items on the host, and the verdict does not change with the limit.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::handshakes::ec_files;
use crate::support::*;

/// A relay on 127.0.0.1 to `upstream` that counts the connections open through it at once.
struct CountingRelay {
    server: RawServer,
    peak: Arc<AtomicUsize>,
}

impl CountingRelay {
    fn start(upstream: SocketAddr) -> Self {
        let open = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (open2, peak2) = (open.clone(), peak.clone());
        let server = RawServer::start(move |client| {
            let now = open2.fetch_add(1, Ordering::SeqCst) + 1;
            peak2.fetch_max(now, Ordering::SeqCst);
            relay(client, upstream);
            open2.fetch_sub(1, Ordering::SeqCst);
        });
        CountingRelay { server, peak }
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// Copies both ways until either side closes (each read bounded by a timeout).
fn relay(client: TcpStream, upstream: SocketAddr) {
    let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) else {
        return;
    };
    for s in [&client, &server] {
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    }
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let back = std::thread::spawn(move || pump(server2, client2));
    pump(client, server);
    let _ = back.join();
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Two `tls` items on the relay's host (the enumeration and the post-quantum hellos on), run
/// with `per_host`: the report and the relay's peak of connections open at once.
fn run_with(per_host: &str) -> (serde_json::Value, usize) {
    let f = ec_files();
    let Some(server) = openssl_server(&f.cert, &f.key, &[]) else {
        panic!("openssl s_server did not start");
    };
    let relay = CountingRelay::start(SocketAddr::from(([127, 0, 0, 1], server.port)));
    let ca = f.p.file("ca.pem", &f.ca_pem);
    let port = relay.server.addr.port();
    let item = |id: &str| {
        format!(
            "      - id: {id}\n        title: {id}\n        timeout: 20s\n        check: {{ tls: {{ host: 127.0.0.1, port: {port}, ca_file: \"{}\", require_pq: false }} }}\n",
            ca.display()
        )
    };
    f.p.file(
        "tls.yaml",
        &format!(
            "name: tls-per-host\nsections:\n  - name: TLS\n    items:\n{}{}",
            item("tls-a"),
            item("tls-b")
        ),
    );
    let ran = run(f.p.cmd().args([
        "run",
        "tls.yaml",
        "--report",
        "json",
        "--per-host",
        per_host,
    ]));
    (json(&ran), relay.peak())
}

#[test]
fn tls_items_open_no_more_connections_at_once_than_per_host_and_judge_alike() {
    let (one, peak_one) = run_with("1");
    let (two, peak_two) = run_with("2");
    assert_eq!(peak_one, 1, "--per-host 1: {one:#}");
    assert!(
        (1..=2).contains(&peak_two),
        "--per-host 2 opened {peak_two} at once: {two:#}"
    );
    // The limit changes how long the items take, never what they say: s_server's CBC suites
    // are found by the full scan under either limit (a `warn`, inside Mozilla's old profile).
    let said = |report: &serde_json::Value, id: &str| {
        let it = item(report, id);
        let message = item_message(it);
        let after_port = message
            .split_once(": ")
            .map_or(message.clone(), |(_, m)| m.to_string());
        (
            it["status"].clone(),
            after_port,
            it["evidence"]["post_quantum"].clone(),
        )
    };
    for id in ["tls-a", "tls-b"] {
        assert_eq!(item(&one, id)["status"], "warn", "{one:#}");
        assert!(
            item_message(item(&one, id)).contains("CBC suites"),
            "{one:#}"
        );
        assert_eq!(said(&one, id), said(&two, id));
    }
}
