//! Does a server still accept TLS 1.0 / 1.1? rustls cannot speak them, so this sends one
//! hand-written ClientHello offering only the legacy version and reads the ServerHello or alert.
//! No answer or a closed connection is asked again once; what stays unanswered is `Unknown`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

use crate::tls::hello;

/// A protocol version below TLS 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyVersion {
    Tls10,
    Tls11,
}

impl LegacyVersion {
    pub const ALL: [LegacyVersion; 2] = [LegacyVersion::Tls10, LegacyVersion::Tls11];

    fn wire(self) -> [u8; 2] {
        match self {
            LegacyVersion::Tls10 => [3, 1],
            LegacyVersion::Tls11 => [3, 2],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LegacyVersion::Tls10 => "TLSv1.0",
            LegacyVersion::Tls11 => "TLSv1.1",
        }
    }
}

/// What the server did with a legacy-only ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyAnswer {
    /// ServerHello with the offered version: the server speaks it.
    Accepted,
    /// Alert, a different version, or the connection closed without an alert on both tries.
    Refused(String),
    /// The connection closed (or was reset) without an alert: refused or broken, asked again.
    Closed(String),
    /// No verdict (connect failed, timeout, unparsable answer).
    Unknown(String),
}

/// Cipher suites a TLS 1.0/1.1 server would pick from: ECDHE and plain RSA with AES-CBC and
/// 3DES, DHE. Broad on purpose, so a "refused" means the version, not the ciphers.
const SUITES: [u16; 12] = [
    0xc009, 0xc00a, 0xc013, 0xc014, 0x0033, 0x0039, 0x002f, 0x0035, 0x000a, 0x0016, 0xc012,
    0x00ff, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
];

/// The ClientHello record offering only `version`, with SNI `server_name` when it is a name.
pub fn client_hello(version: LegacyVersion, server_name: Option<&str>) -> Vec<u8> {
    let wire = version.wire();
    hello::client_hello(u16::from_be_bytes(wire), &SUITES, server_name)
}

/// Reads the first record header plus the first 6 bytes of its payload (enough for the
/// handshake type and server_version, or an alert) and decides.
pub fn judge(version: LegacyVersion, first: &[u8]) -> LegacyAnswer {
    match first {
        [22, _, _, _, _, 2, _, _, _, major, minor, ..] => {
            if [*major, *minor] == version.wire() {
                LegacyAnswer::Accepted
            } else {
                LegacyAnswer::Refused(format!("server answered with version {major}.{minor}"))
            }
        }
        [21, _, _, _, _, _level, desc, ..] => {
            LegacyAnswer::Refused(format!("alert {}", hello::alert_name(*desc)))
        }
        [] => LegacyAnswer::Closed("connection closed".into()),
        other => LegacyAnswer::Unknown(format!(
            "unexpected answer starting {:02x?}",
            &other[..other.len().min(8)]
        )),
    }
}

/// Connects over `route`, offers only `version`, and reports what came back within `budget`.
/// A closed connection or no answer is asked again once (the first try gets half the budget);
/// closed twice is a refusal, unanswered twice stays `Unknown`.
pub async fn probe(
    route: &crate::net::Route,
    server_name: Option<&str>,
    version: LegacyVersion,
    budget: Duration,
) -> LegacyAnswer {
    let last = crate::tls::scan::ask_twice(
        std::time::Instant::now(),
        budget,
        |slice| once(route, server_name, version, slice),
        |a| matches!(a, LegacyAnswer::Accepted | LegacyAnswer::Refused(_)),
    )
    .await
    .unwrap_or_else(|| LegacyAnswer::Unknown("out of time".into()));
    match last {
        LegacyAnswer::Closed(why) => {
            LegacyAnswer::Refused(format!("{why} without an alert, twice"))
        }
        other => other,
    }
}

async fn once(
    route: &crate::net::Route,
    server_name: Option<&str>,
    version: LegacyVersion,
    budget: Duration,
) -> LegacyAnswer {
    let attempt = async {
        let mut stream = match route.open().await {
            Ok(s) => s,
            Err(e) => return LegacyAnswer::Unknown(format!("connect failed: {}", e.message)),
        };
        if let Err(e) = stream.write_all(&client_hello(version, server_name)).await {
            return LegacyAnswer::Closed(format!("connection closed while sending ({e})"));
        }
        // Bounded read: an alert is 7 bytes; a ServerHello's version sits at byte 9..11.
        let mut buf = [0u8; 11];
        let mut filled = 0;
        while filled < buf.len() {
            match stream.read(&mut buf[filled..]).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if filled == 0 => {
                    return LegacyAnswer::Closed(format!("connection reset ({e})"));
                }
                Err(_) => break,
            }
            if buf[0] == 21 && filled >= 7 {
                break;
            }
        }
        judge(version, &buf[..filled])
    };
    match timeout(budget, attempt).await {
        Ok(answer) => answer,
        Err(_) => LegacyAnswer::Unknown(format!("no answer within {} ms", budget.as_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_is_one_well_formed_record() {
        let r = client_hello(LegacyVersion::Tls11, Some("localhost"));
        assert_eq!(r[0], 22);
        let len = u16::from_be_bytes([r[3], r[4]]) as usize;
        assert_eq!(len, r.len() - 5);
        assert_eq!(r[5], 1);
        let hs_len = u32::from_be_bytes([0, r[6], r[7], r[8]]) as usize;
        assert_eq!(hs_len, r.len() - 9);
        assert_eq!(&r[9..11], &[3, 2]);
        assert!(r.windows(9).any(|w| w == b"localhost"));
        // IP addresses are never sent as SNI
        let ip = client_hello(LegacyVersion::Tls10, Some("127.0.0.1"));
        assert!(!ip.windows(9).any(|w| w == b"127.0.0.1"));
    }

    #[test]
    fn answers_are_judged() {
        let hello = [22, 3, 1, 0, 50, 2, 0, 0, 46, 3, 1];
        assert_eq!(judge(LegacyVersion::Tls10, &hello), LegacyAnswer::Accepted);
        assert!(matches!(
            judge(LegacyVersion::Tls11, &hello),
            LegacyAnswer::Refused(_)
        ));
        let alert = [21, 3, 1, 0, 2, 2, 70];
        assert_eq!(
            judge(LegacyVersion::Tls10, &alert),
            LegacyAnswer::Refused("alert protocol_version".into())
        );
        assert_eq!(
            judge(LegacyVersion::Tls10, &[]),
            LegacyAnswer::Closed("connection closed".into())
        );
        assert!(matches!(
            judge(LegacyVersion::Tls10, b"HTTP/1.1 400"),
            LegacyAnswer::Unknown(_)
        ));
    }
}
