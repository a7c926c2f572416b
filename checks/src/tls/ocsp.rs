//! The stapled OCSP response (RFC 6960) a server sends with its certificate: good, revoked or
//! unknown, read with a small bounded DER walker (no OCSP crate is in the tree), and its
//! signature checked against the issuer or a responder the issuer delegated to.

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
                json!({"status": "good", "this_update": this_update, "next_update": next_update})
            }
            Staple::Revoked { at, reason } => {
                json!({"status": "revoked", "revoked_at": at, "reason": reason.map(reason_name)})
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

/// One DER element whole (tag and length included), and what follows it.
fn element(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, _, rest) = tlv(input)?;
    let len = input.len() - rest.len();
    Some((input.get(..len)?, rest))
}

/// Who signed a response, as far as it could be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// Signed by the issuer itself, or by a responder certificate the issuer signed for
    /// OCSP (extended key usage `OCSPSigning`).
    Valid { by: String },
    /// Neither the issuer's key nor a delegated responder's verifies it.
    Invalid,
    /// The issuer is not known (the chain does not verify), so nothing could be checked.
    IssuerUnknown,
    /// The response is not readable as a signed BasicOCSPResponse.
    Unreadable,
}

/// id-kp-OCSPSigning, DER contents of the OID.
const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

/// Checks the signature of a stapled response about the leaf of `chain`.
pub fn signature(
    der: &[u8],
    chain: &[rustls::pki_types::CertificateDer<'_>],
    roots: &rustls::RootCertStore,
) -> Signature {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Some(parts) = signed_parts(der) else {
        return Signature::Unreadable;
    };
    let Some(issuer) = crate::tls::issuer::find(0, chain, roots) else {
        return Signature::IssuerUnknown;
    };
    if issuer.verifies(parts.algorithm, parts.signature, parts.tbs) {
        return Signature::Valid { by: issuer.subject };
    }
    let Ok((_, issuer_key)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&issuer.spki)
    else {
        return Signature::Invalid;
    };
    for der in parts.certs {
        let Ok((_, responder)) = X509Certificate::from_der(der) else {
            continue;
        };
        let delegated = responder.issuer().as_raw() == issuer.subject_raw.as_slice()
            && responder.verify_signature(Some(&issuer_key)).is_ok()
            && responder
                .extended_key_usage()
                .ok()
                .flatten()
                .is_some_and(|eku| {
                    eku.value.ocsp_signing
                        || eku
                            .value
                            .other
                            .iter()
                            .any(|oid| oid.to_id_string() == OCSP_SIGNING)
                });
        let by = crate::tls::issuer::Issuer {
            subject: responder.subject().to_string(),
            subject_raw: responder.subject().as_raw().to_vec(),
            spki: responder.public_key().raw.to_vec(),
        };
        if delegated && by.verifies(parts.algorithm, parts.signature, parts.tbs) {
            return Signature::Valid { by: by.subject };
        }
    }
    Signature::Invalid
}

/// The signed pieces of a BasicOCSPResponse: the raw tbsResponseData, the algorithm and the
/// signature (whole DER elements), and the certificates it carries.
struct SignedParts<'a> {
    tbs: &'a [u8],
    algorithm: &'a [u8],
    signature: &'a [u8],
    certs: Vec<&'a [u8]>,
}

fn signed_parts(der: &[u8]) -> Option<SignedParts<'_>> {
    let (resp, _) = take(der, 0x30)?;
    let (status, rest) = take(resp, 0x0a)?;
    if *status.first()? != 0 {
        return None;
    }
    let (bytes, _) = take(rest, 0xa0)?;
    let (bytes, _) = take(bytes, 0x30)?;
    let (_oid, after_oid) = take(bytes, 0x06)?;
    let (basic, _) = take(after_oid, 0x04)?;
    let (basic, _) = take(basic, 0x30)?;
    let (tbs, rest) = element(basic)?;
    let (algorithm, rest) = element(rest)?;
    let (signature, rest) = element(rest)?;
    let mut certs = Vec::new();
    if let Some((0xa0, body, _)) = tlv(rest)
        && let Some((mut list, _)) = take(body, 0x30)
    {
        // Bounded: each step consumes one certificate of a finite buffer.
        while let Some((cert, more)) = element(list) {
            certs.push(cert);
            list = more;
        }
    }
    Some(SignedParts {
        tbs,
        algorithm,
        signature,
        certs,
    })
}

/// Which certificate a single response is about, besides its serial: hashes of its issuer's
/// name and key (RFC 6960 §4.1.1), with the hash algorithm's OID (DER contents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertId {
    pub hash_oid: Vec<u8>,
    pub name_hash: Vec<u8>,
    pub key_hash: Vec<u8>,
}

impl CertId {
    /// Whether it names `issuer` (its subject DER and the key of its SubjectPublicKeyInfo);
    /// `None` when the hash algorithm is one prodcheck does not compute.
    pub fn names(&self, issuer: &crate::tls::issuer::Issuer) -> Option<bool> {
        use ring::digest;
        use x509_parser::prelude::FromDer;
        let alg = match self.hash_oid.as_slice() {
            [0x2b, 0x0e, 0x03, 0x02, 0x1a] => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01] => &digest::SHA256,
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02] => &digest::SHA384,
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03] => &digest::SHA512,
            _ => return None,
        };
        let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&issuer.spki).ok()?;
        let name = digest::digest(alg, &issuer.subject_raw);
        let key = digest::digest(alg, &spki.subject_public_key.data);
        Some(name.as_ref() == self.name_hash && key.as_ref() == self.key_hash)
    }
}

/// Seconds since the epoch of a time as [`parse`] writes it (`2026-12-05T12:00:00Z`).
pub fn unix_time(text: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Howard Hinnant's days-from-civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// Reads a stapled response for the certificate with serial `serial` (big-endian, as in the
/// certificate), with the CertID of the single response that matched the serial. `None` when
/// the bytes are not an OCSP response.
pub fn parse(der: &[u8], serial: &[u8]) -> Option<(Staple, Option<CertId>)> {
    let (resp, _) = take(der, 0x30)?;
    let (status, rest) = take(resp, 0x0a)?;
    let status = *status.first()?;
    if status != 0 {
        return Some((Staple::ResponderError(status), None));
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
        let (alg, id) = take(cert_id, 0x30)?; // hashAlgorithm
        let (hash_oid, _) = take(alg, 0x06)?;
        let (name_hash, id) = take(id, 0x04)?; // issuerNameHash
        let (key_hash, id) = take(id, 0x04)?; // issuerKeyHash
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
        let id = CertId {
            hash_oid: hash_oid.to_vec(),
            name_hash: name_hash.to_vec(),
            key_hash: key_hash.to_vec(),
        };
        let staple = match tag {
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
        };
        return Some((staple, Some(id)));
    }
    Some((Staple::OtherCertificate, None))
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
            Some((Staple::ResponderError(3), None))
        );
        assert_eq!(time_text(b"20261205120000Z"), "2026-12-05T12:00:00Z");
        assert_eq!(unix_time("2026-11-27T00:00:00Z"), Some(1_795_737_600));
        assert_eq!(unix_time("2000-02-29T01:02:03Z"), Some(951_786_123));
        assert_eq!(unix_time("garbage"), None);
    }
}
