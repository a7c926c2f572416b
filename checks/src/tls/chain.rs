//! rustls aborts a handshake on a bad certificate before anyone sees the chain: this verifier
//! records what the server presented, then returns the real verdict; plus "which link broke".

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, Error, RootCertStore};

use crate::net::tls_client::{CertJudge, Presented, Verifier};
use crate::tls::facts::CertFacts;

/// The chain the server presented (leaf first), filled in during the handshake.
pub type Recorded = Arc<Mutex<Option<Vec<CertificateDer<'static>>>>>;

/// The verifier of the `tls` probe's handshakes: records what the server presented, then
/// gives WebPKI's verdict unchanged.
pub type RecordingVerifier = Verifier<Recording>;

/// Records the presented chain and staple; the verdict is WebPKI's.
#[derive(Debug)]
pub struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    pub seen: Recorded,
    /// The stapled OCSP response, when the server sent one (rustls always asks).
    pub staple: Arc<Mutex<Option<Vec<u8>>>>,
}

impl RecordingVerifier {
    pub fn new(roots: Arc<RootCertStore>) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| format!("cannot build the certificate verifier: {e}"))?;
        Ok(Verifier::judged_by(Recording {
            inner,
            seen: Arc::new(Mutex::new(None)),
            staple: Arc::new(Mutex::new(None)),
        }))
    }

    /// Verifies `chain` for `name` at `now` with the real verifier, outside any handshake.
    pub fn verify_at(
        &self,
        chain: &[CertificateDer<'static>],
        name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let (leaf, rest) = chain.split_first().ok_or(Error::NoCertificatesPresented)?;
        self.judge
            .inner
            .verify_server_cert(leaf, rest, name, &[], now)
            .map(|_| ())
    }
}

impl CertJudge for Recording {
    fn judge(&self, presented: &Presented<'_>) -> Result<ServerCertVerified, Error> {
        let mut chain = vec![presented.end_entity.clone().into_owned()];
        chain.extend(
            presented
                .intermediates
                .iter()
                .map(|c| c.clone().into_owned()),
        );
        if let Ok(mut slot) = self.seen.lock() {
            *slot = Some(chain);
        }
        if !presented.ocsp.is_empty()
            && let Ok(mut slot) = self.staple.lock()
        {
            *slot = Some(presented.ocsp.to_vec());
        }
        presented.webpki(&self.inner)
    }
}

/// Whether a verifier error is about time or name only (judged separately from the chain).
pub fn is_time_or_name(err: &Error) -> bool {
    matches!(
        err,
        Error::InvalidCertificate(
            CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. }
                | CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. }
        )
    )
}

pub fn is_unknown_issuer(err: &Error) -> bool {
    matches!(
        err,
        Error::InvalidCertificate(CertificateError::UnknownIssuer)
    )
}

/// The value of a DER TLV (what WebPKI stores as a trust anchor's subject).
pub(crate) fn der_value(tlv: &[u8]) -> &[u8] {
    let Some(&first_len) = tlv.get(1) else {
        return tlv;
    };
    let start = if first_len < 0x80 {
        2
    } else {
        2 + usize::from(first_len & 0x7f)
    };
    tlv.get(start..).unwrap_or(tlv)
}

/// Explains where an unknown-issuer chain breaks: the first certificate whose issuer was
/// neither sent next nor is a trusted root.
pub fn chain_break(chain: &[CertFacts], roots: &RootCertStore) -> String {
    let trusted = |issuer: &[u8]| {
        let value = der_value(issuer);
        roots
            .roots
            .iter()
            .any(|a| a.subject.as_ref() == value || a.subject.as_ref() == issuer)
    };
    for (i, cert) in chain.iter().enumerate() {
        if trusted(&cert.issuer_raw) {
            continue;
        }
        let sent_issuer = chain
            .iter()
            .skip(i + 1)
            .any(|c| c.subject_raw == cert.issuer_raw);
        if cert.self_signed() {
            return if i == 0 {
                format!(
                    "self-signed certificate `{}` is not a trusted root",
                    cert.subject
                )
            } else {
                format!(
                    "the chain ends in self-signed `{}`, which is not a trusted root",
                    cert.subject
                )
            };
        }
        if sent_issuer {
            continue;
        }
        return if chain.len() == 1 {
            format!(
                "missing intermediate: the server sent only the leaf, and its issuer `{}` is not a trusted root",
                cert.issuer
            )
        } else {
            format!(
                "unknown issuer `{}` (issuer of `{}`): not sent by the server and not a trusted root",
                cert.issuer, cert.subject
            )
        };
    }
    "the chain does not lead to a trusted root".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_value_strips_short_and_long_headers() {
        assert_eq!(der_value(&[0x30, 2, 9, 9]), &[9, 9]);
        let mut long = vec![0x30, 0x81, 200];
        long.extend(std::iter::repeat_n(7u8, 200));
        assert_eq!(der_value(&long).len(), 200);
        assert_eq!(der_value(&[0x30]), &[0x30]);
        assert_eq!(der_value(&[0x30, 0x84]), &[0x30, 0x84]);
    }
}
