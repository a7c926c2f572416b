//! The `tls` probe's judgement over one route: the handshake, legacy versions, suite scans,
//! the post-quantum hello and HTTPS records at once, then every finding in one report.

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use serde_json::{Map, Value, json};

use crate::net::identity;
use crate::net::roots;
use crate::net::tls_client::server_name;
use crate::net::{self};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::{Outcome, Status};
use crate::probe::ProbeContext;
use crate::tls::chain::RecordingVerifier;
use crate::tls::crl;
use crate::tls::diagnose;
use crate::tls::explain;
use crate::tls::h3::{self};
use crate::tls::hello;
use crate::tls::judge::{ChainRules, Report, judge_chain, unix_now};
use crate::tls::legacy::{self, LegacyAnswer, LegacyVersion};
use crate::tls::pq;
use crate::tls::profile::{self, Profile};
use crate::tls::scan;
use crate::tls::staple::judge_staple;

use crate::tls::probe::TlsProbe;

impl TlsProbe {
    /// The whole judgement over one connection route (the first address that accepts).
    pub(crate) async fn full(&self, ctx: &ProbeContext) -> Outcome {
        let started = Instant::now();
        // Time queued behind the run's per-host slots is not the item's: it is given back.
        let left = || (ctx.timeout + ctx.queue.total()).saturating_sub(started.elapsed());
        let target = format!("{}:{}", self.host, self.port);
        let name_text = self.sni();
        let name = match server_name(name_text) {
            Ok(n) => n,
            Err(e) => return Outcome::error(e),
        };
        let roots = match roots::root_store(self.ca_file.as_deref()) {
            Ok(r) => r,
            Err(e) => return Outcome::error(e),
        };
        let verifier = match RecordingVerifier::new(roots.clone()) {
            Ok(v) => Arc::new(v),
            Err(e) => return Outcome::error(e),
        };
        let client = match identity::load(&ctx.net.client_cert, &ctx.net.client_key) {
            Ok(c) => c,
            Err(e) => return Outcome::error(e),
        };
        // Every connection of the item (the handshake, legacy versions, scans, the
        // post-quantum hellos) holds one of the host's per-host slots while open: `--per-host`
        // bounds them all together, with the run's other probes of the host.
        let held = match ctx.connection_slot(&self.host).await {
            Ok(h) => h,
            Err(outcome) => return outcome.with("target", target),
        };
        let (stream, route) =
            match net::dial(&self.host, self.port, "https", &ctx.net, ctx.timeout).await {
                Ok(c) => c,
                Err(no) => return no.outcome(Property::Reachability).with("target", target),
            };
        let (stream, route) = match crate::tls::starttls::upgrade(self, stream, route, left()).await
        {
            Ok(c) => c,
            Err(outcome) => return outcome.with("target", target),
        };
        let stream = net::NetStream::Held(Box::new(stream), held);
        let route = route.gated(ctx.politeness.clone(), ctx.queue.clone(), &self.host);

        // The rustls handshake, the legacy versions and the enumeration all at once, each on
        // its own connection, all within what is left of the item's budget.
        let sni = Some(name_text);
        let budget = left();
        let parallel = ctx.politeness.per_host();
        // A quarter of the budget stays for the diagnosis when the handshake fails.
        let scan_budget = budget.mul_f64(0.75);
        let enumeration = async {
            match self.enumerate {
                true => Some(scan::enumerate(&route, sni, 0x0303, scan_budget, parallel).await),
                false => None,
            }
        };
        let h3_name = h3::query_name(name_text, self.port);
        let h3_lookup = async {
            match (self.h3, &h3_name) {
                (Some(_), Some(n)) => Some(h3::lookup(n, self.nameserver.as_deref(), budget).await),
                _ => None,
            }
        };
        let (hs, v10, v11, mut scanned, pq, h3_found) = tokio::join!(
            self.handshake(
                (stream, route.clone()),
                &name,
                verifier.clone(),
                client.as_ref(),
                budget,
                ctx.timeout
            ),
            legacy::probe(&route, sni, LegacyVersion::Tls10, budget),
            legacy::probe(&route, sni, LegacyVersion::Tls11, budget),
            enumeration,
            pq::probe(&route, sni, budget),
            h3_lookup,
        );

        // Tolerated legacy versions (`allow_legacy`) get their own enumeration: the old
        // profile allows TLS 1.0, not RC4 or export suites on it. Otherwise the version fails.
        let legacy_versions: Vec<u16> = [(0x0301, &v10), (0x0302, &v11)]
            .into_iter()
            .filter(|(_, answer)| {
                self.enumerate
                    && self.allow_legacy != Some(false)
                    && **answer == LegacyAnswer::Accepted
            })
            .map(|(version, _)| version)
            .collect();
        let legacy_budget = left().mul_f64(0.75);
        // Both versions at once share the per-host limit.
        let per_version = parallel.div_ceil(legacy_versions.len().max(1));
        let legacy_scans = join_all(
            legacy_versions
                .iter()
                .map(|v| scan::enumerate(&route, sni, *v, legacy_budget, per_version)),
        )
        .await;

        // rustls refused to talk: ask the server by hand what it does speak, and for its chain.
        let diagnosis = if hs.negotiated.is_none()
            && hs.chain.is_none()
            && (hs.error.is_some() || hs.why == Some(NoAnswer::TlsRejected))
        {
            Some(diagnose::diagnose(&route, sni, &mut scanned, left(), parallel).await)
        } else {
            None
        };

        let mut report = Report::default();
        let mut ev = Map::new();
        ev.insert("host".into(), json!(self.host));
        ev.insert("port".into(), json!(self.port));
        match (hs.route.addr(), hs.route.proxy()) {
            (Some(addr), _) => ev.insert("address".into(), json!(addr.to_string())),
            (None, proxy) => ev.insert("proxy".into(), json!(proxy)),
        };
        if let Some(proto) = self.starttls {
            ev.insert("starttls".into(), json!(proto.name()));
        }
        ev.insert("ip_family".into(), json!(ctx.net.ip_family.as_str()));
        ev.insert("server_name".into(), json!(name_text));
        ev.insert("profile".into(), json!(self.profile.name()));

        let rules = ChainRules {
            warn: self.warn_threshold(),
            fail: self.fail_threshold(),
            min_key_bits: self.min_key_bits,
            max_lifetime_days: self.max_lifetime_days,
            name: &name,
        };
        if let Some(d) = &diagnosis {
            d.report(&hs, &mut report, &mut ev);
        }
        let chain = hs
            .chain
            .clone()
            .or_else(|| diagnosis.as_ref().and_then(|d| d.chain()));
        match &chain {
            Some(chain) => {
                judge_chain(&rules, chain, &verifier, &roots, &mut report, &mut ev);
                let staple = hs.staple.as_deref();
                let rule = self.ocsp_staple;
                judge_staple(
                    staple,
                    chain,
                    &roots,
                    rule,
                    unix_now(),
                    &mut report,
                    &mut ev,
                );
            }
            None if diagnosis.is_none() => {
                let why = hs
                    .other_error
                    .clone()
                    .or_else(|| hs.error.as_ref().map(|e| explain::handshake_error(e, None)))
                    .unwrap_or_else(|| "no certificate received".into());
                let no = hs.why.clone().unwrap_or(NoAnswer::TlsRejected);
                report.add(
                    no.status(Property::Reachability),
                    format!("TLS handshake failed: {why}"),
                );
            }
            None => {}
        }
        if self.check_revocation
            && let Some(chain) = &chain
        {
            // The CRL fetches get what is left of the item's budget.
            let mut sub = ctx.clone();
            sub.timeout = left();
            crl::check(&sub, chain, &roots, &mut report, &mut ev).await;
        }
        if let Some((version, cipher)) = &hs.negotiated {
            ev.insert("version".into(), json!(version));
            ev.insert("cipher".into(), json!(cipher));
            ev.insert("key_exchange".into(), json!(hs.group));
            if !self.min_version.allows(version) {
                report.add(
                    Status::Fail,
                    format!(
                        "negotiated {version}, below min_version {}",
                        self.min_version.name()
                    ),
                );
            } else if self.profile == Profile::Modern && version != "TLSv1.3" {
                report.add(
                    Status::Warn,
                    format!(
                        "negotiated {version}, {}",
                        profile::Tier::OldOnly.words(self.profile)
                    ),
                );
            }
        } else if !ev.contains_key("version") {
            ev.insert("version".into(), Value::Null);
            ev.insert("cipher".into(), Value::Null);
        }
        pq::judge(&pq, self.require_pq, &mut report, &mut ev);
        if let (Some(mode), Some(n), Some(found)) = (self.h3, &h3_name, &h3_found) {
            h3::judge(n, found, mode, &mut report, &mut ev);
        }
        let client_note =
            crate::tls::handshake::judge_client_auth(&hs, client.as_ref(), &mut report, &mut ev);
        let mut accepted = Vec::new();
        if let Some(scan) = &scanned {
            ev.insert("tls12_suites".into(), scan.evidence());
            accepted.extend(scan.accepted.iter().copied());
        }
        for (version, scan) in legacy_versions.iter().zip(&legacy_scans) {
            let key = format!(
                "{}_suites",
                hello::version_name(*version)
                    .to_lowercase()
                    .replace(['v', '.'], "")
            );
            ev.insert(key, scan.evidence());
            accepted.extend(scan.accepted.iter().copied());
        }
        // A failed handshake is explained by the diagnosis; the profile adds nothing.
        if diagnosis.is_none() {
            for (status, problem) in profile::judge(self.profile, &accepted) {
                report.add(status, problem);
            }
            // A scan that did not finish cannot vouch for the suites it did not reach.
            let scans = scanned.iter().map(|s| (0x0303, s));
            let legacy = legacy_versions.iter().copied().zip(&legacy_scans);
            for (version, scan) in scans.chain(legacy) {
                if !scan.complete() {
                    report.add(
                        Status::Error,
                        incomplete_scan(version, scan, accepted.len()),
                    );
                }
            }
        }
        self.judge_legacy(
            &[(LegacyVersion::Tls10, v10), (LegacyVersion::Tls11, v11)],
            &mut report,
            &mut ev,
        );

        // A presented chain is an answer (judged above, e.g. expired); `no_answer` is for
        // handshakes that yielded nothing to judge.
        if let (Some(why), None) = (&hs.why, &chain) {
            ev.insert("no_answer".into(), json!(why.as_str()));
        }
        let elapsed = started.elapsed().as_millis() as u64;
        ev.insert("duration_ms".into(), json!(elapsed));
        let negotiated = hs
            .negotiated
            .as_ref()
            .map(|(v, c)| match &hs.group {
                Some(g) => format!(", {v} {c} ({g})"),
                None => format!(", {v} {c}"),
            })
            .unwrap_or_default();
        report.finish(&target, &format!("{negotiated}{client_note}"), ev)
    }
}

/// "TLSv1.2 suite enumeration incomplete (…); the profile was judged on the 3 suites found
/// only": what was not checked, so an incomplete scan can never read as a pass.
fn incomplete_scan(version: u16, scan: &scan::Scan, found: usize) -> String {
    format!(
        "{} suite enumeration incomplete ({}): the profile was judged on the {found} suites found only; rerun with a longer `timeout` or check the server's logs",
        hello::version_name(version),
        scan.incomplete.join("; ")
    )
}
