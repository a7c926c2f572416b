//! The stapled OCSP response (RFC 6960) a server sends with its certificate: good, revoked or
//! unknown, read with a small bounded DER walker (no OCSP crate is in the tree).

use serde_json::{Value, json};

/// What a staple says about the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staple {
    Good {
        this_update: String,
        next_update: Option<String>,
    },
    Revoked {
        at: String,
        reason: Option<u8>,
    },
    Unknown,
    /// The responder answered with an error status (`tryLater`, `unauthorized`, ...).
    ResponderError(u8),
    /// The staple is about another certificate (serial number differs).
    OtherCertificate,
}

impl Staple {
    pub fn evidence(&self) -> Value {
        match self {
            Staple::Good {
                this_update,
                next_update,
            } => {
                json!({"status": "good", "this_update": this_update, "next_update": next_update, "signature_checked": false})
            }
            Staple::Revoked { at, reason } => {
                json!({"status": "revoked", "revoked_at": at, "reason": reason.map(reason_name), "signature_checked": false})
            }
            Staple::Unknown => json!({"status": "unknown"}),
            Staple::ResponderError(code) => json!({"status": "responder_error", "code": code}),
            Staple::OtherCertificate => json!({"status": "other_certificate"}),
        }
    }
}

pub fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "other",
    }
}

/// One DER element: (tag, contents, rest).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, start) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = input.get(2..2 + n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((tag, input.get(start..end)?, input.get(end..)?))
}

/// The contents of the element with `tag` at the front of `input`, and what follows it.
fn take(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, body, rest) = tlv(input)?;
    (t == tag).then_some((body, rest))
}

fn time_text(body: &[u8]) -> String {
    // GeneralizedTime YYYYMMDDHHMMSSZ → YYYY-MM-DDTHH:MM:SSZ
    let s = String::from_utf8_lossy(body);
    match (
        s.get(0..4),
        s.get(4..6),
        s.get(6..8),
        s.get(8..10),
        s.get(10..12),
        s.get(12..14),
    ) {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) => {
            format!("{y}-{mo}-{d}T{h}:{mi}:{se}Z")
        }
        _ => s.into_owned(),
    }
}

/// Reads a stapled response for the certificate with serial `serial` (big-endian, as in the
/// certificate). `None` when the bytes are not an OCSP response.
pub fn parse(der: &[u8], serial: &[u8]) -> Option<Staple> {
    let (resp, _) = take(der, 0x30)?;
    let (status, rest) = take(resp, 0x0a)?;
    let status = *status.first()?;
    if status != 0 {
        return Some(Staple::ResponderError(status));
    }
    let (bytes, _) = take(rest, 0xa0)?;
    let (bytes, _) = take(bytes, 0x30)?;
    let (_oid, after_oid) = take(bytes, 0x06)?;
    let (basic, _) = take(after_oid, 0x04)?;
    let (basic, _) = take(basic, 0x30)?;
    let (data, _) = take(basic, 0x30)?;
    let mut data = data;
    if let Some((0xa0, _, rest)) = tlv(data) {
        data = rest; // version
    }
    let (_, _, data) = tlv(data)?; // responderID
    let (_, data) = take(data, 0x18)?; // producedAt
    let (mut responses, _) = take(data, 0x30)?;
    // Bounded: each step consumes one element of a finite buffer.
    while !responses.is_empty() {
        let (single, rest) = take(responses, 0x30)?;
        responses = rest;
        let (cert_id, after) = take(single, 0x30)?;
        let (_, id) = take(cert_id, 0x30)?; // hashAlgorithm
        let (_, id) = take(id, 0x04)?; // issuerNameHash
        let (_, id) = take(id, 0x04)?; // issuerKeyHash
        let (this_serial, _) = take(id, 0x02)?;
        let strip = |s: &[u8]| -> Vec<u8> { s.iter().skip_while(|b| **b == 0).copied().collect() };
        if strip(this_serial) != strip(serial) {
            continue;
        }
        let (tag, status_body, after_status) = tlv(after)?;
        let (this_update, after_this) = take(after_status, 0x18)?;
        let next_update = take(after_this, 0xa0)
            .and_then(|(b, _)| take(b, 0x18))
            .map(|(t, _)| time_text(t));
        return Some(match tag {
            0x80 => Staple::Good {
                this_update: time_text(this_update),
                next_update,
            },
            0xa1 => {
                let (at, rest) = take(status_body, 0x18)?;
                let reason = take(rest, 0xa0)
                    .and_then(|(b, _)| take(b, 0x0a))
                    .and_then(|(r, _)| r.first().copied());
                Staple::Revoked {
                    at: time_text(at),
                    reason,
                }
            }
            _ => Staple::Unknown,
        });
    }
    Some(Staple::OtherCertificate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_bounded_and_truncation_is_none() {
        assert_eq!(tlv(&[0x30, 0x02, 1, 2]).map(|t| t.1.len()), Some(2));
        assert!(tlv(&[0x30, 0x05, 1]).is_none());
        assert!(tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(parse(b"not ocsp", &[1]).is_none());
        assert!(parse(&[], &[1]).is_none());
        // responseStatus tryLater (3)
        assert_eq!(
            parse(&[0x30, 0x03, 0x0a, 0x01, 0x03], &[1]),
            Some(Staple::ResponderError(3))
        );
        assert_eq!(time_text(b"20261205120000Z"), "2026-12-05T12:00:00Z");
    }
}
