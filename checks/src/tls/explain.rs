//! rustls errors in words a human can act on: no `Debug` dumps of algorithm ids, no
//! `Other(OtherError(..))`, and "too large" instead of "corrupt" for a huge certificate.

use rustls::{AlertDescription, CertificateError, Error, InvalidMessage, PeerIncompatible};

use crate::tls::facts::CertFacts;

/// `HandshakeFailure` → `handshake_failure`.
pub fn snake(debug_name: &str) -> String {
    let mut out = String::new();
    for (i, ch) in debug_name.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// The alert name as the RFCs spell it.
pub fn alert(desc: &AlertDescription) -> String {
    snake(&format!("{desc:?}"))
}

/// Why the rustls handshake failed, in one clause. `chain` is what the server presented, when
/// it got that far.
pub fn handshake_error(err: &Error, chain: Option<&[CertFacts]>) -> String {
    match err {
        Error::AlertReceived(desc) => {
            format!("the server aborted the handshake (alert {})", alert(desc))
        }
        Error::InvalidCertificate(e) => certificate_error(e, chain.unwrap_or_default()),
        Error::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge) => format!(
            "the server sent a handshake message larger than {} KB, which rustls and many other clients refuse",
            crate::tls::hello::CLIENT_MESSAGE_LIMIT / 1024 + 1
        ),
        Error::InvalidMessage(m) => format!(
            "the server sent a malformed TLS message ({})",
            snake(&format!("{m:?}")).replace('_', " ")
        ),
        Error::PeerIncompatible(p) => incompatible(p),
        Error::PeerMisbehaved(m) => format!(
            "the server broke the TLS protocol ({})",
            words(&format!("{m:?}"))
        ),
        Error::NoCertificatesPresented => "the server presented no certificate".into(),
        other => {
            let text = other.to_string();
            text.chars().take(200).collect()
        }
    }
}

fn incompatible(p: &PeerIncompatible) -> String {
    match p {
        PeerIncompatible::NoCipherSuitesInCommon => {
            "no cipher suite in common with a modern client".into()
        }
        PeerIncompatible::NoKxGroupsInCommon => {
            "no key exchange group in common with a modern client (x25519, P-256, P-384)".into()
        }
        PeerIncompatible::NoSignatureSchemesInCommon => {
            "no signature scheme in common with a modern client".into()
        }
        PeerIncompatible::ServerDoesNotSupportTls12Or13 => {
            "the server speaks neither TLS 1.2 nor TLS 1.3".into()
        }
        other => format!(
            "the server is incompatible: {}",
            words(&format!("{other:?}"))
        ),
    }
}

/// `CaUsedAsEndEntity` → `ca used as end entity`; keeps only the variant name of a Debug text.
fn words(debug: &str) -> String {
    let name: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    snake(&name).replace('_', " ")
}

/// Why the certificate chain was refused, naming the certificate when the facts allow.
pub fn certificate_error(e: &CertificateError, chain: &[CertFacts]) -> String {
    let weak = chain.iter().find(|f| f.weak_signature());
    match e {
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => match weak {
            Some(f) => format!(
                "`{}` is signed with {}: SHA-1 and MD5 signatures are forgeable, and browsers and rustls refuse them; reissue it with SHA-256",
                f.label(),
                f.signature_algorithm
            ),
            None => "a certificate in the chain is signed with an algorithm browsers and rustls do not accept".into(),
        },
        CertificateError::Other(other) => {
            let name = words(&format!("{:?}", other.0));
            if name == "ca used as end entity" {
                reversed(chain)
            } else if name == "end entity used as ca" {
                "a certificate that is not a CA was used to sign another certificate in the chain"
                    .into()
            } else {
                format!("the certificate was rejected: {name}")
            }
        }
        CertificateError::BadEncoding => "a certificate is not valid DER".into(),
        CertificateError::Revoked => "the certificate is revoked".into(),
        CertificateError::UnknownIssuer => {
            "the issuer of the certificate is neither sent nor trusted".into()
        }
        CertificateError::BadSignature => {
            "a certificate's signature does not match its issuer's key".into()
        }
        other => {
            let text = other.to_string();
            text.chars().take(200).collect()
        }
    }
}

/// The server sent a CA certificate first: usually the chain file lists the issuer before the
/// server's own certificate.
fn reversed(chain: &[CertFacts]) -> String {
    let Some(first) = chain.first() else {
        return "the server presents a CA certificate as its own; configure the server's certificate first, then its issuers".into();
    };
    match chain.iter().position(|f| !f.is_ca) {
        Some(i) if i > 0 => format!(
            "the certificates are in the wrong order: the server sends the CA certificate `{}` first and its own certificate `{}` as #{} of {}; list the server's certificate first, then its issuers",
            first.subject,
            chain[i].label(),
            i + 1,
            chain.len()
        ),
        _ => format!(
            "the server presents the CA certificate `{}` as its own; configure the server's certificate first, then its issuers",
            first.subject
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_words() {
        assert_eq!(snake("HandshakeFailure"), "handshake_failure");
        assert_eq!(words("CaUsedAsEndEntity"), "ca used as end entity");
        assert_eq!(words("Foo { x: 1 }"), "foo");
        let msg = handshake_error(
            &Error::AlertReceived(AlertDescription::HandshakeFailure),
            None,
        );
        assert_eq!(
            msg,
            "the server aborted the handshake (alert handshake_failure)"
        );
        let big = handshake_error(
            &Error::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge),
            None,
        );
        assert!(big.contains("larger than 64 KB"), "{big}");
        assert!(!big.contains("corrupt"), "{big}");
    }

    #[test]
    fn webpki_errors_inside_other_read_as_sentences() {
        let err = CertificateError::Other(rustls::OtherError(std::sync::Arc::new(
            webpki::Error::CaUsedAsEndEntity,
        )));
        let msg = certificate_error(&err, &[]);
        assert!(
            msg.starts_with("the server presents a CA certificate as its own"),
            "{msg}"
        );
        assert!(!msg.contains("OtherError"), "{msg}");
        let unsupported = CertificateError::UnsupportedSignatureAlgorithmContext {
            signature_algorithm_id: vec![6, 9, 42],
            supported_algorithms: vec![],
        };
        let msg = certificate_error(&unsupported, &[]);
        assert!(!msg.contains("[6, 9"), "{msg}");
    }
}
