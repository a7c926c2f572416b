//! Hand-written ClientHellos and a bounded reader of the server's first flight (ServerHello,
//! Certificate, ServerKeyExchange): what rustls will not tell when it refuses to negotiate.

use crate::net::Route;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// The most of a server's first flight read (a 10,000-SAN certificate message is ~290 KB).
pub const FLIGHT_CAP: usize = 1 << 20;
/// Handshake messages above this size are refused by rustls (and Go, Java's default, ...).
pub const CLIENT_MESSAGE_LIMIT: usize = 0xffff;

/// Builds one ClientHello record for `version` (`0x0301` … `0x0303`) offering `suites`, with
/// SNI when `server_name` is a DNS name, and the extensions a TLS 1.2 server needs to pick
/// ECDHE and a signature (groups, point formats, signature algorithms, EMS).
pub fn client_hello(version: u16, suites: &[u16], server_name: Option<&str>) -> Vec<u8> {
    let mut ext = Vec::new();
    push_sni(&mut ext, server_name);
    // supported_groups: x25519, secp256r1, secp384r1, secp521r1. No FFDHE groups on purpose:
    // RFC 7919 servers would then swap their configured DH parameters for ffdhe2048, and the
    // configured size is what old clients get.
    push_list_ext(&mut ext, 0x000a, &[0x001d, 0x0017, 0x0018, 0x0019]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    if version >= 0x0303 {
        // signature_algorithms, SHA-1 and DSA included so weak servers still answer.
        push_list_ext(
            &mut ext,
            0x000d,
            &[
                0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0807,
                0x0201, 0x0203, 0x0402, 0x0202,
            ],
        );
    }
    ext.extend_from_slice(&[0x00, 0x17, 0x00, 0x00]); // extended_master_secret
    ext.extend_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]); // renegotiation_info (initial)

    let mut body = Vec::new();
    push_u16(&mut body, version);
    // client random: fixed bytes are fine, the handshake is abandoned after the first flight
    body.extend((0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)));
    body.push(0); // empty session id
    push_u16(&mut body, (suites.len() * 2) as u16);
    for s in suites {
        push_u16(&mut body, *s);
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    push_u16(&mut body, ext.len() as u16);
    body.extend_from_slice(&ext);

    record(&body)
}

/// The server_name extension when `server_name` is a DNS name (never an IP address).
pub(crate) fn push_sni(ext: &mut Vec<u8>, server_name: Option<&str>) {
    if let Some(name) =
        server_name.filter(|n| n.len() < 256 && n.parse::<std::net::IpAddr>().is_err())
    {
        let name = name.as_bytes();
        let list_len = name.len() + 3;
        push_u16(ext, 0x0000);
        push_u16(ext, (list_len + 2) as u16);
        push_u16(ext, list_len as u16);
        ext.push(0); // host_name
        push_u16(ext, name.len() as u16);
        ext.extend_from_slice(name);
    }
}

/// Wraps a ClientHello body in its handshake header and one record.
pub(crate) fn record(body: &[u8]) -> Vec<u8> {
    let mut hs = vec![1u8]; // client_hello
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(body);
    let mut record = vec![22u8, 3, 1]; // record version TLS 1.0 for compatibility
    push_u16(&mut record, hs.len() as u16);
    record.extend_from_slice(&hs);
    record
}

pub(crate) fn push_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// An extension whose body is a u16-length-prefixed list of u16 values.
pub(crate) fn push_list_ext(out: &mut Vec<u8>, kind: u16, values: &[u16]) {
    push_u16(out, kind);
    push_u16(out, (values.len() * 2 + 2) as u16);
    push_u16(out, (values.len() * 2) as u16);
    for v in values {
        push_u16(out, *v);
    }
}

/// The key exchange the server chose, read from its ServerKeyExchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchange {
    /// Finite-field DHE with a prime of this many bits.
    Dhe { bits: usize },
    /// ECDHE on this named group (IANA code).
    Ecdhe { group: u16 },
}

impl KeyExchange {
    pub fn describe(self) -> String {
        match self {
            KeyExchange::Dhe { bits } => format!("DHE {bits}"),
            KeyExchange::Ecdhe { group } => group_name(group).to_string(),
        }
    }
}

pub fn group_name(group: u16) -> String {
    match group {
        0x0017 => "P-256".into(),
        0x0018 => "P-384".into(),
        0x0019 => "P-521".into(),
        0x001d => "x25519".into(),
        0x001e => "x448".into(),
        0x0100 => "ffdhe2048".into(),
        0x0101 => "ffdhe3072".into(),
        0x0102 => "ffdhe4096".into(),
        0x11ec => "X25519MLKEM768".into(),
        other => format!("group 0x{other:04x}"),
    }
}

/// What the server sent back in its first flight, as far as it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flight {
    /// The version of the ServerHello (`0x0303` = TLS 1.2).
    pub version: u16,
    pub suite: u16,
    /// DER certificates, leaf first, when the Certificate message was read whole.
    pub certificates: Option<Vec<Vec<u8>>>,
    /// Size of the Certificate message body, even when it was too large to keep.
    pub certificate_message_len: Option<usize>,
    pub key_exchange: Option<KeyExchange>,
    /// The group of the TLS 1.3 key_share extension (the server's share, or the group a
    /// HelloRetryRequest asks for).
    pub key_share: Option<u16>,
    /// The ServerHello is a HelloRetryRequest (its random is the RFC 8446 constant).
    pub retry: bool,
}

/// The random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 8446, 4.1.3).
const RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The answer to one hand-written ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accepted(Flight),
    /// A fatal alert (description code) before any ServerHello.
    Alert(u8),
    /// The connection closed without a ServerHello.
    Closed,
    /// Connect failed, timed out, or the answer was not TLS.
    Unknown(String),
}

/// How far into the flight to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    ServerHello,
    /// Through ServerKeyExchange or ServerHelloDone (certificates and key exchange).
    Flight,
}

/// Parses handshake messages out of an accumulating buffer.
#[derive(Default)]
struct Parser {
    buf: Vec<u8>,
    flight: Option<Flight>,
    done: bool,
}

impl Parser {
    /// Consumes complete handshake messages; `Err` is a malformed answer.
    fn feed(&mut self, data: &[u8], want: Want) -> Result<(), String> {
        self.buf.extend_from_slice(data);
        loop {
            let [kind, a, b, c] = match self.buf.get(..4) {
                Some(&[kind, a, b, c]) => [kind, a, b, c],
                _ => return Ok(()),
            };
            let len = u32::from_be_bytes([0, a, b, c]) as usize;
            if kind == 11
                && let Some(f) = self.flight.as_mut()
            {
                f.certificate_message_len = Some(len);
            }
            if len > FLIGHT_CAP {
                self.done = true; // known size, too large to keep: stop here
                return Ok(());
            }
            if self.buf.len() < 4 + len {
                return Ok(());
            }
            let body: Vec<u8> = self.buf.drain(..4 + len).skip(4).collect();
            self.message(kind, &body)?;
            if self.done || (want == Want::ServerHello && self.flight.is_some()) {
                self.done = true;
                return Ok(());
            }
        }
    }

    fn message(&mut self, kind: u8, body: &[u8]) -> Result<(), String> {
        match kind {
            2 => self.flight = Some(server_hello(body)?),
            11 => {
                if let Some(f) = self.flight.as_mut() {
                    f.certificates = Some(certificates(body)?);
                }
            }
            12 => {
                if let Some(f) = self.flight.as_mut() {
                    f.key_exchange = key_exchange(body);
                }
                self.done = true;
            }
            14 => self.done = true,
            _ => {}
        }
        Ok(())
    }
}

fn server_hello(body: &[u8]) -> Result<Flight, String> {
    let bad = || "malformed ServerHello".to_string();
    let mut version = u16::from_be_bytes([
        *body.first().ok_or_else(bad)?,
        *body.get(1).ok_or_else(bad)?,
    ]);
    let sid_len = usize::from(*body.get(34).ok_or_else(bad)?);
    let at = 35 + sid_len;
    let suite = body.get(at..at + 2).ok_or_else(bad)?;
    let suite = u16::from_be_bytes([suite[0], suite[1]]);
    // supported_versions (TLS 1.3) overrides the legacy version field.
    let mut key_share = None;
    let retry = body.get(2..34) == Some(&RETRY_RANDOM[..]);
    let mut ext = body.get(at + 5..).unwrap_or_default();
    while ext.len() >= 4 {
        let kind = u16::from_be_bytes([ext[0], ext[1]]);
        let len = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
        let data = ext.get(4..4 + len).unwrap_or_default();
        if kind == 0x002b && data.len() == 2 {
            version = u16::from_be_bytes([data[0], data[1]]);
        }
        if kind == 0x0033 && data.len() >= 2 {
            key_share = Some(u16::from_be_bytes([data[0], data[1]]));
        }
        ext = ext.get(4 + len..).unwrap_or_default();
    }
    Ok(Flight {
        version,
        suite,
        key_share,
        retry,
        ..Flight::default()
    })
}

/// A TLS 1.0–1.2 Certificate message: a u24 list of u24-prefixed DER certificates.
fn certificates(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut rest = body.get(3..).ok_or("malformed Certificate message")?;
    let mut out = Vec::new();
    while rest.len() >= 3 {
        let len = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]) as usize;
        let der = rest
            .get(3..3 + len)
            .ok_or("truncated certificate in the Certificate message")?;
        out.push(der.to_vec());
        rest = &rest[3 + len..];
    }
    Ok(out)
}

/// ServerKeyExchange: ECDHE starts `03 <group>`; DHE starts with the u16-prefixed prime.
/// Which one it is depends on the suite; the shape tells them apart well enough here.
fn key_exchange(body: &[u8]) -> Option<KeyExchange> {
    if let [3, g1, g2, ..] = body {
        return Some(KeyExchange::Ecdhe {
            group: u16::from_be_bytes([*g1, *g2]),
        });
    }
    let len = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
    let p = body.get(2..2 + len)?;
    let leading = p.iter().take_while(|b| **b == 0).count();
    let first = *p.get(leading)?;
    Some(KeyExchange::Dhe {
        bits: (p.len() - leading - 1) * 8 + (8 - first.leading_zeros() as usize),
    })
}

/// Sends `hello` over a new connection of `route` and reads the answer up to `want`, within `budget`, reading at
/// most [`FLIGHT_CAP`] bytes.
pub async fn exchange(route: &Route, hello: &[u8], want: Want, budget: Duration) -> Answer {
    match timeout(budget, exchange_inner(route, hello, want)).await {
        Ok(a) => a,
        Err(_) => Answer::Unknown(format!("no answer within {} ms", budget.as_millis())),
    }
}

async fn exchange_inner(route: &Route, hello: &[u8], want: Want) -> Answer {
    let mut stream = match route.open().await {
        Ok(s) => s,
        Err(e) => return Answer::Unknown(format!("connect failed: {}", e.message)),
    };
    if stream.write_all(hello).await.is_err() {
        return Answer::Closed;
    }
    let mut parser = Parser::default();
    let mut total = 0usize;
    let mut header = [0u8; 5];
    loop {
        if let Err(e) = stream.read_exact(&mut header).await {
            return match (&parser.flight, e.kind()) {
                (Some(f), _) => Answer::Accepted(f.clone()),
                (None, _) => Answer::Closed,
            };
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len > 18_432 || !(20..=24).contains(&header[0]) {
            return match parser.flight.take() {
                Some(f) => Answer::Accepted(f),
                None if header.iter().all(|b| b.is_ascii_graphic() || *b == b' ') => {
                    Answer::Unknown(format!(
                        "the port answers in plain text, not TLS (`{}…`)",
                        String::from_utf8_lossy(&header)
                    ))
                }
                None => Answer::Unknown(format!("the answer is not TLS (starts {header:02x?})")),
            };
        }
        total += len + 5;
        let mut payload = vec![0u8; len];
        if stream.read_exact(&mut payload).await.is_err() {
            return parser.flight.map_or(Answer::Closed, Answer::Accepted);
        }
        match header[0] {
            21 if parser.flight.is_none() => {
                return Answer::Alert(payload.get(1).copied().unwrap_or(0));
            }
            22 => {
                if let Err(e) = parser.feed(&payload, want) {
                    return Answer::Unknown(e);
                }
            }
            _ => {}
        }
        if parser.done || total > FLIGHT_CAP {
            break;
        }
    }
    parser.flight.map_or(Answer::Closed, Answer::Accepted)
}

/// Human name of an alert description.
pub fn alert_name(desc: u8) -> String {
    match desc {
        10 => "unexpected_message".into(),
        40 => "handshake_failure".into(),
        47 => "illegal_parameter".into(),
        50 => "decode_error".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        86 => "inappropriate_fallback".into(),
        112 => "unrecognized_name".into(),
        other => format!("#{other}"),
    }
}

pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        other => format!("version 0x{other:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_is_one_well_formed_record() {
        let r = client_hello(0x0303, &[0xc02f, 0x002f], Some("localhost"));
        assert_eq!(r[0], 22);
        let len = usize::from(u16::from_be_bytes([r[3], r[4]]));
        assert_eq!(len, r.len() - 5);
        let hs_len = u32::from_be_bytes([0, r[6], r[7], r[8]]) as usize;
        assert_eq!(hs_len, r.len() - 9);
        assert_eq!(&r[9..11], &[3, 3]);
        assert!(r.windows(9).any(|w| w == b"localhost"));
        // suites follow the random and the empty session id
        assert_eq!(&r[44..50], &[0, 4, 0xc0, 0x2f, 0x00, 0x2f]);
    }

    fn flight_bytes() -> Vec<u8> {
        let mut sh = vec![3, 3];
        sh.extend([7u8; 32]);
        sh.extend([0, 0xc0, 0x2f, 0]); // no session id, suite, compression
        let mut msgs = vec![2, 0, 0, sh.len() as u8];
        msgs.extend(&sh);
        // Certificate with two tiny "certificates"
        msgs.extend([
            11, 0, 0, 13, 0, 0, 10, 0, 0, 2, 0xaa, 0xbb, 0, 0, 2, 0xcc, 0xdd,
        ]);
        // ServerKeyExchange, ECDHE named curve x25519
        msgs.extend([12, 0, 0, 4, 3, 0, 0x1d, 0]);
        msgs
    }

    #[test]
    fn flight_is_parsed_across_arbitrary_splits() {
        let bytes = flight_bytes();
        for split in [1, 5, 30, bytes.len() - 1] {
            let mut p = Parser::default();
            assert!(p.feed(&bytes[..split], Want::Flight).is_ok());
            assert!(p.feed(&bytes[split..], Want::Flight).is_ok());
            assert!(p.done);
            let f = p.flight.clone().unwrap_or_default();
            assert_eq!((f.version, f.suite), (0x0303, 0xc02f));
            assert_eq!(
                f.certificates,
                Some(vec![vec![0xaa, 0xbb], vec![0xcc, 0xdd]])
            );
            assert_eq!(f.certificate_message_len, Some(13));
            assert_eq!(f.key_exchange, Some(KeyExchange::Ecdhe { group: 0x1d }));
        }
    }

    #[test]
    fn dh_prime_size_is_counted_in_bits() {
        let mut ske = vec![0, 128, 0xd3];
        ske.extend([0u8; 127]);
        assert_eq!(key_exchange(&ske), Some(KeyExchange::Dhe { bits: 1024 }));
        assert_eq!(key_exchange(&[0]), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut p = Parser::default();
        assert!(p.feed(&[2, 0, 0, 3, 1, 2, 3], Want::Flight).is_err());
        let mut p = Parser::default();
        assert!(p.feed(&[11, 0xff, 0xff, 0xff], Want::Flight).is_ok());
        assert!(p.done);
    }
}
