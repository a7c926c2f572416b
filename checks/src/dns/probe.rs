//! `dns`: records of a type resolve and match what the item expects, plus the checks a DNS
//! admin would make: CAA issuers, SPF, DMARC and dangling CNAMEs.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RecordType;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::dns::policy::Asking;
use crate::limit::Limit;
use crate::net::dial::unanswered;
use crate::net::dns::{self as lookup, Answer, Unasked};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};

/// The record types the `dns` probe asks for, spelled as in zone files.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum DnsType {
    #[serde(alias = "a")]
    A,
    #[serde(alias = "aaaa")]
    AAAA,
    #[serde(alias = "cname")]
    CNAME,
    #[serde(alias = "mx")]
    MX,
    #[serde(alias = "txt")]
    TXT,
    #[serde(alias = "caa")]
    CAA,
    #[serde(alias = "ns")]
    NS,
    #[serde(alias = "soa")]
    SOA,
}

impl DnsType {
    fn record_type(self) -> RecordType {
        match self {
            DnsType::A => RecordType::A,
            DnsType::AAAA => RecordType::AAAA,
            DnsType::CNAME => RecordType::CNAME,
            DnsType::MX => RecordType::MX,
            DnsType::TXT => RecordType::TXT,
            DnsType::CAA => RecordType::CAA,
            DnsType::NS => RecordType::NS,
            DnsType::SOA => RecordType::SOA,
        }
    }
}

/// Parameters of `check: { dns: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsProbe {
    /// The name to look up.
    pub name: String,
    /// Record type; `A` by default, none when only semantic checks are asked for.
    #[serde(default, rename = "type")]
    pub record_type: Option<DnsType>,
    /// `host:port` of the server to ask; the system resolver by default.
    pub nameserver: Option<String>,
    /// Values that must all be present (an MX may be given without its preference).
    #[serde(default)]
    pub expect: Vec<String>,
    /// Nothing but the `expect` values may be present (a stale address fails). With an
    /// empty `expect` (a checklist variable left `[]`) nothing is pinned, and the message says so.
    #[serde(default)]
    pub exact: bool,
    /// At least this many records; `{ fail: 1, warn: 2 }` warns when one of two is gone.
    pub min_records: Option<Limit<usize>>,
    /// The name must not exist.
    #[serde(default)]
    pub nxdomain: bool,
    /// CAA must exist (at the name or a parent) and allow each of these CAs to issue.
    #[serde(default)]
    pub caa_issuers: Vec<String>,
    /// A single TXT `v=spf1` record ending in `-all` or `~all`.
    #[serde(default)]
    pub spf: bool,
    /// `_dmarc.NAME` publishes `p=quarantine` or `p=reject`.
    #[serde(default)]
    pub dmarc: bool,
}

/// Findings of one run: the worst status wins, every message is kept.
#[derive(Default)]
pub(crate) struct Findings {
    status: Option<Status>,
    problems: Vec<String>,
    pub(crate) notes: Vec<String>,
    /// The first reason a question went unanswered (or a name was found not to exist).
    no_answer: Option<NoAnswer>,
}

impl Findings {
    pub(crate) fn add(&mut self, status: Status, message: impl Into<String>) {
        self.status = Some(self.status.map_or(status, |s| s.worst(status)));
        self.problems.push(message.into());
    }

    /// A question the resolver did not answer: the status the rule gives it (the resolver is
    /// the instrument: `error`), the reason kept for the evidence.
    pub(crate) fn unasked(&mut self, u: Unasked) {
        self.add(u.why.status(Property::Instrument), u.message);
        self.no_answer.get_or_insert(u.why);
    }
}

#[async_trait]
impl Probe for DnsProbe {
    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        let n = self.name.trim().trim_end_matches('.');
        if n.is_empty() || n.len() > 253 || n.split('.').any(|l| l.is_empty() || l.len() > 63) {
            issues.push(ParamIssue::new(
                "name",
                format!("`{}` is not a valid DNS name", self.name),
            ));
        }
        if let Some(ns) = &self.nameserver
            && let Err(e) = lookup::parse_nameserver(ns)
        {
            issues.push(
                ParamIssue::new("nameserver", e).hint("write `host:port`, e.g. `127.0.0.1:53`"),
            );
        }
        let expects_records = !self.expect.is_empty() || self.exact || self.min_records.is_some();
        if self.nxdomain
            && (expects_records || self.spf || self.dmarc || !self.caa_issuers.is_empty())
        {
            issues.push(ParamIssue::new(
                "nxdomain",
                "`nxdomain: true` asserts the name does not exist; it cannot be combined with record expectations",
            ));
        }
        if let Some(levels) = self.min_records {
            if levels.fail.unwrap_or(0) == 0 && levels.warn.unwrap_or(0) == 0 {
                issues.push(ParamIssue::new(
                    "min_records",
                    "`min_records: 0` asserts nothing",
                ));
            }
            if let Some(why) = levels.warn_above_fail() {
                issues.push(ParamIssue::new(
                    "min_records",
                    format!("`min_records`: {why}"),
                ));
            }
        }
        issues
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let started = Instant::now();
        let left = || ctx.timeout.saturating_sub(started.elapsed());
        let resolver = match lookup::resolver(self.nameserver.as_deref(), left()).await {
            Ok(r) => r,
            Err(e) => {
                return unanswered(&NoAnswer::ResolverUnavailable, Property::Instrument, e);
            }
        };
        let mut f = Findings::default();
        let mut ev = Map::new();
        let name = self.name.trim().trim_end_matches('.').to_ascii_lowercase();
        ev.insert("name".into(), json!(name));
        ev.insert(
            "nameserver".into(),
            json!(self.nameserver.as_deref().unwrap_or("system")),
        );

        let semantic = self.spf || self.dmarc || !self.caa_issuers.is_empty();
        let rtype = match self.record_type {
            Some(t) => Some(t.record_type()),
            None if self.nxdomain || !semantic => Some(RecordType::A),
            None => None,
        };
        if let Some(rtype) = rtype {
            ev.insert("type".into(), json!(rtype.to_string()));
            self.records(&resolver, &name, rtype, &left, &mut f, &mut ev)
                .await;
        }
        let ask = Asking {
            resolver: &resolver,
            name: &name,
            left: &left,
        };
        if !self.caa_issuers.is_empty() {
            self.caa(&ask, &mut f, &mut ev).await;
        }
        if self.spf {
            self.spf(&ask, &mut f, &mut ev).await;
        }
        if self.dmarc {
            self.dmarc(&ask, &mut f, &mut ev).await;
        }
        if let Some(why) = &f.no_answer {
            ev.insert("no_answer".into(), json!(why.as_str()));
        }
        ev.insert(
            "duration_ms".into(),
            json!(started.elapsed().as_millis() as u64),
        );
        let message = match f.status {
            Some(_) => format!("{name}: {}", f.problems.join("; ")),
            None => format!("{name}: {}", f.notes.join("; ")),
        };
        Outcome::new(f.status.unwrap_or(Status::Pass), message).with_evidence(ev)
    }
}

impl DnsProbe {
    async fn records(
        &self,
        resolver: &TokioResolver,
        name: &str,
        rtype: RecordType,
        left: &(dyn Fn() -> Duration + Sync),
        f: &mut Findings,
        ev: &mut Map<String, Value>,
    ) {
        let answer = match lookup::query(resolver, name, rtype, left()).await {
            Ok(a) => a,
            Err(e) => return f.unasked(e),
        };
        if self.nxdomain {
            match answer {
                Answer::NxDomain => f
                    .notes
                    .push("does not exist (NXDOMAIN), as expected".into()),
                Answer::NoData => f.add(
                    Status::Fail,
                    format!("expected NXDOMAIN, but the name exists (no {rtype} records)"),
                ),
                Answer::Records(r) => {
                    let values: Vec<String> = r.iter().map(|r| lookup::value_forms(r).0).collect();
                    ev.insert("records".into(), json!(values));
                    f.add(
                        Status::Fail,
                        format!(
                            "expected NXDOMAIN, but {rtype} resolves to {}",
                            values.join(", ")
                        ),
                    );
                }
            }
            return;
        }
        let records = match answer {
            Answer::Records(r) => r,
            empty => {
                ev.insert("records".into(), json!([]));
                if matches!(rtype, RecordType::A | RecordType::AAAA)
                    && let Some(msg) = self.dangling_via_cname(resolver, name, left).await
                {
                    return f.add(Status::Fail, msg);
                }
                let what = if matches!(empty, Answer::NxDomain) {
                    // The resolver answered: the name that must exist does not. A `fail`.
                    f.no_answer.get_or_insert(NoAnswer::NameNotFound);
                    "does not exist (NXDOMAIN)".to_string()
                } else {
                    format!("has no {rtype} records")
                };
                return f.add(Status::Fail, what);
            }
        };
        let forms: Vec<(String, Vec<String>)> = records.iter().map(lookup::value_forms).collect();
        let values: Vec<String> = forms.iter().map(|(v, _)| v.clone()).collect();
        ev.insert("records".into(), json!(values));
        let before = f.problems.len();

        let norm = |s: &str| s.trim().trim_end_matches('.').to_ascii_lowercase();
        let matches = |want: &str, form: &(String, Vec<String>)| {
            let w = norm(want);
            if rtype == RecordType::TXT {
                return form.0.trim() == want.trim();
            }
            norm(&form.0) == w || form.1.iter().any(|alt| norm(alt) == w)
        };
        let missing: Vec<&String> = self
            .expect
            .iter()
            .filter(|w| !forms.iter().any(|fm| matches(w, fm)))
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            f.add(
                Status::Fail,
                format!(
                    "{rtype} lacks {}; found {}",
                    list.join(", "),
                    values.join(", ")
                ),
            );
        }
        if self.exact && !self.expect.is_empty() {
            let extra: Vec<&String> = forms
                .iter()
                .filter(|fm| !self.expect.iter().any(|w| matches(w, fm)))
                .map(|(v, _)| v)
                .collect();
            if !extra.is_empty() {
                let list: Vec<String> = extra.iter().map(|m| format!("`{m}`")).collect();
                f.add(
                    Status::Fail,
                    format!("{rtype} has unexpected {} (exact: true)", list.join(", ")),
                );
            }
        }
        if let Some(levels) = self.min_records {
            match levels.floor("records", records.len() as f64) {
                (Status::Fail, _) => f.add(
                    Status::Fail,
                    format!(
                        "{} {rtype} records, expected at least {}",
                        records.len(),
                        levels.fail.unwrap_or_default()
                    ),
                ),
                (Status::Warn, Some(words)) => f.add(
                    Status::Warn,
                    format!("degraded: {rtype} {words}: {}", values.join(", ")),
                ),
                _ => {}
            }
        }
        if rtype == RecordType::CNAME {
            for target in records.iter().filter_map(lookup::cname_target) {
                match self.resolves(resolver, &target, left).await {
                    Ok(true) => {}
                    Ok(false) => f.add(
                        Status::Fail,
                        format!(
                            "dangling CNAME: {name} points to {target}, which does not resolve"
                        ),
                    ),
                    Err(e) => f.unasked(e),
                }
            }
        }
        if f.problems.len() == before {
            // Say what it resolved to, and whether that was compared with anything.
            let compared = match (self.expect.is_empty(), self.exact) {
                (true, _) => " (no expected values given: any answer accepted)",
                (false, true) => " (exactly the expected values)",
                (false, false) => " (the expected values among them)",
            };
            f.notes
                .push(format!("{rtype} {}{compared}", values.join(", ")));
        }
    }

    /// Whether `target` has an A or AAAA record.
    async fn resolves(
        &self,
        resolver: &TokioResolver,
        target: &str,
        left: &(dyn Fn() -> Duration + Sync),
    ) -> Result<bool, Unasked> {
        for rtype in [RecordType::A, RecordType::AAAA] {
            if let Answer::Records(_) = lookup::query(resolver, target, rtype, left()).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// For an address lookup that came back empty: is the name a CNAME to nowhere?
    async fn dangling_via_cname(
        &self,
        resolver: &TokioResolver,
        name: &str,
        left: &(dyn Fn() -> Duration + Sync),
    ) -> Option<String> {
        let Ok(Answer::Records(r)) = lookup::query(resolver, name, RecordType::CNAME, left()).await
        else {
            return None;
        };
        let target = r.iter().find_map(lookup::cname_target)?;
        match self.resolves(resolver, &target, left).await {
            Ok(false) => Some(format!(
                "dangling CNAME: {name} points to {target}, which does not resolve"
            )),
            _ => None,
        }
    }
}
