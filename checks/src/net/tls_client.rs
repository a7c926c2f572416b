//! The rustls client configuration every TLS-speaking probe builds the same way: trust (system
//! roots plus `ca_file`), host-name check on or off, and the client certificate, recorded.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::net::identity::{ClientIdentity, RecordingClientAuth};

/// A client configuration, and the recorder that says whether the server asked for a
/// client certificate during a handshake made with it.
#[derive(Debug, Clone)]
pub struct TlsClient {
    pub config: Arc<ClientConfig>,
    pub auth: Arc<RecordingClientAuth>,
}

/// `; the server asks for a client certificate …` when that explains a failure.
pub fn client_auth_hint(tls: Option<&TlsClient>, identity: Option<&ClientIdentity>) -> String {
    tls.and_then(|t| t.auth.asked())
        .map(|req| req.explain(identity))
        .unwrap_or_default()
}

/// The name a handshake presents (SNI) and verifies: the item's `server_name`, else its host.
pub fn server_name(name: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(name.to_string()).map_err(|e| format!("invalid server name `{name}`: {e}"))
}

/// Builds the configuration: `roots` trusted, the host name verified unless `verify_name` is
/// false (libpq's `verify-ca`), `identity` presented when the server asks, `alpn` offered.
pub fn client_config(
    roots: Arc<RootCertStore>,
    verify_name: bool,
    identity: Option<&ClientIdentity>,
    alpn: &[&[u8]],
) -> Result<TlsClient, String> {
    let auth = RecordingClientAuth::new(identity)?;
    let builder = ClientConfig::builder();
    let mut config = if verify_name {
        builder
            .with_root_certificates(roots)
            .with_client_cert_resolver(auth.clone())
    } else {
        let inner = WebPkiServerVerifier::builder(roots)
            .build()
            .map_err(|e| format!("cannot build the certificate verifier: {e}"))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Verifier::judged_by(ChainOnly(inner))))
            .with_client_cert_resolver(auth.clone())
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(TlsClient {
        config: Arc::new(config),
        auth,
    })
}

/// What a [`Verifier`] decides about the server's certificates; the handshake signatures are
/// checked the one standard way whatever the judge says.
pub trait CertJudge: std::fmt::Debug + Send + Sync {
    fn judge(&self, presented: &Presented<'_>) -> Result<ServerCertVerified, rustls::Error>;
}

/// What the server presented in a handshake, as rustls hands it to a verifier.
pub struct Presented<'a> {
    pub end_entity: &'a CertificateDer<'a>,
    pub intermediates: &'a [CertificateDer<'a>],
    pub server_name: &'a ServerName<'a>,
    pub ocsp: &'a [u8],
    pub now: UnixTime,
}

impl Presented<'_> {
    /// The WebPKI verdict on these certificates (chain, dates and name).
    pub fn webpki(
        &self,
        webpki: &WebPkiServerVerifier,
    ) -> Result<ServerCertVerified, rustls::Error> {
        webpki.verify_server_cert(
            self.end_entity,
            self.intermediates,
            self.server_name,
            self.ocsp,
            self.now,
        )
    }
}

/// A rustls certificate verifier: `judge` decides on the certificates, the handshake
/// signatures are verified with the ring provider's algorithms (as WebPKI's verifier does).
#[derive(Debug)]
pub struct Verifier<J> {
    pub judge: J,
    algorithms: WebPkiSupportedAlgorithms,
}

impl<J: CertJudge> Verifier<J> {
    pub fn judged_by(judge: J) -> Self {
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        Verifier { judge, algorithms }
    }
}

impl<J: CertJudge> ServerCertVerifier for Verifier<J> {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.judge.judge(&Presented {
            end_entity,
            intermediates,
            server_name,
            ocsp,
            now,
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The chain must verify to a trusted root; the host name is not compared (`verify-ca`, an IP
/// address or alias the certificate does not name).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl CertJudge for ChainOnly {
    fn judge(&self, presented: &Presented<'_>) -> Result<ServerCertVerified, rustls::Error> {
        match presented.webpki(&self.0) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
}

/// Accepts any server certificate, signatures still checked: only for asking a server what it
/// wants from clients, never for a verdict about the server.
#[derive(Debug)]
struct AskOnly;

impl CertJudge for AskOnly {
    fn judge(&self, _: &Presented<'_>) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
}

/// Whether the server at `host:port` asks clients for a certificate, and for which CAs: one
/// handshake (through the item's route) that presents none. `None`: it does not ask, or could
/// not be asked within `budget`.
pub async fn ask_client_auth(
    host: &str,
    port: u16,
    opts: &crate::net::NetParams,
    budget: std::time::Duration,
) -> Option<crate::net::identity::ClientAuthRequest> {
    let started = std::time::Instant::now();
    let (stream, _) = crate::net::dial(host, port, "https", opts, budget)
        .await
        .ok()?;
    let auth = RecordingClientAuth::new(None).ok()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier::judged_by(AskOnly)))
        .with_client_cert_resolver(auth.clone());
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string()).ok()?;
    let left = budget.saturating_sub(started.elapsed());
    // The handshake may fail once the server sees no certificate: what it asked is recorded.
    let _ = tokio::time::timeout(
        left,
        tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, stream),
    )
    .await;
    auth.asked()
}
