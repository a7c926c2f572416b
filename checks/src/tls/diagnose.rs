//! When the rustls handshake fails, ask the server by hand (a broad TLS 1.2 hello and the
//! suite enumeration) what it does speak and for its certificate, and say what is wrong.

use std::time::Duration;

use rustls::pki_types::CertificateDer;
use serde_json::{Map, Value, json};

use crate::net::Route;
use crate::outcome::Status;
use crate::tls::explain;
use crate::tls::facts::CertFacts;
use crate::tls::handshake::Handshake;
use crate::tls::hello::{self, Answer, CLIENT_MESSAGE_LIMIT, Flight, Want};
use crate::tls::judge::Report;
use crate::tls::profile;
use crate::tls::scan::{self, Scan};
use crate::tls::suites::{self, Bulk, Kx};

/// What the hand-written hellos learned about a server rustls could not talk to.
pub struct Diagnosis {
    /// The answer to one hello offering every suite prodcheck knows.
    pub broad: Answer,
    /// Suites accepted on TLS 1.2 (a copy of the enumeration).
    pub accepted: Vec<scan::Accepted>,
}

/// Sends the broad hello and, unless `scanned` already holds one, the enumeration, at once.
pub async fn diagnose(
    route: &Route,
    sni: Option<&str>,
    scanned: &mut Option<Scan>,
    budget: Duration,
    parallel: usize,
) -> Diagnosis {
    let hello = hello::client_hello(0x0303, &suites::all_ids(), sni);
    let need_scan = scanned.is_none();
    let enumeration = async {
        match need_scan {
            true => Some(scan::enumerate(route, sni, 0x0303, budget, parallel).await),
            false => None,
        }
    };
    let (broad, fresh) = tokio::join!(
        hello::exchange(route, &hello, Want::Flight, budget),
        enumeration
    );
    if fresh.is_some() {
        *scanned = fresh;
    }
    Diagnosis {
        broad,
        accepted: scanned
            .as_ref()
            .map(|s| s.accepted.clone())
            .unwrap_or_default(),
    }
}

/// Whether rustls (TLS 1.2: ECDHE with AES-GCM or ChaCha20-Poly1305) can use a suite.
fn rustls_speaks(id: u16) -> bool {
    suites::find(id)
        .is_some_and(|s| s.kx == Kx::Ecdhe && s.bulk == Bulk::Aead && !s.name.contains("CCM"))
}

impl Diagnosis {
    fn flight(&self) -> Option<&Flight> {
        match &self.broad {
            Answer::Accepted(f) => Some(f),
            _ => None,
        }
    }

    /// The certificates the server sent to the broad hello.
    pub fn chain(&self) -> Option<Vec<CertificateDer<'static>>> {
        let certs = self.flight()?.certificates.as_ref()?;
        (!certs.is_empty()).then(|| {
            certs
                .iter()
                .map(|c| CertificateDer::from(c.clone()))
                .collect()
        })
    }

    /// Adds the failure, in words, and what the server answered by hand to the evidence.
    pub fn report(&self, hs: &Handshake, report: &mut Report, ev: &mut Map<String, Value>) {
        let mut reason = hs
            .error
            .as_ref()
            .map(|e| explain::handshake_error(e, None))
            .or_else(|| hs.other_error.clone())
            .unwrap_or_else(|| "no common parameters".into());
        if let Some(f) = self.flight() {
            ev.insert("version".into(), json!(hello::version_name(f.version)));
            ev.insert("cipher".into(), json!(suites::name(f.suite)));
            ev.insert(
                "key_exchange".into(),
                json!(f.key_exchange.map(|k| k.describe())),
            );
            ev.insert("negotiated_by".into(), json!("prodcheck hello"));
            if let Some(len) = f.certificate_message_len {
                ev.insert("certificate_message_bytes".into(), json!(len));
            }
        }
        let diagnosis = self.why();
        if let Some(big) = self.too_large() {
            reason = big;
        }
        let message = match diagnosis {
            Some(d) => format!("TLS handshake failed: {reason}; {d}"),
            None => format!("TLS handshake failed: {reason}"),
        };
        if let Some(d) = self.why() {
            ev.insert("diagnosis".into(), json!(d));
        }
        report.add(Status::Fail, message);
    }

    /// A Certificate message over what clients accept: its size and the name count.
    fn too_large(&self) -> Option<String> {
        let f = self.flight()?;
        let len = f.certificate_message_len?;
        if len <= CLIENT_MESSAGE_LIMIT {
            return None;
        }
        let leaf = f
            .certificates
            .as_ref()
            .and_then(|c| c.first())
            .and_then(|der| CertFacts::parse(der).ok());
        let names = leaf
            .map(|l| {
                format!(
                    " (the certificate for {} carries {} names)",
                    l.label(),
                    l.sans.len()
                )
            })
            .unwrap_or_default();
        Some(format!(
            "the server's certificate message is {} KB{names}; rustls and many other clients refuse handshake messages over {} KB, so serve a certificate with fewer names",
            len.div_ceil(1024),
            CLIENT_MESSAGE_LIMIT / 1024 + 1
        ))
    }

    /// What the server speaks that a modern client does not, when that explains the failure.
    fn why(&self) -> Option<String> {
        if self.too_large().is_some() {
            return None;
        }
        if !self.accepted.is_empty() {
            if self.accepted.iter().any(|a| rustls_speaks(a.suite)) {
                return None; // suites in common: the certificate findings explain the failure
            }
            return profile::why_no_common_suite(&self.accepted);
        }
        match &self.broad {
            Answer::Accepted(f) if f.version < 0x0303 => Some(format!(
                "the server does not speak TLS 1.2 or 1.3: it answered a TLS 1.2 hello with {}",
                hello::version_name(f.version)
            )),
            Answer::Alert(a) => Some(format!(
                "the server refuses every TLS 1.2 cipher suite prodcheck knows (alert {})",
                hello::alert_name(*a)
            )),
            Answer::Unknown(why) => Some(format!(
                "a hand-written TLS 1.2 hello got no TLS answer either: {why}"
            )),
            _ => None,
        }
    }
}
