//! The one verified handshake of the `tls` probe: rustls with the recording verifier (the
//! chain, the staple) and the recording client-certificate resolver (what the server asked).

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::net::dial::within;
use crate::net::identity::{ClientAuthRequest, ClientIdentity, RecordingClientAuth};
use crate::net::{NetStream, Route};
use crate::no_answer::NoAnswer;
use crate::outcome::Status;
use crate::tls::TlsProbe;
use crate::tls::chain::RecordingVerifier;
use crate::tls::explain;
use crate::tls::judge::Report;
use serde_json::{Map, Value, json};

/// What one handshake attempt produced.
pub(crate) struct Handshake {
    pub route: Route,
    pub chain: Option<Vec<CertificateDer<'static>>>,
    /// `(version, cipher)` when the handshake completed.
    pub negotiated: Option<(String, String)>,
    /// The key exchange group of the completed handshake (`x25519`, `secp256r1`).
    pub group: Option<String>,
    /// The stapled OCSP response, if the server sent one.
    pub staple: Option<Vec<u8>>,
    pub error: Option<rustls::Error>,
    pub other_error: Option<String>,
    /// Why the handshake did not complete (none when it did).
    pub why: Option<NoAnswer>,
    /// What the server asked for in a CertificateRequest, if it asked.
    pub client_auth: Option<ClientAuthRequest>,
}

impl TlsProbe {
    /// Shakes hands over `stream` with the recording verifier, within `budget` (what is left
    /// of `item_timeout`, which the message names).
    pub(crate) async fn handshake(
        &self,
        (stream, route): (NetStream, Route),
        name: &ServerName<'static>,
        verifier: Arc<RecordingVerifier>,
        client: Option<&ClientIdentity>,
        budget: Duration,
        item_timeout: Duration,
    ) -> Handshake {
        let addr = route.describe();
        let mut hs = Handshake {
            route,
            chain: None,
            negotiated: None,
            group: None,
            staple: None,
            error: None,
            other_error: None,
            why: None,
            client_auth: None,
        };
        let auth = match RecordingClientAuth::new(client) {
            Ok(a) => a,
            Err(e) => {
                hs.other_error = Some(e);
                hs.why = Some(NoAnswer::Other);
                return hs;
            }
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = match ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
        {
            Ok(c) => c
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_client_cert_resolver(auth.clone()),
            Err(e) => {
                hs.other_error = Some(format!("cannot configure TLS: {e}"));
                hs.why = Some(NoAnswer::Other);
                return hs;
            }
        };
        let connector = TlsConnector::from(Arc::new(config));
        match timeout(budget, connector.connect(name.clone(), stream)).await {
            Err(_) => {
                hs.other_error = Some(format!(
                    "the server accepted the connection but did not finish the handshake within {}",
                    within(item_timeout)
                ));
                hs.why = Some(NoAnswer::Timeout);
            }
            Ok(Ok(tls)) => {
                let (_, conn) = tls.get_ref();
                let version = conn
                    .protocol_version()
                    .and_then(|v| v.as_str())
                    .unwrap_or("unknown")
                    .replace("TLSv1_", "TLSv1.");
                let cipher = conn
                    .negotiated_cipher_suite()
                    .and_then(|c| c.suite().as_str())
                    .unwrap_or("unknown")
                    .to_string();
                hs.group = conn
                    .negotiated_key_exchange_group()
                    .map(|g| crate::tls::hello::group_name(u16::from(g.name())));
                hs.negotiated = Some((version, cipher));
            }
            Ok(Err(e)) => {
                let why = NoAnswer::from_io(&e);
                let kind = e.kind();
                match e
                    .into_inner()
                    .and_then(|i| i.downcast::<rustls::Error>().ok())
                {
                    Some(tls_err) => hs.error = Some(*tls_err),
                    None => {
                        hs.other_error = Some(format!(
                            "{addr} closed the connection during the handshake ({kind})"
                        ))
                    }
                }
                hs.why = Some(why);
            }
        }
        hs.client_auth = auth.asked();
        hs.chain = verifier.judge.seen.lock().ok().and_then(|mut s| s.take());
        hs.staple = verifier.judge.staple.lock().ok().and_then(|mut s| s.take());
        hs
    }
}

/// A failed handshake with a presented chain, judged (one that ended for want of, or over, a
/// client certificate says so); what the server asked of the client goes to `client_auth` in
/// the evidence, and the returned note to the passing message.
pub(crate) fn judge_client_auth(
    hs: &Handshake,
    client: Option<&ClientIdentity>,
    report: &mut Report,
    ev: &mut Map<String, Value>,
) -> String {
    match (&hs.error, &hs.client_auth, client) {
        // The server wanted a certificate it was not given (or did not like the one given).
        (Some(err), Some(req), None) if !report.failed() => report.add(
            Status::Fail,
            format!(
                "the server demands a client certificate ({}) and none was given: set `client_cert` and `client_key` ({})",
                req.accepted(),
                explain::handshake_error(err, None)
            ),
        ),
        (Some(err), Some(req), Some(id)) if !report.failed() => report.add(
            Status::Fail,
            format!(
                "the server refused the client certificate `{}` issued by `{}` ({}; {})",
                id.subject,
                id.issuer,
                req.accepted(),
                explain::handshake_error(err, None)
            ),
        ),
        (Some(err), _, _) if hs.chain.is_some() && !report.failed() => report.add(
            Status::Fail,
            format!(
                "TLS handshake failed: {}",
                explain::handshake_error(err, None)
            ),
        ),
        _ => {}
    }
    match (&hs.client_auth, client) {
        (Some(req), None) => {
            ev.insert("client_auth".into(), req.evidence(None));
            format!(
                "; the server asks for a client certificate ({}), none given",
                req.accepted()
            )
        }
        (Some(req), Some(id)) => {
            ev.insert("client_auth".into(), req.evidence(Some(id)));
            format!("; client certificate `{}` presented", id.subject)
        }
        (None, _) if hs.negotiated.is_some() => {
            ev.insert("client_auth".into(), json!({ "requested": false }));
            String::new()
        }
        (None, _) => String::new(),
    }
}
