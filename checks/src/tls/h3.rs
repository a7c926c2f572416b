//! HTTP/3 advertisement for the `tls` probe: the host's HTTPS DNS record (RFC 9460, type 65)
//! and whether its `alpn` offers `h3`, as browsers learn it before any connection; no QUIC.

use std::time::Duration;

use hickory_resolver::proto::rr::RData;
use hickory_resolver::proto::rr::rdata::svcb::{SvcParamKey, SvcParamValue};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::net::dns::{self as lookup, Answer};
use crate::outcome::Status;
use crate::tls::judge::Report;

/// `h3`: look up the HTTPS record and report, or require, that it offers HTTP/3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum H3 {
    /// Report what the HTTPS record offers; never changes the status.
    Report,
    /// Fail unless the HTTPS record offers `h3`.
    Require,
}

/// What the lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// ServiceMode records: (their text, every ALPN id they list).
    Records {
        texts: Vec<String>,
        alpn: Vec<String>,
    },
    /// AliasMode only (priority 0): the target, not followed.
    Alias(String),
    /// No HTTPS record for the name (NXDOMAIN or NODATA).
    None,
    /// The resolver did not answer.
    Unasked(String),
}

/// The name browsers ask for: the host itself on 443, `_PORT._https.host` on other ports
/// (RFC 9460, 9.1). `None` for IP addresses, which have no HTTPS record.
pub fn query_name(host: &str, port: u16) -> Option<String> {
    let host = host.trim().trim_end_matches('.');
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    Some(match port {
        443 => host.to_string(),
        p => format!("_{p}._https.{host}"),
    })
}

/// Asks `nameserver` (or the system's resolver) for the HTTPS record of `name`.
pub async fn lookup(name: &str, nameserver: Option<&str>, budget: Duration) -> Found {
    let resolver = match lookup::resolver(nameserver, budget).await {
        Ok(r) => r,
        Err(e) => return Found::Unasked(e),
    };
    let records = match lookup::query(
        &resolver,
        name,
        hickory_resolver::proto::rr::RecordType::HTTPS,
        budget,
    )
    .await
    {
        Ok(Answer::Records(r)) => r,
        Ok(Answer::NxDomain | Answer::NoData) => return Found::None,
        Err(u) => return Found::Unasked(u.message),
    };
    let mut texts = Vec::new();
    let mut alpn = Vec::new();
    let mut alias = None;
    for record in &records {
        let RData::HTTPS(https) = &record.data else {
            continue;
        };
        let svcb = &https.0;
        if svcb.svc_priority == 0 {
            alias = Some(svcb.target_name.to_ascii());
            continue;
        }
        texts.push(record.data.to_string());
        for (key, value) in &svcb.svc_params {
            if let (SvcParamKey::Alpn, SvcParamValue::Alpn(ids)) = (key, value) {
                alpn.extend(ids.0.iter().cloned());
            }
        }
    }
    match (texts.is_empty(), alias) {
        (true, Some(target)) => Found::Alias(target),
        (true, None) => Found::None,
        _ => Found::Records { texts, alpn },
    }
}

impl Found {
    pub fn offers_h3(&self) -> bool {
        matches!(self, Found::Records { alpn, .. } if alpn.iter().any(|a| a == "h3"))
    }
}

/// Adds `h3` to the evidence and, with [`H3::Require`], a failure when the record does not
/// offer `h3` (an error when the resolver did not answer).
pub fn judge(
    name: &str,
    found: &Found,
    mode: H3,
    report: &mut Report,
    ev: &mut Map<String, Value>,
) {
    let mut h3 = json!({ "query": name, "advertised": found.offers_h3() });
    match found {
        Found::Records { texts, alpn } => {
            h3["https_records"] = json!(texts);
            h3["alpn"] = json!(alpn);
        }
        Found::Alias(target) => h3["alias"] = json!(target),
        Found::None => h3["https_records"] = json!([]),
        Found::Unasked(why) => h3["error"] = json!(why),
    }
    ev.insert("h3".into(), h3);
    if mode != H3::Require || found.offers_h3() {
        return;
    }
    let (status, message) = match found {
        Found::Records { alpn, .. } => (
            Status::Fail,
            format!(
                "no HTTP/3 advertised: the HTTPS DNS record of {name} offers alpn `{}` without `h3` (add `h3` where QUIC is served)",
                alpn.join(",")
            ),
        ),
        Found::Alias(target) => (
            Status::Fail,
            format!(
                "no HTTP/3 advertised: the HTTPS DNS record of {name} is an alias to {target} (AliasMode is not followed; publish a ServiceMode record with `alpn=h3`)"
            ),
        ),
        Found::None => (
            Status::Fail,
            format!(
                "no HTTP/3 advertised: {name} has no HTTPS DNS record (publish e.g. `{name}. IN HTTPS 1 . alpn=h3,h2` where QUIC is served)"
            ),
        ),
        Found::Unasked(why) => (
            Status::Error,
            format!("HTTP/3 advertisement not checked: {why}"),
        ),
    };
    report.add(status, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc_9460_port_prefixing() {
        assert_eq!(
            query_name("www.example.test", 443).as_deref(),
            Some("www.example.test")
        );
        assert_eq!(
            query_name("www.example.test.", 8443).as_deref(),
            Some("_8443._https.www.example.test")
        );
        assert_eq!(query_name("127.0.0.1", 443), None);
        assert_eq!(query_name("::1", 443), None);
    }

    #[test]
    fn requiring_h3_fails_with_what_was_found() {
        let mut report = Report::default();
        let mut ev = Map::new();
        let found = Found::Records {
            texts: vec!["1 . alpn=h2".into()],
            alpn: vec!["h2".into()],
        };
        judge("a.test", &found, H3::Require, &mut report, &mut ev);
        assert_eq!(report.status, Some(Status::Fail));
        assert!(report.problems[0].contains("offers alpn `h2` without `h3`"));
        assert_eq!(ev["h3"]["advertised"], false);
        let mut report = Report::default();
        judge(
            "a.test",
            &Found::Unasked("timeout".into()),
            H3::Require,
            &mut report,
            &mut ev,
        );
        assert_eq!(report.status, Some(Status::Error));
        let mut report = Report::default();
        judge("a.test", &Found::None, H3::Report, &mut report, &mut ev);
        assert_eq!(report.status, None);
    }
}
