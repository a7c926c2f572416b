//! STARTTLS: the plain-text exchange (SMTP, IMAP, POP3, LDAP, PostgreSQL's SSLRequest) that turns a
//! TCP connection into one ready for a TLS ClientHello, so the `tls` probe judges mail and
//! database servers like any HTTPS front. Lines are capped; the caller bounds the time.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::net::dial::NotConnected;
use crate::net::ldap;
use crate::no_answer::NoAnswer;

/// Longest line accepted from the server (RFC 5321 allows 512; some banners are longer).
const MAX_LINE: usize = 4096;
/// Most lines read for one reply (an EHLO lists a few dozen extensions at most).
const MAX_LINES: usize = 200;

/// `starttls:`: the protocol spoken before the TLS handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StartTls {
    /// SMTP (RFC 3207): greeting, `EHLO`, `STARTTLS` (ports 25 and 587).
    Smtp,
    /// IMAP (RFC 3501): greeting, `a1 STARTTLS` (port 143).
    Imap,
    /// POP3 (RFC 2595): greeting, `STLS` (port 110).
    Pop3,
    /// PostgreSQL: the SSLRequest message, answered `S` (port 5432).
    Postgres,
    /// LDAP (RFC 4511): the StartTLS extended operation, answered `success` (port 389).
    Ldap,
}

impl fmt::Display for StartTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl StartTls {
    pub fn name(self) -> &'static str {
        match self {
            StartTls::Smtp => "smtp",
            StartTls::Imap => "imap",
            StartTls::Pop3 => "pop3",
            StartTls::Postgres => "postgres",
            StartTls::Ldap => "ldap",
        }
    }

    /// Speaks the protocol on `stream` until the server is ready for a ClientHello. `at`
    /// names the server in messages.
    pub async fn negotiate<S>(self, stream: &mut S, at: &str) -> Result<(), NotConnected>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut conv = Conversation {
            stream,
            buf: Vec::new(),
            at,
            proto: self,
        };
        match self {
            StartTls::Smtp => {
                conv.expect_reply("greeting", |l| l.starts_with("220"))
                    .await?;
                conv.send("EHLO prodcheck.invalid\r\n").await?;
                let ehlo = conv.expect_reply("EHLO", |l| l.starts_with("250")).await?;
                if !ehlo.iter().any(|l| {
                    l.get(4..)
                        .is_some_and(|e| e.eq_ignore_ascii_case("STARTTLS"))
                }) {
                    return Err(conv.refused("does not offer STARTTLS in its EHLO reply"));
                }
                conv.send("STARTTLS\r\n").await?;
                conv.expect_reply("STARTTLS", |l| l.starts_with("220"))
                    .await?;
            }
            StartTls::Imap => {
                conv.expect_line("greeting", |l| l.starts_with("* OK"))
                    .await?;
                conv.send("a1 STARTTLS\r\n").await?;
                // Untagged lines (`* CAPABILITY ...`) may come first.
                let mut done = false;
                for _ in 0..MAX_LINES {
                    let line = conv.line().await?;
                    if let Some(answer) = line.strip_prefix("a1 ") {
                        if !answer.starts_with("OK") {
                            return Err(conv.refused(&format!("answered `{line}` to STARTTLS")));
                        }
                        done = true;
                        break;
                    }
                }
                if !done {
                    return Err(conv.refused("never answered STARTTLS"));
                }
            }
            StartTls::Pop3 => {
                conv.expect_line("greeting", |l| l.starts_with("+OK"))
                    .await?;
                conv.send("STLS\r\n").await?;
                conv.expect_line("STLS", |l| l.starts_with("+OK")).await?;
            }
            StartTls::Postgres => {
                // Length 8, then the SSLRequest code 80877103.
                conv.write(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).await?;
                let mut answer = [0u8; 1];
                conv.stream
                    .read_exact(&mut answer)
                    .await
                    .map_err(|e| conv.io("reading the answer to SSLRequest", &e))?;
                match answer[0] {
                    b'S' => {}
                    b'N' => {
                        return Err(
                            conv.refused("answered `N` to SSLRequest: TLS is off (set `ssl = on`)")
                        );
                    }
                    other => {
                        return Err(conv.refused(&format!(
                            "answered byte 0x{other:02x} to SSLRequest, not `S` or `N`"
                        )));
                    }
                }
            }
            StartTls::Ldap => {
                conv.write(&ldap::request()).await?;
                let answer = match ldap::read_message(&mut *conv.stream).await {
                    Ok(answer) => answer,
                    Err(ldap::ReadError::Io(e)) => {
                        return Err(conv.io("reading the answer to StartTLS", &e));
                    }
                    Err(ldap::ReadError::Malformed(what)) => return Err(conv.refused(&what)),
                };
                ldap::judge(&answer).map_err(|what| conv.refused(&what))?;
            }
        }
        // Bytes after the go-ahead would be read as TLS by us (CVE-2011-0411-style injection).
        if !conv.buf.is_empty() {
            return Err(conv.refused("sent data after its STARTTLS go-ahead"));
        }
        Ok(())
    }
}

struct Conversation<'a, S> {
    stream: &'a mut S,
    buf: Vec<u8>,
    at: &'a str,
    proto: StartTls,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conversation<'_, S> {
    fn refused(&self, what: &str) -> NotConnected {
        NotConnected {
            why: NoAnswer::TlsRejected,
            message: format!(
                "{} STARTTLS at {}: the server {what}",
                self.proto.name().to_uppercase(),
                self.at
            ),
        }
    }

    fn io(&self, doing: &str, err: &std::io::Error) -> NotConnected {
        NotConnected {
            why: NoAnswer::from_io(err),
            message: format!(
                "{} STARTTLS at {}: connection lost {doing} ({err})",
                self.proto.name().to_uppercase(),
                self.at
            ),
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), NotConnected> {
        match self.stream.write_all(bytes).await {
            Ok(()) => self
                .stream
                .flush()
                .await
                .map_err(|e| self.io("while sending", &e)),
            Err(e) => Err(self.io("while sending", &e)),
        }
    }

    async fn send(&mut self, line: &str) -> Result<(), NotConnected> {
        self.write(line.as_bytes()).await
    }

    /// One line without its CRLF, at most [`MAX_LINE`] bytes.
    async fn line(&mut self) -> Result<String, NotConnected> {
        loop {
            if let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
                let raw: Vec<u8> = self.buf.drain(..=end).collect();
                let text = String::from_utf8_lossy(&raw);
                return Ok(text.trim_end_matches(['\r', '\n']).to_string());
            }
            if self.buf.len() > MAX_LINE {
                return Err(self.refused(&format!("sent a line longer than {MAX_LINE} bytes")));
            }
            let mut chunk = [0u8; 1024];
            match self.stream.read(&mut chunk).await {
                Ok(0) => return Err(self.refused("closed the connection")),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(self.io("while reading", &e)),
            }
        }
    }

    async fn expect_line(
        &mut self,
        step: &str,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String, NotConnected> {
        let line = self.line().await?;
        if ok(&line) {
            Ok(line)
        } else {
            Err(self.refused(&format!("answered `{line}` to {step}")))
        }
    }

    /// A multi-line SMTP reply (`250-...` lines, then `250 ...`), every line checked.
    async fn expect_reply(
        &mut self,
        step: &str,
        ok: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, NotConnected> {
        let mut lines = Vec::new();
        for _ in 0..MAX_LINES {
            let line = self.expect_line(step, &ok).await?;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return Ok(lines);
            }
        }
        Err(self.refused(&format!("sent more than {MAX_LINES} lines for {step}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    async fn run(proto: StartTls, server_says: &'static [u8]) -> (Result<(), String>, Vec<u8>) {
        let (mut client, mut server) = duplex(64 * 1024);
        let talk = async move {
            let r = proto.negotiate(&mut client, "test:25").await;
            drop(client);
            r.map_err(|e| e.message)
        };
        let serve = async move {
            let _ = server.write_all(server_says).await;
            let mut heard = Vec::new();
            let _ = server.read_to_end(&mut heard).await;
            heard
        };
        tokio::join!(talk, serve)
    }

    #[tokio::test]
    async fn smtp_goes_ahead_after_ehlo_lists_starttls() {
        let (r, heard) = run(
            StartTls::Smtp,
            b"220 mx ESMTP\r\n250-mx\r\n250-SIZE 1000\r\n250 STARTTLS\r\n220 go ahead\r\n",
        )
        .await;
        assert_eq!(r, Ok(()));
        assert_eq!(heard, b"EHLO prodcheck.invalid\r\nSTARTTLS\r\n");
    }

    #[tokio::test]
    async fn smtp_without_starttls_is_refused_in_words() {
        let (r, _) = run(StartTls::Smtp, b"220 mx\r\n250-mx\r\n250 SIZE 1\r\n").await;
        let msg = r.err().unwrap_or_default();
        assert!(msg.contains("does not offer STARTTLS"), "{msg}");
    }

    #[tokio::test]
    async fn injected_bytes_after_the_go_ahead_are_refused() {
        let (r, _) = run(StartTls::Pop3, b"+OK hi\r\n+OK begin\r\nXX").await;
        let msg = r.err().unwrap_or_default();
        assert!(msg.contains("sent data after"), "{msg}");
    }

    #[tokio::test]
    async fn imap_skips_untagged_lines_and_postgres_reads_one_byte() {
        let (r, _) = run(
            StartTls::Imap,
            b"* OK ready\r\n* CAPABILITY x\r\na1 OK go\r\n",
        )
        .await;
        assert_eq!(r, Ok(()));
        let (r, heard) = run(StartTls::Postgres, b"S").await;
        assert_eq!(r, Ok(()));
        assert_eq!(heard, [0, 0, 0, 8, 4, 210, 22, 47]);
        let (r, _) = run(StartTls::Postgres, b"N").await;
        assert!(r.err().unwrap_or_default().contains("ssl = on"));
    }

    #[tokio::test]
    async fn overlong_lines_are_cut_off() {
        static LONG: [u8; 5000] = [b'x'; 5000];
        let (r, _) = run(StartTls::Pop3, &LONG).await;
        assert!(r.err().unwrap_or_default().contains("longer than"));
    }
}
