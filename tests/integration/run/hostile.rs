//! Hostile targets: servers on 127.0.0.1 that misbehave on purpose. Each item must end `fail`
//! or `error` with a message naming the cause, within its timeout plus one second, while the
//! rest of the run goes on.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::Duration;

use crate::support::*;

const TIMEOUT_MS: u64 = 2000;

/// Reads the request head (bounded), so that closing the socket later is a clean FIN.
fn read_request(s: &mut TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 8192];
    let mut seen = Vec::new();
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if seen.windows(4).any(|w| w == b"\r\n\r\n") || seen.len() > 65536 {
            break;
        }
    }
}

/// Runs a checklist with the hostile item and a control item that must still pass.
fn run_hostile(check: &str) -> serde_json::Value {
    run_hostile_within(check, TIMEOUT_MS)
}

/// As `run_hostile`, with the item's timeout in milliseconds.
fn run_hostile_within(check: &str, timeout_ms: u64) -> serde_json::Value {
    let control =
        AppServer::start(axum::Router::new().route("/ok", axum::routing::get(|| async { "ok" })));
    let p = Project::new();
    let file = p.file(
        "c.yaml",
        &format!(
            "name: hostile\nsections:\n  - name: S\n    items:\n      - id: hostile\n        title: Hostile\n        timeout: {timeout_ms}ms\n        check: {check}\n      - id: control\n        title: Control\n        check: {{ http: {{ url: \"{}\" }} }}\n",
            control.url("/ok")
        ),
    );
    let ran = p.run_json(&file);
    let report = json(&ran);
    assert_eq!(
        item(&report, "control")["status"],
        "pass",
        "the run goes on: {report}"
    );
    let hostile = item(&report, "hostile").clone();
    assert!(
        matches!(hostile["status"].as_str(), Some("fail" | "error")),
        "{hostile}"
    );
    let took = hostile["duration_ms"].as_u64().unwrap_or(u64::MAX);
    assert!(took <= timeout_ms + 1000, "took {took} ms: {hostile}");
    hostile
}

fn message(item: &serde_json::Value) -> String {
    item["message"].as_str().unwrap_or_default().to_lowercase()
}

fn http(url: &str, extra: &str) -> String {
    format!("{{ http: {{ url: \"{url}\"{extra} }} }}")
}

#[test]
fn accepts_and_never_answers() {
    let s = RawServer::silent();
    let it = run_hostile(&http(&s.url("/"), ""));
    assert!(message(&it).contains("timed out"), "{it}");
}

#[test]
fn headers_then_a_stalled_body() {
    let s = RawServer::start(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst bytes");
        sleep(Duration::from_secs(30));
    });
    let it = run_hostile(&http(&s.url("/"), ""));
    let m = message(&it);
    assert!(m.contains("status 200") && m.contains("timed out"), "{it}");
}

#[test]
fn reset_mid_response() {
    let s = RawServer::start(|mut s| {
        // Leaving the request unread makes the close an RST.
        sleep(Duration::from_millis(100));
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
        drop(s);
    });
    let it = run_hostile(&http(&s.url("/"), ""));
    let m = message(&it);
    assert!(
        m.contains("reset") || m.contains("body read failed") || m.contains("connection"),
        "{it}"
    );
}

#[test]
fn a_200_megabyte_body_is_read_no_further_than_max_body() {
    let s = RawServer::start(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n");
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..200 {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let it = run_hostile(&http(&s.url("/"), ", expect: { body_contains: needle }"));
    assert!(message(&it).contains("truncated at max_body"), "{it}");
    assert_eq!(it["evidence"]["body_bytes"], 1 << 20);
}

#[test]
fn a_megabyte_of_headers() {
    let s = RawServer::start(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        let line = format!("x-filler: {}\r\n", "h".repeat(1000));
        for _ in 0..1024 {
            if s.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
        let _ = s.write_all(b"Content-Length: 0\r\n\r\n");
    });
    let it = run_hostile(&http(&s.url("/"), ""));
    assert!(
        message(&it).contains("too large") || message(&it).contains("header"),
        "{it}"
    );
}

#[test]
fn a_gzip_bomb_is_never_decompressed() {
    // 10 MB of zeros compress to ~10 KB; prodcheck asks for no compression and decodes none.
    let mut bomb = Vec::new();
    {
        let mut gz = GzipZeros::new(&mut bomb);
        gz.write_zeros(10 << 20);
    }
    let s = RawServer::start(move |mut s| {
        read_request(&mut s);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            bomb.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&bomb);
    });
    let it = run_hostile(&http(&s.url("/"), ", expect: { body_contains: healthy }"));
    let m = message(&it);
    assert!(
        m.contains("gzip") && m.contains("does not decompress"),
        "{it}"
    );
    assert!(
        it["evidence"]["body_bytes"].as_u64().unwrap_or(u64::MAX) < 1 << 20,
        "{it}"
    );
}

#[test]
fn a_redirect_loop() {
    let s = RawServer::respond(
        b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    );
    // A generous budget: the cause under test is the loop, not the clock.
    let it = run_hostile_within(&http(&s.url("/loop"), ", max_redirects: 3"), 8000);
    assert!(message(&it).contains("too many redirects"), "{it}");
}

#[test]
fn a_redirect_to_another_host_is_reported() {
    let target = AppServer::start(
        axum::Router::new().route("/x", axum::routing::get(|| async { "elsewhere" })),
    );
    let location = format!("http://localhost:{}/x", target.addr.port());
    let s = RawServer::start(move |mut s| {
        read_request(&mut s);
        let _ = s.write_all(
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        );
    });
    // Followed (within max_redirects) and reported; the expectation on the body then fails.
    let it = run_hostile_within(
        &http(&s.url("/"), ", expect: { body_contains: home }"),
        8000,
    );
    assert!(
        message(&it).contains("redirected to another host `localhost`"),
        "{it}"
    );
    // Not followed when redirects are off: the 302 itself is the answer.
    let it = run_hostile(&http(&s.url("/"), ", follow_redirects: false"));
    assert!(message(&it).contains("got 302"), "{it}");
}

#[test]
fn a_tls_handshake_that_stalls() {
    let s = RawServer::silent();
    let it = run_hostile(&format!(
        "{{ http: {{ url: \"https://127.0.0.1:{}/\" }} }}",
        s.addr.port()
    ));
    assert!(message(&it).contains("timed out"), "{it}");
    let it = run_hostile(&format!(
        "{{ tcp: {{ host: 127.0.0.1, port: {}, tls: true }} }}",
        s.addr.port()
    ));
    assert!(
        message(&it).contains("did not finish the tls handshake within"),
        "{it}"
    );
}

#[test]
fn invalid_utf8_in_headers_and_body() {
    let s = RawServer::respond(
        b"HTTP/1.1 200 OK\r\nX-Weird: \xff\xfe\r\nContent-Length: 4\r\n\r\n\xff\xfe\xfd\xfc",
    );
    let it = run_hostile(&http(
        &s.url("/"),
        ", expect: { headers: { x-weird: ok }, body_contains: ok }",
    ));
    let m = message(&it);
    assert!(
        m.contains("header `x-weird` is") && m.contains("body does not contain"),
        "{it}"
    );
}

#[test]
fn a_slow_drip_response() {
    let s = RawServer::start(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        for _ in 0..100 {
            if s.write_all(b"x").is_err() {
                return;
            }
            sleep(Duration::from_secs(1));
        }
    });
    let it = run_hostile(&http(&s.url("/"), ""));
    assert!(message(&it).contains("timed out"), "{it}");
}

/// Writes a real gzip bomb: one fixed-Huffman deflate block encoding a long run of zeros
/// (a literal 0, then length-258/distance-1 copies), about 1000:1.
struct GzipZeros<'a> {
    out: &'a mut Vec<u8>,
    bits: u64,
    nbits: u32,
}

impl<'a> GzipZeros<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        GzipZeros {
            out,
            bits: 0,
            nbits: 0,
        }
    }

    fn put(&mut self, value: u64, n: u32) {
        self.bits |= value << self.nbits;
        self.nbits += n;
        while self.nbits >= 8 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits -= 8;
        }
    }

    /// Huffman codes are written most-significant bit first.
    fn put_code(&mut self, code: u64, n: u32) {
        let mut rev = 0;
        for i in 0..n {
            rev |= ((code >> i) & 1) << (n - 1 - i);
        }
        self.put(rev, n);
    }

    fn write_zeros(&mut self, total: usize) {
        self.put(1, 1); // final block
        self.put(1, 2); // fixed Huffman
        self.put_code(0x30, 8); // literal 0
        let mut left = total - 1;
        while left >= 258 {
            self.put_code(0xc5, 8); // length code 285 = 258
            self.put_code(0, 5); // distance code 0 = 1
            left -= 258;
        }
        for _ in 0..left {
            self.put_code(0x30, 8);
        }
        self.put_code(0, 7); // end of block (256)
        if self.nbits > 0 {
            self.put(0, 8 - self.nbits);
        }
        // CRC32 is not checked by anyone who does not decompress; ISIZE as the spec says.
        self.out.extend_from_slice(&0u32.to_le_bytes());
        self.out.extend_from_slice(&(total as u32).to_le_bytes());
    }
}
