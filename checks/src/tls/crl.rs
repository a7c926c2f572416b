//! `check_revocation`: each presented certificate's CRL fetched from its distribution point
//! (bounded in size and time), its signature checked against the issuer, the serial looked up.
//! Revoked is `fail`; a CRL that cannot be had or trusted is `error` (nothing was judged).

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use crate::net::http::Reach;
use crate::net::http::page::Fetcher;
use crate::outcome::Status;
use crate::probe::ProbeContext;
use crate::tls::facts::{date, rfc3339};
use crate::tls::issuer::{self, Issuer};
use crate::tls::judge::{Report, unix_now};
use crate::tls::ocsp::reason_name;

/// A CRL bigger than this is not read (the largest public CRL shards are a few MiB).
pub const MAX_CRL: u64 = 8 * 1024 * 1024;
/// Certificates of one chain checked at most (leaf and intermediates).
const MAX_CERTS: usize = 4;

/// What the CRL of one certificate says.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Good,
    Revoked {
        at: i64,
        reason: Option<u8>,
    },
    /// The CRL is past its nextUpdate: the CA is not publishing fresh ones.
    Stale {
        next_update: i64,
    },
    /// No usable answer: unreachable, too big, unparsable, not signed by the issuer.
    Unchecked(String),
}

/// HTTP(S) URLs of a certificate's CRL distribution points.
pub fn distribution_points(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut urls = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            for point in points.iter() {
                if let Some(x509_parser::extensions::DistributionPointName::FullName(names)) =
                    &point.distribution_point
                {
                    for name in names {
                        if let GeneralName::URI(uri) = name
                            && (uri.starts_with("http://") || uri.starts_with("https://"))
                        {
                            urls.push((*uri).to_string());
                        }
                    }
                }
            }
        }
    }
    urls
}

/// The certificate with serial `serial` (as encoded) against the CRL `der` from `issuer`.
pub fn judge(der: &[u8], issuer: &Issuer, serial: &[u8], now: i64) -> Verdict {
    let bytes = pem_or_der(der);
    let Ok((_, crl)) = CertificateRevocationList::from_der(&bytes) else {
        return Verdict::Unchecked("it is not a CRL (DER or PEM)".into());
    };
    if crl.issuer().as_raw() != issuer.subject_raw.as_slice() {
        return Verdict::Unchecked(format!(
            "it was issued by `{}`, not by the certificate's issuer `{}`",
            crl.issuer(),
            issuer.subject
        ));
    }
    let Ok((_, spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&issuer.spki) else {
        return Verdict::Unchecked(format!("the key of `{}` is unreadable", issuer.subject));
    };
    if crl.verify_signature(&spki).is_err() {
        return Verdict::Unchecked(format!(
            "its signature does not verify with the key of `{}`: it cannot be trusted",
            issuer.subject
        ));
    }
    let strip = |s: &[u8]| -> Vec<u8> { s.iter().skip_while(|b| **b == 0).copied().collect() };
    let wanted = strip(serial);
    for revoked in crl.iter_revoked_certificates() {
        if strip(revoked.raw_serial()) == wanted {
            return Verdict::Revoked {
                at: revoked.revocation_date.timestamp(),
                reason: revoked.reason_code().map(|(_, code)| code.0),
            };
        }
    }
    match crl.next_update() {
        Some(next) if next.timestamp() < now => Verdict::Stale {
            next_update: next.timestamp(),
        },
        _ => Verdict::Good,
    }
}

/// PEM (`-----BEGIN X509 CRL-----`) decoded, DER as it is.
fn pem_or_der(bytes: &[u8]) -> Vec<u8> {
    match x509_parser::pem::parse_x509_pem(bytes) {
        Ok((_, pem)) if pem.label.contains("CRL") => pem.contents,
        _ => bytes.to_vec(),
    }
}

/// One certificate's check, for evidence and the report.
struct Checked {
    label: String,
    url: Option<String>,
    verdict: Verdict,
}

/// Checks the leaf and intermediates of `chain` against their CRLs within what is left of the
/// item's budget, adding findings to `report` and `revocation` to `ev`.
pub async fn check(
    ctx: &ProbeContext,
    chain: &[CertificateDer<'static>],
    roots: &RootCertStore,
    report: &mut Report,
    ev: &mut serde_json::Map<String, Value>,
) {
    let now = unix_now();
    let mut jobs = Vec::new();
    for (index, der) in chain.iter().enumerate().take(MAX_CERTS) {
        let Ok((_, cert)) = X509Certificate::from_der(der) else {
            continue;
        };
        // A root the server sends along is not checked against anyone's CRL.
        if cert.subject().as_raw() == cert.issuer().as_raw() {
            continue;
        }
        let label = if index == 0 {
            format!(
                "certificate for {}",
                crate::tls::facts::CertFacts::parse(der)
                    .map(|f| f.label())
                    .unwrap_or_default()
            )
        } else {
            format!("chain certificate #{} `{}`", index + 1, cert.subject())
        };
        let urls = distribution_points(&cert);
        let serial = cert.raw_serial().to_vec();
        let issuer = issuer::find(index, chain, roots);
        jobs.push(async move {
            let Some(url) = urls.first().cloned() else {
                return Checked {
                    label,
                    url: None,
                    verdict: Verdict::Unchecked("it names no CRL distribution point".into()),
                };
            };
            let Some(issuer) = issuer else {
                return Checked {
                    label,
                    url: Some(url),
                    verdict: Verdict::Unchecked(
                        "its issuer is not known, so a CRL could not be trusted".into(),
                    ),
                };
            };
            let verdict = match fetch(ctx, &url).await {
                Ok(bytes) => judge(&bytes, &issuer, &serial, now),
                Err(why) => Verdict::Unchecked(why),
            };
            Checked {
                label,
                url: Some(url),
                verdict,
            }
        });
    }
    let checked = futures_util::future::join_all(jobs).await;
    let mut evidence = Vec::new();
    for c in &checked {
        let at = c.url.as_deref().unwrap_or("-");
        let mut entry = match &c.verdict {
            Verdict::Good => json!({"status": "good"}),
            Verdict::Revoked { at: when, reason } => {
                let why = reason.map(reason_name).unwrap_or("no reason given");
                report.add(
                    Status::Fail,
                    format!(
                        "{} is revoked ({why}) since {}, per the CRL at {at}: replace the certificate",
                        c.label,
                        date(*when)
                    ),
                );
                json!({"status": "revoked", "revoked_at": rfc3339(*when), "reason": reason.map(reason_name)})
            }
            Verdict::Stale { next_update } => {
                report.add(
                    Status::Warn,
                    format!(
                        "the CRL at {at} (for the {}) expired on {} (its nextUpdate): the CA is not publishing fresh ones",
                        c.label,
                        date(*next_update)
                    ),
                );
                json!({"status": "stale", "next_update": rfc3339(*next_update)})
            }
            Verdict::Unchecked(why) if c.url.is_none() => {
                report.add(
                    Status::Warn,
                    format!("revocation of the {} cannot be checked: {why}", c.label),
                );
                json!({"status": "unchecked", "detail": why})
            }
            Verdict::Unchecked(why) => {
                report.add(
                    Status::Error,
                    format!(
                        "revocation of the {} could not be checked: the CRL at {at}: {why}",
                        c.label
                    ),
                );
                json!({"status": "unchecked", "detail": why})
            }
        };
        if let Value::Object(map) = &mut entry {
            map.insert("certificate".into(), json!(c.label));
            map.insert("crl".into(), json!(c.url));
        }
        evidence.push(entry);
    }
    ev.insert("revocation".into(), Value::Array(evidence));
}

/// The CRL at `url`, read up to [`MAX_CRL`] through the run's politeness and proxy, within the
/// item's budget; the error says what went wrong in words.
async fn fetch(ctx: &ProbeContext, url: &str) -> Result<Vec<u8>, String> {
    let net = crate::net::NetParams::default();
    let reach = Reach::new(url, &None, &net);
    let fetcher = Fetcher::new(ctx, &reach, Some(3))?;
    let page = fetcher.get(url, &[], MAX_CRL).await.map_err(|no| {
        let prefix = format!("GET {url}: ");
        let why = no.message.strip_prefix(&prefix).unwrap_or(&no.message);
        format!("could not be fetched: {why}")
    })?;
    if page.status != 200 {
        return Err(format!("answered HTTP {} instead of the CRL", page.status));
    }
    if page.body.truncated {
        return Err(format!("it is over {} MiB and was not read", MAX_CRL >> 20));
    }
    Ok(page.body.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ca {
        issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
        found: Issuer,
    }

    fn ca(name: &str) -> Ca {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let cert = params.self_signed(&key).expect("ca");
        let (_, parsed) = X509Certificate::from_der(cert.der()).expect("parse");
        let found = Issuer {
            subject: parsed.subject().to_string(),
            subject_raw: parsed.subject().as_raw().to_vec(),
            spki: parsed.public_key().raw.to_vec(),
        };
        Ca {
            issuer: rcgen::Issuer::new(params, key),
            found,
        }
    }

    fn crl(ca: &Ca, revoked: &[u64], next_days: i64) -> Vec<u8> {
        let now = time::OffsetDateTime::now_utc();
        let params = rcgen::CertificateRevocationListParams {
            this_update: now - time::Duration::days(2),
            next_update: now + time::Duration::days(next_days),
            crl_number: rcgen::SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|s| rcgen::RevokedCertParams {
                    serial_number: rcgen::SerialNumber::from(*s),
                    revocation_time: now - time::Duration::days(1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        params.signed_by(&ca.issuer).expect("crl").der().to_vec()
    }

    #[test]
    fn a_listed_serial_is_revoked_with_its_reason_and_others_are_good() {
        let ca = ca("CRL Test CA");
        let list = crl(&ca, &[0x1234, 0x99], 7);
        let now = unix_now();
        match judge(&list, &ca.found, &[0x12, 0x34], now) {
            Verdict::Revoked { reason, .. } => {
                assert_eq!(reason.map(reason_name), Some("keyCompromise"))
            }
            other => panic!("expected revoked, got {other:?}"),
        }
        assert_eq!(judge(&list, &ca.found, &[0x00, 0x42], now), Verdict::Good);
        // Past its nextUpdate: stale, said so.
        let old = crl(&ca, &[], 1);
        assert!(matches!(
            judge(&old, &ca.found, &[1], now + 3 * 86_400),
            Verdict::Stale { .. }
        ));
    }

    #[test]
    fn a_crl_from_another_key_or_another_issuer_is_not_trusted() {
        let ca_a = ca("CRL Test CA");
        let forger = ca("CRL Test CA"); // same name, another key
        let forged = crl(&forger, &[], 7);
        match judge(&forged, &ca_a.found, &[1], unix_now()) {
            Verdict::Unchecked(why) => {
                assert!(why.starts_with("its signature does not verify"), "{why}")
            }
            other => panic!("expected unchecked, got {other:?}"),
        }
        let other = ca("Other CA");
        match judge(&crl(&other, &[], 7), &ca_a.found, &[1], unix_now()) {
            Verdict::Unchecked(why) => assert_eq!(
                why,
                "it was issued by `CN=Other CA`, not by the certificate's issuer `CN=CRL Test CA`"
            ),
            other => panic!("expected unchecked, got {other:?}"),
        }
        assert!(matches!(
            judge(b"junk", &ca_a.found, &[1], 0),
            Verdict::Unchecked(_)
        ));
    }
}
