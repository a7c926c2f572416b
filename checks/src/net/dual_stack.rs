//! `dual_stack`: the same question asked over every address family a name resolves to, the
//! answers compared. A service broken on IPv6 only is a classic outage that IPv4 checks miss.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::net::family::{self, IpFamily, Resolve};
use crate::no_answer::Property;
use crate::outcome::{Outcome, Status};
use crate::probe::ParamIssue;

/// A certificate as the comparison names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertId {
    pub subject: String,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
}

impl CertId {
    pub fn of(der: &[u8]) -> CertId {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        // The subject as x509-parser prints it, the way `tls` evidence names certificates.
        let subject = x509_parser::parse_x509_certificate(der)
            .map(|(_, cert)| cert.subject().to_string())
            .unwrap_or_else(|_| "an unparsable certificate".into());
        CertId {
            subject,
            sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    fn short(&self) -> String {
        format!(
            "`{}` (SHA-256 {}…)",
            self.subject,
            &self.sha256[..16.min(self.sha256.len())]
        )
    }
}

/// What one family answered.
#[derive(Debug, Clone)]
pub struct Side {
    pub addr: SocketAddr,
    /// The family's own outcome, as the probe would report it alone.
    pub outcome: Outcome,
    /// What must be the same on every family, in words (`answered 200`, `TLSv1.3`).
    pub answer: String,
    pub certificate: Option<CertId>,
}

impl Side {
    fn label(&self) -> String {
        format!("{} {}", IpFamily::of(&self.addr.ip()).name(), self.addr)
    }

    fn evidence(&self) -> Value {
        json!({
            "address": self.addr.to_string(),
            "status": self.outcome.status.as_str(),
            "answer": self.answer,
            "message": self.outcome.message,
            "certificate": self.certificate.as_ref().map(|c| json!({"subject": c.subject, "sha256": c.sha256})),
        })
    }
}

/// `dual_stack` makes no sense with one family pinned or an address as the target.
pub fn check(dual_stack: bool, host: Option<&str>, family: IpFamily) -> Vec<ParamIssue> {
    let mut issues = Vec::new();
    if !dual_stack {
        return issues;
    }
    if family != IpFamily::Any {
        issues.push(
            ParamIssue::new(
                "dual_stack",
                format!(
                    "`dual_stack` compares IPv4 with IPv6, but ip_family is {}",
                    family.as_str()
                ),
            )
            .hint("drop `ip_family`, or drop `dual_stack`"),
        );
    }
    if let Some(ip) = host.and_then(family::literal) {
        issues.push(
            ParamIssue::new(
                "dual_stack",
                format!("the target is the address `{ip}`, which has one family only"),
            )
            .hint("name the host, so its A and AAAA records can be compared"),
        );
    }
    issues
}

/// One address per family of `host` (IPv4 first), or the outcome that ends the check: no
/// answer from the resolver, or a name with one family only (that is the failure).
pub async fn addresses(
    host: &str,
    port: u16,
    resolve: &Resolve,
    budget: Duration,
) -> Result<Vec<SocketAddr>, Outcome> {
    let all = crate::net::lookup(host, port, IpFamily::Any, resolve, budget)
        .await
        .map_err(|no| no.outcome(Property::Reachability))?;
    let sides = family::one_per_family(&all);
    if sides.len() < 2 {
        let (has, lacks, record) = match all.first().map(|a| IpFamily::of(&a.ip())) {
            Some(IpFamily::V6) => ("IPv6", "IPv4", "A"),
            _ => ("IPv4", "IPv6", "AAAA"),
        };
        return Err(Outcome::fail(format!(
            "`{host}` resolves to {has} only ({}): dual_stack needs an {lacks} address ({record} record) too",
            family::list(&all)
        ))
        .with("addresses", family::list(&all)));
    }
    Ok(sides)
}

/// The refusal for a proxied item: the proxy picks the address, so families cannot be told
/// apart.
pub fn through_proxy(proxy: &str) -> Outcome {
    Outcome::error(format!(
        "dual_stack cannot be checked through the proxy {proxy}: the proxy chooses the address itself; set `proxy: none` on the item (or list the host in NO_PROXY)"
    ))
    .with("proxy", proxy)
}

/// How the families' answers differ, in words (empty: they agree).
pub fn differences(sides: &[Side]) -> Vec<String> {
    let mut differences = Vec::new();
    if let [a, b] = sides {
        if a.outcome.status != b.outcome.status || a.answer != b.answer {
            differences.push(format!(
                "{}: {} ({}); {}: {} ({})",
                a.label(),
                a.answer,
                a.outcome.status.as_str(),
                b.label(),
                b.answer,
                b.outcome.status.as_str()
            ));
        }
        if let (Some(ca), Some(cb)) = (&a.certificate, &b.certificate)
            && ca != cb
        {
            differences.push(format!(
                "the certificate differs: {} serves {}, {} serves {}",
                a.label(),
                ca.short(),
                b.label(),
                cb.short()
            ));
        }
    }
    differences
}

/// The families' answers as evidence (`ipv4`, `ipv6`).
pub fn evidence(sides: &[Side]) -> Value {
    let mut ev = Map::new();
    for s in sides {
        ev.insert(
            IpFamily::of(&s.addr.ip()).as_str().replace('v', "ipv"),
            s.evidence(),
        );
    }
    Value::Object(ev)
}

/// The verdict over the families' answers: the same everywhere, the first family's outcome
/// (whatever it is) with both recorded; different, `fail` naming both addresses and the
/// difference.
pub fn judge(host: &str, sides: Vec<Side>) -> Outcome {
    let differences = differences(&sides);
    let evidence = evidence(&sides);
    if !differences.is_empty() {
        return Outcome::fail(format!(
            "`{host}` answers differently over IPv4 and IPv6: {}",
            differences.join("; ")
        ))
        .with("dual_stack", evidence);
    }
    let mut iter = sides.into_iter();
    let Some(first) = iter.next() else {
        return Outcome::error("dual_stack: no address to compare");
    };
    let others: Vec<String> = iter.map(|s| s.label()).collect();
    let mut outcome = first.outcome;
    let same = if outcome.status == Status::Pass {
        "the same"
    } else {
        "the same way"
    };
    outcome
        .message
        .push_str(&format!(" ({} answered {same})", others.join(", ")));
    outcome.with("dual_stack", evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(addr: &str, status: Status, answer: &str) -> Side {
        Side {
            addr: addr.parse().expect("addr"),
            outcome: Outcome::new(status, format!("GET x: {answer}")),
            answer: answer.into(),
            certificate: None,
        }
    }

    #[test]
    fn the_same_answer_passes_and_a_different_one_names_both() {
        let same = judge(
            "shop.test",
            vec![
                side("127.0.0.1:443", Status::Pass, "answered 200"),
                side("[::1]:443", Status::Pass, "answered 200"),
            ],
        );
        assert_eq!(same.status, Status::Pass);
        assert_eq!(
            same.message,
            "GET x: answered 200 (IPv6 [::1]:443 answered the same)"
        );
        assert_eq!(same.evidence["dual_stack"]["ipv6"]["address"], "[::1]:443");
        let differ = judge(
            "shop.test",
            vec![
                side("127.0.0.1:443", Status::Pass, "answered 200"),
                side("[::1]:443", Status::Fail, "answered 503"),
            ],
        );
        assert_eq!(differ.status, Status::Fail);
        assert_eq!(
            differ.message,
            "`shop.test` answers differently over IPv4 and IPv6: IPv4 127.0.0.1:443: answered 200 (pass); IPv6 [::1]:443: answered 503 (fail)"
        );
    }

    #[test]
    fn dual_stack_needs_a_name_and_both_families() {
        assert_eq!(check(true, Some("shop.test"), IpFamily::Any), vec![]);
        assert_eq!(
            check(true, Some("shop.test"), IpFamily::V6)[0].field,
            "dual_stack"
        );
        assert_eq!(check(true, Some("[::1]"), IpFamily::Any).len(), 1);
        assert!(check(false, Some("[::1]"), IpFamily::V4).is_empty());
    }

    #[tokio::test]
    async fn a_name_with_one_family_fails_dual_stack() {
        let pinned = Resolve(vec![family::parse_ip("127.0.0.1").expect("ip")]);
        let out = addresses("shop.test", 443, &pinned, Duration::from_secs(1))
            .await
            .expect_err("one family");
        assert_eq!(out.status, Status::Fail);
        assert_eq!(
            out.message,
            "`shop.test` resolves to IPv4 only (127.0.0.1): dual_stack needs an IPv6 address (AAAA record) too"
        );
    }
}
