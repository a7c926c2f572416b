//! Connections keep to `--per-host`: a `tls` item's handshake, legacy versions, suite scans
//! and post-quantum hellos, and each `tcp` (like `redis`, `postgres`, `websocket`, `grpc`)
//! connection, hold one of the host's slots while open, shared with the run's other items on
//! the host; the verdict does not change with the limit.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::handshakes::ec_files;
use crate::support::*;

/// How long the relay holds the upstream's first answer on each connection: a slow host, so
/// connections prodcheck really holds at once overlap by this much.
const SLOW: Duration = Duration::from_millis(100);
/// How late the relay may notice that prodcheck closed a connection (thread wake-ups): an
/// overlap shorter than this is that lag, not two connections held at once.
const LAG: Duration = Duration::from_millis(40);

/// A relay on 127.0.0.1 to a slow `upstream` that records when each connection opened and
/// when prodcheck closed it.
struct CountingRelay {
    server: RawServer,
    spans: Arc<Mutex<Vec<(Instant, Instant)>>>,
}

impl CountingRelay {
    fn start(upstream: SocketAddr) -> Self {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let spans2 = spans.clone();
        let server = RawServer::start(move |client| {
            let opened = Instant::now();
            let closed = relay(client, upstream);
            if let Ok(mut spans) = spans2.lock() {
                spans.push((opened, closed));
            }
        });
        CountingRelay { server, spans }
    }

    /// The most connections open at one moment, each counted as closed `LAG` early.
    fn peak(&self) -> usize {
        let spans = self.spans.lock().map(|s| s.clone()).unwrap_or_default();
        spans
            .iter()
            .map(|(at, _)| {
                spans
                    .iter()
                    .filter(|(o, c)| o <= at && c.checked_sub(LAG).is_some_and(|c| c > *at))
                    .count()
                    .max(1)
            })
            .max()
            .unwrap_or(0)
    }
}

/// Copies both ways until prodcheck closes its side (each read bounded by a timeout), the
/// upstream's first answer held back by [`SLOW`]; when prodcheck closed it.
fn relay(client: TcpStream, upstream: SocketAddr) -> Instant {
    let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) else {
        return Instant::now();
    };
    for s in [&client, &server] {
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    }
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return Instant::now();
    };
    let back = std::thread::spawn(move || pump(server2, client2, SLOW));
    pump(client, server, Duration::ZERO);
    let closed = Instant::now();
    let _ = back.join();
    closed
}

fn pump(mut from: TcpStream, mut to: TcpStream, first_delay: Duration) {
    let mut buf = [0u8; 16 * 1024];
    let mut delay = first_delay;
    while let Ok(n) = from.read(&mut buf) {
        std::thread::sleep(std::mem::take(&mut delay));
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// `count` items of `check` (a YAML flow mapping with `{port}` and `{ca}` for the relay's
/// port and the CA file) against the relay in front of `openssl s_server`, run with
/// `per_host`: the report and the relay's peak of connections open at once.
fn run_with(check: &str, count: usize, per_host: &str) -> (serde_json::Value, usize) {
    let f = ec_files();
    let Some(server) = openssl_server(&f.cert, &f.key, &[]) else {
        panic!("openssl s_server did not start");
    };
    let relay = CountingRelay::start(SocketAddr::from(([127, 0, 0, 1], server.port)));
    let ca = f.p.file("ca.pem", &f.ca_pem);
    let check = check
        .replace("{port}", &relay.server.addr.port().to_string())
        .replace("{ca}", &ca.display().to_string());
    let items: String = (0..count)
        .map(|i| {
            format!(
                "      - id: item-{i}\n        title: item {i}\n        timeout: 20s\n        check: {check}\n"
            )
        })
        .collect();
    f.p.file(
        "per-host.yaml",
        &format!("name: per-host\nsections:\n  - name: S\n    items:\n{items}"),
    );
    let ran = run(f.p.cmd().args([
        "run",
        "per-host.yaml",
        "--report",
        "json",
        "--per-host",
        per_host,
    ]));
    (json(&ran), relay.peak())
}

const TLS: &str = r#"{ tls: { host: 127.0.0.1, port: {port}, ca_file: "{ca}" } }"#;

#[test]
fn tls_items_open_no_more_connections_at_once_than_per_host_and_judge_alike() {
    let (one, peak_one) = run_with(TLS, 2, "1");
    let (two, peak_two) = run_with(TLS, 2, "2");
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
    for id in ["item-0", "item-1"] {
        assert_eq!(item(&one, id)["status"], "warn", "{one:#}");
        assert!(
            item_message(item(&one, id)).contains("CBC suites"),
            "{one:#}"
        );
        assert_eq!(said(&one, id), said(&two, id));
    }
}

#[test]
fn connection_probes_on_one_host_take_turns_within_per_host() {
    // Six `tcp` items with a TLS handshake each: one connection at a time with
    // `--per-host 1`, every item still passing.
    let check = r#"{ tcp: { host: 127.0.0.1, port: {port}, tls: true, ca_file: "{ca}" } }"#;
    let (report, peak) = run_with(check, 6, "1");
    assert_eq!(peak, 1, "{report:#}");
    for i in 0..6 {
        assert_eq!(
            item(&report, &format!("item-{i}"))["status"],
            "pass",
            "{report:#}"
        );
    }
}
