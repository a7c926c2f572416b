//! Judging the OCSP response a server staples: who signed it, whether it is about this
//! certificate (serial and issuer hashes), whether it is still fresh, and what it says.

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::outcome::Status;
use crate::tls::facts::{CertFacts, rfc3339};
use crate::tls::judge::Report;
use crate::tls::ocsp;

/// `ocsp_staple`: how a stale staple (`nextUpdate` passed) or one about another certificate
/// (serial or issuer hashes differ) is judged. A badly signed or revoking staple always fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StapleRule {
    /// Warn: most clients then ignore the staple and ask the responder themselves.
    #[default]
    Lenient,
    /// Fail: what clients do for a must-staple certificate (Firefox rejects the connection).
    Strict,
    /// Record it in the evidence only.
    Off,
}

impl StapleRule {
    fn status(self) -> Option<Status> {
        match self {
            StapleRule::Lenient => Some(Status::Warn),
            StapleRule::Strict => Some(Status::Fail),
            StapleRule::Off => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            StapleRule::Lenient => "lenient",
            StapleRule::Strict => "strict",
            StapleRule::Off => "off",
        }
    }
}

/// The stapled OCSP status of the leaf: `revoked` fails, a stale or mismatched staple is
/// judged by `rule`, anything else is evidence. No staple is no fault (Let's Encrypt ended
/// OCSP in 2025; most servers never stapled). A staple whose signature is not the issuer's
/// (or a responder it delegated to) fails: clients that check staples reject the connection.
pub fn judge_staple(
    staple: Option<&[u8]>,
    chain: &[CertificateDer<'static>],
    roots: &RootCertStore,
    rule: StapleRule,
    now: i64,
    report: &mut Report,
    ev: &mut Map<String, Value>,
) {
    let Some(bytes) = staple else {
        ev.insert("ocsp_staple".into(), json!({"status": "none"}));
        return;
    };
    let Some(leaf) = chain.first().and_then(|c| CertFacts::parse(c).ok()) else {
        return;
    };
    let Some((staple, cert_id)) = ocsp::parse(bytes, &leaf.serial) else {
        ev.insert(
            "ocsp_staple".into(),
            json!({"status": "unreadable", "bytes": bytes.len()}),
        );
        return;
    };
    let mut evidence = staple.evidence();
    let answered = matches!(
        staple,
        ocsp::Staple::Good { .. } | ocsp::Staple::Revoked { .. } | ocsp::Staple::Unknown
    );
    let signature = if answered {
        ocsp::signature(bytes, chain, roots)
    } else {
        ocsp::Signature::Unreadable
    };
    let issuer = crate::tls::issuer::find(0, chain, roots);
    // Some(false): the serial matched but the issuer hashes name another CA.
    let names_issuer = match (&cert_id, &issuer) {
        (Some(id), Some(issuer)) => id.names(issuer),
        _ => None,
    };
    let next_update = match &staple {
        ocsp::Staple::Good { next_update, .. } => next_update.as_deref().and_then(ocsp::unix_time),
        _ => None,
    };
    if let Value::Object(map) = &mut evidence {
        if answered {
            let (checked, by) = match &signature {
                ocsp::Signature::Valid { by } => (json!(true), json!(by)),
                ocsp::Signature::Invalid => (json!("invalid"), Value::Null),
                ocsp::Signature::IssuerUnknown => (json!("issuer unknown"), Value::Null),
                ocsp::Signature::Unreadable => (json!("unreadable"), Value::Null),
            };
            map.insert("signature_checked".into(), checked);
            map.insert("signed_by".into(), by);
            map.insert("issuer_matches".into(), json!(names_issuer));
        }
        map.insert("fresh".into(), json!(next_update.map(|t| t > now)));
        map.insert("rule".into(), json!(rule.name()));
    }
    ev.insert("ocsp_staple".into(), evidence);
    if signature == ocsp::Signature::Invalid {
        report.add(
            Status::Fail,
            format!(
                "the OCSP response the server staples for {} is not signed by its issuer `{}` or a responder the issuer delegated to: clients that check staples reject it; fix the server's OCSP stapling (it may be fetching from the wrong responder)",
                leaf.label(),
                leaf.issuer
            ),
        );
        return;
    }
    let about_other = staple == ocsp::Staple::OtherCertificate || names_issuer == Some(false);
    if about_other {
        if let Some(status) = rule.status() {
            let which = match staple {
                ocsp::Staple::OtherCertificate => "another serial number",
                _ => "a certificate of another issuer (its issuer name and key hashes are not those of `ISSUER`)",
            }
            .replace("ISSUER", &leaf.issuer);
            report.add(
                status,
                format!(
                    "the OCSP response the server staples is about {which}, not the certificate for {}: clients ignore it or, for must-staple certificates, refuse the connection; fix the server's OCSP stapling (ocsp_staple: {})",
                    leaf.label(),
                    rule.name()
                ),
            );
        }
        // A staple about another certificate says nothing about this one.
        return;
    }
    if let ocsp::Staple::Revoked { at, reason } = &staple {
        let why = reason
            .map(|r| format!(", reason {}", ocsp::reason_name(r)))
            .unwrap_or_default();
        report.add(
            Status::Fail,
            format!(
                "certificate for {} is revoked since {at}{why}, says the OCSP response the server staples: replace the certificate",
                leaf.label()
            ),
        );
        return;
    }
    if let (Some(next), Some(status)) = (next_update, rule.status())
        && next <= now
    {
        report.add(
            status,
            format!(
                "the OCSP response the server staples for {} is stale: its nextUpdate {} has passed, so clients discard it (and must-staple clients refuse the connection); the server is not refreshing its staple — check that it can reach the responder (ocsp_staple: {})",
                leaf.label(),
                rfc3339(next),
                rule.name()
            ),
        );
    }
}
