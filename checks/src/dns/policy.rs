//! The `dns` probe's policy checks on mail and certificate records: CAA issuers (RFC 8659,
//! climbing to the closest CAA set), SPF (RFC 7208) and DMARC (RFC 7489) policies.

use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{RData, RecordType};
use serde_json::{Map, Value, json};

use crate::dns::{DnsProbe, Findings};
use crate::net::dns::{self as lookup, Answer};
use crate::outcome::Status;

type Left<'a> = &'a (dyn Fn() -> Duration + Sync);

/// What every policy question of one run asks with: the resolver, the name, the time left.
pub(crate) struct Asking<'a> {
    pub resolver: &'a TokioResolver,
    pub name: &'a str,
    pub left: Left<'a>,
}

impl Asking<'_> {
    async fn query(&self, at: &str, rtype: RecordType) -> Result<Answer, lookup::Unasked> {
        lookup::query(self.resolver, at, rtype, (self.left)()).await
    }

    /// TXT strings at `at`; `Ok(None)` when the name does not exist.
    async fn txt(&self, at: &str) -> Result<Option<Vec<String>>, lookup::Unasked> {
        Ok(match self.query(at, RecordType::TXT).await? {
            Answer::NxDomain => None,
            Answer::NoData => Some(Vec::new()),
            Answer::Records(r) => Some(r.iter().map(|r| lookup::value_forms(r).0).collect()),
        })
    }
}

/// The `all` mechanism closing an SPF record, judged.
pub fn spf_verdict(record: &str) -> Result<String, String> {
    let last = record
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match last.as_str() {
        "-all" | "~all" => Ok(last),
        "?all" | "+all" | "all" => Err(format!(
            "SPF record ends with `{last}`, expected `-all` or `~all`"
        )),
        _ => Err("SPF record has no closing `-all` or `~all`".into()),
    }
}

/// The `p=` tag of a DMARC record.
pub fn dmarc_policy(record: &str) -> Option<String> {
    record.split(';').find_map(|tag| {
        let (k, v) = tag.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("p")).then(|| v.trim().to_ascii_lowercase())
    })
}

impl DnsProbe {
    pub(crate) async fn caa(
        &self,
        ask: &Asking<'_>,
        f: &mut Findings,
        ev: &mut Map<String, Value>,
    ) {
        // RFC 8659: the relevant CAA set is the one at the name or its closest ancestor.
        let labels: Vec<&str> = ask.name.split('.').collect();
        let mut found = None;
        for start in 0..labels.len().saturating_sub(1) {
            let at = labels[start..].join(".");
            match ask.query(&at, RecordType::CAA).await {
                Err(e) => return f.unasked(e),
                Ok(Answer::Records(r)) => {
                    found = Some((at, r));
                    break;
                }
                Ok(_) => {}
            }
        }
        let wanted = self.caa_issuers.join(", ");
        let Some((at, records)) = found else {
            return f.add(
                Status::Fail,
                format!(
                    "no CAA record at {} or its parents: any CA may issue (caa_issuers: {wanted})",
                    ask.name
                ),
            );
        };
        let issuers: Vec<String> = records
            .iter()
            .filter_map(|r| match &r.data {
                RData::CAA(caa) if caa.tag.eq_ignore_ascii_case("issue") => {
                    let value = String::from_utf8_lossy(&caa.value).into_owned();
                    let domain = value
                        .split(';')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_ascii_lowercase();
                    Some(domain)
                }
                _ => None,
            })
            .collect();
        ev.insert("caa_at".into(), json!(at));
        ev.insert(
            "caa".into(),
            json!(
                records
                    .iter()
                    .map(|r| lookup::value_forms(r).0)
                    .collect::<Vec<_>>()
            ),
        );
        let refused: Vec<&String> = self
            .caa_issuers
            .iter()
            .filter(|w| !issuers.iter().any(|i| i.eq_ignore_ascii_case(w.trim())))
            .collect();
        if refused.is_empty() {
            f.notes.push(format!("CAA at {at} allows {wanted}"));
        } else {
            let allowed: Vec<&String> = issuers.iter().filter(|i| !i.is_empty()).collect();
            let allowed = if allowed.is_empty() {
                "no CA".to_string()
            } else {
                allowed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let refused: Vec<String> = refused.iter().map(|r| format!("`{r}`")).collect();
            f.add(
                Status::Fail,
                format!("CAA at {at} allows {allowed}, not {}", refused.join(", ")),
            );
        }
    }

    pub(crate) async fn spf(
        &self,
        ask: &Asking<'_>,
        f: &mut Findings,
        ev: &mut Map<String, Value>,
    ) {
        let texts = match ask.txt(ask.name).await {
            Err(e) => return f.unasked(e),
            Ok(None) => {
                return f.add(
                    Status::Fail,
                    format!("no SPF record: {} does not exist", ask.name),
                );
            }
            Ok(Some(t)) => t,
        };
        let spf: Vec<&String> = texts
            .iter()
            .filter(|t| {
                let l = t.trim().to_ascii_lowercase();
                l == "v=spf1" || l.starts_with("v=spf1 ")
            })
            .collect();
        ev.insert("spf".into(), json!(spf));
        match spf.as_slice() {
            [] => f.add(
                Status::Fail,
                format!("no SPF record (TXT `v=spf1 …`) at {}", ask.name),
            ),
            [one] => match spf_verdict(one) {
                Ok(all) => f.notes.push(format!("SPF ends with {all}")),
                Err(e) => f.add(Status::Fail, e),
            },
            many => f.add(
                Status::Fail,
                format!(
                    "{} SPF records at {}; RFC 7208 allows exactly one",
                    many.len(),
                    ask.name
                ),
            ),
        }
    }

    pub(crate) async fn dmarc(
        &self,
        ask: &Asking<'_>,
        f: &mut Findings,
        ev: &mut Map<String, Value>,
    ) {
        let at = format!("_dmarc.{}", ask.name);
        let texts = match ask.txt(&at).await {
            Err(e) => return f.unasked(e),
            Ok(t) => t.unwrap_or_default(),
        };
        let record = texts
            .iter()
            .find(|t| t.trim().to_ascii_lowercase().starts_with("v=dmarc1"));
        let Some(record) = record else {
            return f.add(
                Status::Fail,
                format!("no DMARC record (TXT `v=DMARC1; p=…`) at {at}"),
            );
        };
        ev.insert("dmarc".into(), json!(record));
        match dmarc_policy(record).as_deref() {
            Some(p @ ("quarantine" | "reject")) => f.notes.push(format!("DMARC p={p}")),
            Some(p) => f.add(
                Status::Fail,
                format!("DMARC policy at {at} is p={p}, expected p=quarantine or p=reject"),
            ),
            None => f.add(
                Status::Fail,
                format!("DMARC record at {at} has no `p=` policy"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spf_needs_a_hard_or_soft_fail_all() {
        assert_eq!(spf_verdict("v=spf1 mx -all"), Ok("-all".into()));
        assert_eq!(
            spf_verdict("v=spf1 include:_spf.example.com ~ALL"),
            Ok("~all".into())
        );
        assert!(spf_verdict("v=spf1 mx ?all").is_err());
        assert!(spf_verdict("v=spf1 +all").is_err());
        assert!(spf_verdict("v=spf1 mx").is_err());
    }

    #[test]
    fn dmarc_policy_tag_is_found() {
        assert_eq!(
            dmarc_policy("v=DMARC1; p=reject; rua=mailto:x@y").as_deref(),
            Some("reject")
        );
        assert_eq!(
            dmarc_policy("v=DMARC1;P=Quarantine").as_deref(),
            Some("quarantine")
        );
        assert_eq!(dmarc_policy("v=DMARC1; sp=reject"), None);
    }
}
