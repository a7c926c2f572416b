//! Why a scraped item fails or errors, as one of a fixed set of names: the `reason` label of
//! `prodcheck_item_failure_reason`, bounded (items × [`Reason::ALL`]) so it is safe in Prometheus.
//!
//! The reason is read from typed figures the probe already recorded (`no_answer`, the `tls`
//! certificate facts) or set by the scrape itself; messages are never parsed.

use checks::NoAnswer;
use checks::figures::{CertChain, CertExpiry, CertTrust, Figures, Unanswered};
use checks::{Evidence, Outcome};

use crate::report::ItemReport;
use crate::status::Status;

/// Evidence key the scrape writes on outcomes it makes itself (deadline, unset variables).
const KEY: &str = "failure_reason";

/// Why an item is `fail` or `error`. Adding a variant is a README change (the stated
/// cardinality); names are stable once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The name does not exist (NXDOMAIN, no address).
    Nxdomain,
    /// The resolver could not be asked or did not answer (SERVFAIL, REFUSED).
    ResolverUnavailable,
    /// The port refused the connection.
    Refused,
    /// The peer reset or closed the connection mid-exchange.
    Dropped,
    /// Nothing came back within the item's timeout.
    Timeout,
    /// The TLS handshake failed with nothing to judge (not TLS, no common parameters).
    TlsHandshake,
    /// This machine has no route to the host.
    NetworkUnreachable,
    /// The proxy in the way refused or failed.
    Proxy,
    /// The target kept answering 429 (or 503 with a retry hint).
    Throttled,
    /// Redirects that never end.
    RedirectLoop,
    /// prodcheck's own pacing left the item no turn.
    OwnLimit,
    /// Still running when the scrape's deadline came.
    ScrapeDeadline,
    /// Not probed: a variable it needs is not set for this environment or target.
    UnsetVariable,
    /// The earliest-expiring certificate of the chain has expired.
    CertExpired,
    /// A certificate expires inside the item's fail threshold.
    CertExpiring,
    /// The presented chain does not verify to a trusted root.
    CertUntrusted,
    /// The server's certificate does not match the name asked for.
    CertNameMismatch,
    /// The target answered and the answer violates the property (a status, a header, a value).
    Violated,
    /// Anything else (an error without a recorded cause, a probe bug).
    Other,
}

impl Reason {
    /// Every reason: the label's whole range.
    pub const ALL: [Reason; 19] = [
        Reason::Nxdomain,
        Reason::ResolverUnavailable,
        Reason::Refused,
        Reason::Dropped,
        Reason::Timeout,
        Reason::TlsHandshake,
        Reason::NetworkUnreachable,
        Reason::Proxy,
        Reason::Throttled,
        Reason::RedirectLoop,
        Reason::OwnLimit,
        Reason::ScrapeDeadline,
        Reason::UnsetVariable,
        Reason::CertExpired,
        Reason::CertUntrusted,
        Reason::CertNameMismatch,
        Reason::CertExpiring,
        Reason::Violated,
        Reason::Other,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Nxdomain => "nxdomain",
            Reason::ResolverUnavailable => "resolver_unavailable",
            Reason::Refused => "refused",
            Reason::Dropped => "dropped",
            Reason::Timeout => "timeout",
            Reason::TlsHandshake => "tls_handshake",
            Reason::NetworkUnreachable => "network_unreachable",
            Reason::Proxy => "proxy",
            Reason::Throttled => "throttled",
            Reason::RedirectLoop => "redirect_loop",
            Reason::OwnLimit => "own_limit",
            Reason::ScrapeDeadline => "scrape_deadline",
            Reason::UnsetVariable => "unset_variable",
            Reason::CertExpired => "cert_expired",
            Reason::CertExpiring => "cert_expiring",
            Reason::CertUntrusted => "cert_untrusted",
            Reason::CertNameMismatch => "cert_name_mismatch",
            Reason::Violated => "violated",
            Reason::Other => "other",
        }
    }

    /// The reason of the rule's "no answer" (`checks/src/no_answer.rs`), one to one.
    pub fn of_no_answer(why: &NoAnswer) -> Reason {
        match why {
            NoAnswer::NameNotFound => Reason::Nxdomain,
            NoAnswer::ResolverUnavailable => Reason::ResolverUnavailable,
            NoAnswer::Refused => Reason::Refused,
            NoAnswer::Dropped => Reason::Dropped,
            NoAnswer::Timeout => Reason::Timeout,
            NoAnswer::TlsRejected => Reason::TlsHandshake,
            NoAnswer::NetworkUnreachable => Reason::NetworkUnreachable,
            NoAnswer::Proxy => Reason::Proxy,
            NoAnswer::Throttled => Reason::Throttled,
            NoAnswer::RedirectLoop => Reason::RedirectLoop,
            NoAnswer::OwnLimit => Reason::OwnLimit,
            NoAnswer::Other => Reason::Other,
        }
    }

    /// `outcome` marked as failing for this reason (for outcomes the scrape makes itself).
    pub fn mark(self, outcome: Outcome) -> Outcome {
        outcome.with(KEY, self.as_str())
    }

    /// Why `item` is `fail` or `error`; `None` for any other status (passing, warning,
    /// skipped, waived items carry no reason).
    pub fn of(item: &ItemReport) -> Option<Reason> {
        let failed = match item.status {
            Status::Fail => true,
            Status::Error => false,
            _ => return None,
        };
        Some(
            marked(&item.evidence)
                .or_else(|| certificate(&item.evidence))
                .or_else(|| unanswered(&item.evidence))
                .unwrap_or(if failed {
                    Reason::Violated
                } else {
                    Reason::Other
                }),
        )
    }
}

fn marked(ev: &Evidence) -> Option<Reason> {
    let name = ev.get(KEY)?.as_str()?;
    Reason::ALL.into_iter().find(|r| r.as_str() == name)
}

/// The recorded `no_answer` cause; a name this build does not know is [`Reason::Other`], so
/// a newer probe's cause cannot widen the label's range.
fn unanswered(ev: &Evidence) -> Option<Reason> {
    let recorded = Unanswered::read(ev)?;
    Some(
        recorded
            .why()
            .map_or(Reason::Other, |w| Reason::of_no_answer(&w)),
    )
}

/// A `tls` item's certificate findings, most decisive first: expired, untrusted, wrong name,
/// inside the fail threshold. `None` when the evidence has no chain (nothing was presented).
fn certificate(ev: &Evidence) -> Option<Reason> {
    let expiry = CertExpiry::read(ev)?;
    let earliest = expiry.earliest_expiring?;
    if earliest.days_left < 0 {
        return Some(Reason::CertExpired);
    }
    let trust = CertTrust::read(ev).unwrap_or_default();
    if trust.chain_verified == Some(false) {
        return Some(Reason::CertUntrusted);
    }
    if trust.hostname_match == Some(false) {
        return Some(Reason::CertNameMismatch);
    }
    let chain = CertChain::read(ev)?;
    let cert = chain.chain.get(earliest.position.checked_sub(1)?)?;
    (cert.fail_days.is_some_and(|fail| earliest.days_left < fail)).then_some(Reason::CertExpiring)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(status: Status, evidence: serde_json::Value) -> ItemReport {
        let serde_json::Value::Object(evidence) = evidence else {
            panic!("evidence must be an object");
        };
        ItemReport {
            evidence,
            ..crate::report::fixture::item("i", "tls", status)
        }
    }

    fn chain(days_left: i64, fail_days: i64) -> serde_json::Value {
        json!({
            "earliest_expiring": { "position": 1, "subject": "CN=x", "not_after": "2030-01-01T00:00:00Z", "days_left": days_left },
            "chain": [{ "subject": "CN=x", "not_after": "2030-01-01T00:00:00Z", "days_left": days_left, "fail_days": fail_days }],
            "chain_verified": true,
            "hostname_match": true,
        })
    }

    #[test]
    fn names_are_unique_and_label_safe() {
        let mut names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len());
    }

    /// The README states the label's range and its size; this keeps the two honest.
    #[test]
    fn the_readme_states_the_whole_range_and_its_size() {
        let readme = include_str!("../../README.md");
        let (_, section) = readme
            .split_once("**Why an item fails.**")
            .expect("README: the `reason` section");
        let n = Reason::ALL.len();
        assert!(
            section.contains(&format!("a fixed set of {n} names")),
            "README: not {n}"
        );
        assert!(
            section.contains(&format!("**items × {n}**")),
            "README: not items × {n}"
        );
        let listed: Vec<&str> = section
            .lines()
            .skip_while(|l| !l.starts_with("| `reason` |"))
            .skip(2)
            .take_while(|l| l.starts_with("| `"))
            .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(name, _)| name))
            .collect();
        let ours: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(listed, ours, "README's reason table and Reason::ALL differ");
    }

    #[test]
    fn only_failing_and_erroring_items_have_a_reason() {
        for status in [Status::Pass, Status::Warn, Status::Skip, Status::Waived] {
            assert_eq!(
                Reason::of(&item(status, json!({"no_answer": "refused"}))),
                None
            );
        }
        assert_eq!(
            Reason::of(&item(Status::Fail, json!({}))),
            Some(Reason::Violated)
        );
        assert_eq!(
            Reason::of(&item(Status::Error, json!({}))),
            Some(Reason::Other)
        );
    }

    #[test]
    fn no_answer_maps_one_to_one_and_unknown_names_fall_back() {
        for why in NoAnswer::ALL {
            let ev = json!({ "no_answer": why.as_str() });
            assert_eq!(
                Reason::of(&item(Status::Fail, ev)),
                Some(Reason::of_no_answer(&why))
            );
        }
        for status in [Status::Fail, Status::Error] {
            let ev = json!({ "no_answer": "cosmic_rays" });
            assert_eq!(Reason::of(&item(status, ev)), Some(Reason::Other));
        }
    }

    #[test]
    fn certificate_findings_in_order() {
        assert_eq!(
            Reason::of(&item(Status::Fail, chain(-2, 14))),
            Some(Reason::CertExpired)
        );
        assert_eq!(
            Reason::of(&item(Status::Fail, chain(5, 14))),
            Some(Reason::CertExpiring)
        );
        assert_eq!(
            Reason::of(&item(Status::Fail, chain(60, 14))),
            Some(Reason::Violated)
        );
        let mut untrusted = chain(60, 14);
        untrusted["chain_verified"] = json!(false);
        untrusted["hostname_match"] = json!(false);
        assert_eq!(
            Reason::of(&item(Status::Fail, untrusted)),
            Some(Reason::CertUntrusted)
        );
        let mut wrong_name = chain(60, 14);
        wrong_name["hostname_match"] = json!(false);
        assert_eq!(
            Reason::of(&item(Status::Fail, wrong_name)),
            Some(Reason::CertNameMismatch)
        );
    }

    #[test]
    fn the_scrape_s_own_mark_wins() {
        let outcome = Reason::ScrapeDeadline.mark(Outcome::error("late"));
        let ev = serde_json::Value::Object(outcome.evidence);
        assert_eq!(
            Reason::of(&item(Status::Error, ev)),
            Some(Reason::ScrapeDeadline)
        );
    }
}
