//! Who issued a certificate the server presented: the next certificate that names it, or a
//! trusted root. Revocation answers (CRLs, OCSP responses) are checked against its key.

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::tls::chain::der_value;

/// An issuing certificate authority, as revocation checks need it.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// Its name as text (`CN=Example CA`).
    pub subject: String,
    /// Its subject name, raw DER (to match a CRL's or OCSP response's issuer).
    pub subject_raw: Vec<u8>,
    /// Its SubjectPublicKeyInfo, DER with the outer SEQUENCE.
    pub spki: Vec<u8>,
}

impl Issuer {
    /// Verifies `signature` (BIT STRING contents without the unused-bits byte handled by the
    /// parser) over `signed` with `algorithm` (DER AlgorithmIdentifier) under this key.
    pub fn verifies(&self, algorithm: &[u8], signature: &[u8], signed: &[u8]) -> bool {
        let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(&self.spki) else {
            return false;
        };
        let Ok((_, alg)) = x509_parser::x509::AlgorithmIdentifier::from_der(algorithm) else {
            return false;
        };
        let Ok((_, sig)) = <x509_parser::asn1_rs::BitString as x509_parser::asn1_rs::FromDer<
            '_,
            x509_parser::asn1_rs::Error,
        >>::from_der(signature) else {
            return false;
        };
        x509_parser::verify::verify_signature(&spki, &alg, &sig, signed).is_ok()
    }
}

/// The issuer of `chain[index]`: a later-or-earlier presented certificate whose subject is
/// its issuer (and whose key verifies its signature), else a trusted root of that name.
pub fn find(index: usize, chain: &[CertificateDer<'_>], roots: &RootCertStore) -> Option<Issuer> {
    let (_, cert) = X509Certificate::from_der(chain.get(index)?).ok()?;
    let wanted = cert.issuer().as_raw();
    for (j, der) in chain.iter().enumerate() {
        if j == index {
            continue;
        }
        let Ok((_, candidate)) = X509Certificate::from_der(der) else {
            continue;
        };
        if candidate.subject().as_raw() == wanted
            && cert.verify_signature(Some(candidate.public_key())).is_ok()
        {
            return Some(Issuer {
                subject: candidate.subject().to_string(),
                subject_raw: wanted.to_vec(),
                spki: candidate.public_key().raw.to_vec(),
            });
        }
    }
    let value = der_value(wanted);
    for anchor in &roots.roots {
        if anchor.subject.as_ref() != value {
            continue;
        }
        let spki = sequence(anchor.subject_public_key_info.as_ref());
        let issuer = Issuer {
            subject: cert.issuer().to_string(),
            subject_raw: wanted.to_vec(),
            spki,
        };
        let (_, key) = SubjectPublicKeyInfo::from_der(&issuer.spki).ok()?;
        if cert.verify_signature(Some(&key)).is_ok() {
            return Some(issuer);
        }
    }
    None
}

/// `value` wrapped as a DER SEQUENCE.
fn sequence(value: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_wrap_short_and_long_values() {
        assert_eq!(sequence(&[1, 2]), [0x30, 2, 1, 2]);
        let long = sequence(&[7; 300]);
        assert_eq!(&long[..4], &[0x30, 0x82, 0x01, 0x2c]);
        assert_eq!(der_value(&long).len(), 300);
    }

    #[test]
    fn the_issuer_is_found_among_the_roots_and_its_key_checks_signatures() {
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca");
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Issuer Test CA");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let leaf_key = rcgen::KeyPair::generate().expect("key");
        let leaf = rcgen::CertificateParams::new(vec!["shop.test".to_string()])
            .expect("leaf")
            .signed_by(&leaf_key, &issuer)
            .expect("leaf cert");
        let mut roots = RootCertStore::empty();
        roots.add(ca_cert.der().clone()).expect("root");
        let chain = [leaf.der().clone()];
        let found = find(0, &chain, &roots).expect("found among the roots");
        assert_eq!(found.subject, "CN=Issuer Test CA");
        // The same through the presented chain.
        let chain = [leaf.der().clone(), ca_cert.der().clone()];
        let found = find(0, &chain, &RootCertStore::empty()).expect("found in the chain");
        assert_eq!(found.subject, "CN=Issuer Test CA");
    }
}
