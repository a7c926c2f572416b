//! `tls` with `dual_stack: true`: one verified handshake per address family the host resolves
//! to, compared (certificate, version, success), beside the full judgement of the first route.

use std::sync::Arc;
use std::time::Instant;

use crate::net::dual_stack::{self, CertId, Side};
use crate::net::roots;
use crate::net::tls_client::server_name;
use crate::net::{NetStream, Route, identity};
use crate::outcome::{Outcome, Status};
use crate::probe::ProbeContext;
use crate::tls::TlsProbe;
use crate::tls::chain::RecordingVerifier;
use crate::tls::explain;

pub(crate) async fn run(probe: &TlsProbe, ctx: &ProbeContext) -> Outcome {
    let started = Instant::now();
    let target = format!("{}:{}", probe.host, probe.port);
    if let Some(proxy) =
        crate::net::route::proxy_for(&probe.host, probe.port, "https", ctx.net.proxy_setting())
    {
        let shown = crate::net::http::proxy::redact_url(&proxy.uri().to_string());
        return dual_stack::through_proxy(&shown).with("target", target);
    }
    let addrs =
        match dual_stack::addresses(&probe.host, probe.port, &ctx.net.resolve, ctx.timeout).await {
            Ok(a) => a,
            Err(outcome) => {
                let mut outcome = outcome;
                outcome.message = format!("{target}: {}", outcome.message);
                return outcome;
            }
        };
    let (full, sides) = tokio::join!(probe.full(ctx), sides(probe, ctx, &addrs, started));
    let sides = match sides {
        Ok(s) => s,
        Err(e) => return Outcome::error(e),
    };
    let differences = dual_stack::differences(&sides);
    let mut outcome = full.with("dual_stack", dual_stack::evidence(&sides));
    if differences.is_empty() {
        let others: Vec<String> = sides
            .iter()
            .skip(1)
            .map(|s| {
                format!(
                    "{} {}",
                    crate::net::IpFamily::of(&s.addr.ip()).name(),
                    s.addr
                )
            })
            .collect();
        outcome
            .message
            .push_str(&format!(" ({} shook hands the same)", others.join(", ")));
        return outcome;
    }
    // The families disagree: that is the failure, beside whatever the first route showed.
    let before = outcome.message.clone();
    outcome.message = format!(
        "{target}: `{}` answers differently over IPv4 and IPv6: {}",
        probe.host,
        differences.join("; ")
    );
    if outcome.status != Status::Pass
        && let Some(rest) = before.strip_prefix(&format!("{target}: "))
    {
        outcome.message.push_str(&format!("; {rest}"));
    }
    outcome.status = outcome.status.worst(Status::Fail);
    outcome
}

/// A verified handshake on each address, within the item's budget.
async fn sides(
    probe: &TlsProbe,
    ctx: &ProbeContext,
    addrs: &[std::net::SocketAddr],
    started: Instant,
) -> Result<Vec<Side>, String> {
    let name = server_name(probe.sni())?;
    let roots = roots::root_store(probe.ca_file.as_deref())?;
    let client = identity::load(&ctx.net.client_cert, &ctx.net.client_key)?;
    let budget = ctx.timeout.saturating_sub(started.elapsed());
    let shakes = addrs.iter().map(|addr| {
        let (name, roots, client) = (name.clone(), roots.clone(), client.as_ref());
        async move {
            let route = Route::Direct(*addr).with_starttls(probe.starttls);
            let verifier = match RecordingVerifier::new(roots) {
                Ok(v) => Arc::new(v),
                Err(e) => return Ok(side(*addr, Outcome::error(e.clone()), e, None)),
            };
            // Each side holds one of the host's per-host slots; the wait for it is the run's
            // own limit, not the address's answer, and is not charged to the budget.
            let held = ctx
                .connection_slot(&probe.host)
                .await
                .map_err(|o| o.message)?;
            let stream: NetStream = match tokio::time::timeout(budget, route.open()).await {
                Ok(Ok(s)) => NetStream::Held(Box::new(s), held),
                Ok(Err(no)) => {
                    let outcome = no.outcome(crate::no_answer::Property::Reachability);
                    return Ok(side(*addr, outcome, no.message, None));
                }
                Err(_) => {
                    let why = "no connection in time".to_string();
                    return Ok(side(*addr, Outcome::fail(why.clone()), why, None));
                }
            };
            let hs = probe
                .handshake(
                    (stream, route),
                    &name,
                    verifier,
                    client,
                    budget,
                    ctx.timeout,
                )
                .await;
            let cert = hs
                .chain
                .as_ref()
                .and_then(|c| c.first())
                .map(|c| CertId::of(c));
            Ok(match (&hs.negotiated, &hs.error, &hs.other_error) {
                (Some((version, _)), None, _) => {
                    side(*addr, Outcome::pass(version.clone()), version.clone(), cert)
                }
                (_, Some(err), _) => {
                    let why = format!("handshake failed: {}", explain::handshake_error(err, None));
                    side(*addr, Outcome::fail(why.clone()), why, cert)
                }
                (_, None, Some(other)) => {
                    side(*addr, Outcome::fail(other.clone()), other.clone(), cert)
                }
                _ => {
                    let why = "handshake failed".to_string();
                    side(*addr, Outcome::fail(why.clone()), why, cert)
                }
            })
        }
    });
    // A side that got no per-host slot was not asked: no comparison can be made.
    futures_util::future::join_all(shakes)
        .await
        .into_iter()
        .collect()
}

fn side(
    addr: std::net::SocketAddr,
    outcome: Outcome,
    answer: String,
    cert: Option<CertId>,
) -> Side {
    Side {
        addr,
        outcome,
        answer,
        certificate: cert,
    }
}
