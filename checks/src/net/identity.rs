//! The client certificate a probe presents (`client_cert` / `client_key`): read once from PEM
//! files or PEM text (`${env:CLIENT_KEY}`), checked to belong together; the key never shows.

use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde_json::{Value, json};
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use crate::probe::ParamIssue;

/// A client certificate and its key, loaded.
pub struct ClientIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The leaf's subject and issuer, for messages and evidence.
    pub subject: String,
    pub issuer: String,
    /// The leaf's X.509 version (1 for a certificate made without extensions).
    pub version: u32,
    /// The leaf's SubjectPublicKeyInfo, DER: what the key must match.
    spki: Vec<u8>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("ClientIdentity")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .finish()
    }
}

/// How a parameter names its PEM: a path, or the PEM text itself (from `${env:…}`).
fn source_name(field: &str, value: &str) -> String {
    if is_inline(value) {
        format!("`{field}` (PEM text)")
    } else {
        format!("`{field}` file `{value}`")
    }
}

fn is_inline(value: &str) -> bool {
    value.trim_start().starts_with("-----BEGIN")
}

fn read(field: &str, value: &str) -> Result<Vec<u8>, String> {
    if is_inline(value) {
        return Ok(value.as_bytes().to_vec());
    }
    std::fs::read(Path::new(value))
        .map_err(|e| format!("cannot read `{field}` file `{value}`: {e}"))
}

impl ClientIdentity {
    /// Loads `client_cert` (a chain, leaf first) and `client_key`, each a path or PEM text.
    pub fn load(cert: &str, key: &str) -> Result<ClientIdentity, String> {
        let cert_pem = read("client_cert", cert)?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{} is not PEM: {e}", source_name("client_cert", cert)))?;
        let Some(leaf) = chain.first() else {
            return Err(format!(
                "{} holds no certificate (expected `-----BEGIN CERTIFICATE-----`)",
                source_name("client_cert", cert)
            ));
        };
        let (_, parsed) = X509Certificate::from_der(leaf).map_err(|e| {
            format!(
                "{} holds an unreadable certificate: {e}",
                source_name("client_cert", cert)
            )
        })?;
        let (subject, issuer) = (parsed.subject().to_string(), parsed.issuer().to_string());
        let version = parsed.version().0 + 1;
        let spki = parsed.public_key().raw.to_vec();
        let key_pem = read("client_key", key)?;
        let key = private_key(&key_pem)
            .map_err(|why| format!("{} {why}", source_name("client_key", key)))?;
        let identity = ClientIdentity {
            chain,
            key,
            subject,
            issuer,
            version,
            spki,
        };
        // rustls checks that the key is the certificate's.
        identity.certified_key()?;
        Ok(identity)
    }

    /// The chain and key as rustls signs with them. The key is matched to the certificate
    /// here (SubjectPublicKeyInfo compared) rather than by rustls, whose WebPKI parser refuses
    /// X.509 v1 certificates that servers (nginx, OpenSSL) accept from clients.
    pub fn certified_key(&self) -> Result<Arc<CertifiedKey>, String> {
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(self.key.clone_key())
            .map_err(|e| format!("`client_key` cannot sign: {e}"))?;
        if let Some(public) = signing.public_key()
            && public.as_ref() != self.spki.as_slice()
        {
            return Err(format!(
                "`client_key` is not the key of `client_cert` (`{}`): give the key the certificate was issued for",
                self.subject
            ));
        }
        Ok(Arc::new(CertifiedKey::new(self.chain.clone(), signing)))
    }

    /// Certificates and key as one PEM text (what reqwest's `Identity::from_pem` reads).
    pub fn pem(&self) -> Vec<u8> {
        let mut out = String::new();
        for cert in &self.chain {
            out.push_str(&pem_block("CERTIFICATE", cert.as_ref()));
        }
        let (label, der) = match &self.key {
            PrivateKeyDer::Pkcs1(k) => ("RSA PRIVATE KEY", k.secret_pkcs1_der()),
            PrivateKeyDer::Sec1(k) => ("EC PRIVATE KEY", k.secret_sec1_der()),
            PrivateKeyDer::Pkcs8(k) => ("PRIVATE KEY", k.secret_pkcs8_der()),
            _ => ("PRIVATE KEY", &[][..]),
        };
        out.push_str(&pem_block(label, der));
        out.into_bytes()
    }

    /// Who the certificate says the client is, for evidence (public facts only).
    pub fn evidence(&self) -> Value {
        json!({ "subject": self.subject, "issuer": self.issuer })
    }
}

/// The one private key of a PEM text, or why there is none usable.
fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    let mut found = None;
    for section in <(SectionKind, Vec<u8>) as PemObject>::pem_slice_iter(pem) {
        let (kind, der) = section.map_err(|e| format!("is not PEM: {e}"))?;
        let key = match kind {
            SectionKind::PrivateKey => PrivateKeyDer::Pkcs8(der.into()),
            SectionKind::RsaPrivateKey => PrivateKeyDer::Pkcs1(der.into()),
            SectionKind::EcPrivateKey => PrivateKeyDer::Sec1(der.into()),
            _ => continue,
        };
        if found.is_some() {
            return Err("holds more than one private key; give just the client's".into());
        }
        found = Some(key);
    }
    if let Some(key) = found {
        return Ok(key);
    }
    let text = String::from_utf8_lossy(pem);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err("is encrypted; prodcheck needs the key unencrypted (`openssl pkey -in key.pem -out key-plain.pem`), kept in a secret such as `${env:CLIENT_KEY}`".into());
    }
    Err("holds no private key (expected `-----BEGIN PRIVATE KEY-----`)".into())
}

fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// `client_cert` and `client_key` come together; the problems before anything runs.
pub fn check(cert: &Option<String>, key: &Option<String>) -> Vec<ParamIssue> {
    match (cert, key) {
        (Some(_), None) => vec![
            ParamIssue::new("client_cert", "`client_cert` has no `client_key`").hint(
                "give the certificate's private key too: `client_key: ${env:CLIENT_KEY}` or a path",
            ),
        ],
        (None, Some(_)) => vec![
            ParamIssue::new("client_key", "`client_key` has no `client_cert`")
                .hint("give the client certificate too: `client_cert: certs/client.pem`"),
        ],
        _ => Vec::new(),
    }
}

/// Loads the identity an item names, if any.
pub fn load(cert: &Option<String>, key: &Option<String>) -> Result<Option<ClientIdentity>, String> {
    match (cert, key) {
        (Some(c), Some(k)) => ClientIdentity::load(c, k).map(Some),
        _ => Ok(None),
    }
}

/// What a server asked for in its CertificateRequest: the CA names it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuthRequest {
    /// Distinguished names (`CN=Internal Client CA, O=Example`); empty: any CA.
    pub ca_names: Vec<String>,
}

impl ClientAuthRequest {
    /// `issued by `CN=A` or `CN=B``, or `from any CA` when the server names none.
    pub fn accepted(&self) -> String {
        match self.ca_names.as_slice() {
            [] => "it names no CA".to_string(),
            names => format!(
                "it accepts certificates issued by {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        }
    }

    /// `; the server asks for a client certificate (…) and none was given: …`, to append to
    /// a failure it may explain.
    pub fn explain(&self, presented: Option<&ClientIdentity>) -> String {
        match presented {
            None => format!(
                "; the server asks for a client certificate ({}) and none was given: set `client_cert` and `client_key`",
                self.accepted()
            ),
            Some(id) => format!(
                "; the server asks for a client certificate ({}) and was given `{}` (issued by `{}`)",
                self.accepted(),
                id.subject,
                id.issuer
            ),
        }
    }

    pub fn evidence(&self, presented: Option<&ClientIdentity>) -> Value {
        json!({
            "requested": true,
            "ca_names": self.ca_names,
            "presented": presented.map(|i| i.subject.as_str()),
        })
    }
}

/// A client certificate resolver that answers with the item's certificate (if any) and notes
/// that the server asked, and for which CAs.
#[derive(Debug)]
pub struct RecordingClientAuth {
    key: Option<Arc<CertifiedKey>>,
    asked: Mutex<Option<ClientAuthRequest>>,
}

impl RecordingClientAuth {
    pub fn new(identity: Option<&ClientIdentity>) -> Result<Arc<RecordingClientAuth>, String> {
        let key = identity.map(ClientIdentity::certified_key).transpose()?;
        Ok(Arc::new(RecordingClientAuth {
            key,
            asked: Mutex::new(None),
        }))
    }

    /// What the server asked for, if it asked during the handshake.
    pub fn asked(&self) -> Option<ClientAuthRequest> {
        self.asked.lock().ok().and_then(|a| a.clone())
    }
}

impl ResolvesClientCert for RecordingClientAuth {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let ca_names = root_hint_subjects.iter().map(|der| dn_text(der)).collect();
        if let Ok(mut slot) = self.asked.lock() {
            *slot = Some(ClientAuthRequest { ca_names });
        }
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// A DER distinguished name as text (`CN=…, O=…`); unreadable ones as hex.
fn dn_text(der: &[u8]) -> String {
    match X509Name::from_der(der) {
        Ok((_, name)) => name.to_string(),
        Err(_) => der.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated() -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["client.test".to_string()]).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "deploy-bot");
        let cert = params.self_signed(&key).expect("cert");
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn a_certificate_and_its_key_load_from_text_and_the_key_never_shows() {
        let (cert, key) = generated();
        let id = ClientIdentity::load(&cert, &key).expect("loads");
        assert_eq!(id.subject, "CN=deploy-bot");
        assert!(!format!("{id:?}").contains("PRIVATE"));
        // Round trip through the PEM reqwest reads.
        let again = String::from_utf8(id.pem()).expect("utf8");
        assert!(again.contains("-----BEGIN CERTIFICATE-----"));
        let (_, other_key) = generated();
        let err = ClientIdentity::load(&cert, &other_key).expect_err("not its key");
        assert!(
            err.starts_with("`client_key` is not the key of `client_cert` (`CN=deploy-bot`)"),
            "{err}"
        );
        assert!(!err.contains("BEGIN"), "{err}");
    }

    #[test]
    fn unusable_keys_are_named_by_where_they_came_from() {
        let (cert, _) = generated();
        let err = ClientIdentity::load(&cert, "/nonexistent/key.pem").expect_err("missing");
        assert!(
            err.starts_with("cannot read `client_key` file `/nonexistent/key.pem`"),
            "{err}"
        );
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let err = ClientIdentity::load(&cert, enc).expect_err("encrypted");
        assert!(
            err.starts_with("`client_key` (PEM text) is encrypted"),
            "{err}"
        );
        let err = ClientIdentity::load(&cert, &cert).expect_err("a certificate is not a key");
        assert!(err.contains("holds no private key"), "{err}");
        assert_eq!(check(&Some("c".into()), &None)[0].field, "client_cert");
    }
}
