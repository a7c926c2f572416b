//! The `tls` probe's side of STARTTLS: upgrade the first connection within the item's budget
//! and hand back a route whose every later connection (scans, legacy probes) upgrades too.

use std::time::Duration;

use tokio::time::timeout;

use crate::net::dial::within;
use crate::net::{NetStream, Route};
use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::tls::TlsProbe;

/// `stream` and `route` ready for a ClientHello: unchanged without `starttls`, else after
/// the exchange; an outcome (the server's refusal, or no answer in `budget`) when it failed.
pub(crate) async fn upgrade(
    probe: &TlsProbe,
    mut stream: NetStream,
    route: Route,
    budget: Duration,
) -> Result<(NetStream, Route), Outcome> {
    let Some(proto) = probe.starttls else {
        return Ok((stream, route));
    };
    let at = route.describe();
    match timeout(budget, proto.negotiate(&mut stream, &at)).await {
        Ok(Ok(())) => Ok((stream, route.with_starttls(Some(proto)))),
        Ok(Err(no)) => Err(route
            .evidence(no.outcome(Property::Reachability))
            .with("starttls", proto.name())),
        Err(_) => {
            let why = NoAnswer::Timeout;
            Err(route
                .evidence(crate::net::dial::unanswered(
                    &why,
                    Property::Reachability,
                    format!(
                        "{} STARTTLS at {at}: the server did not finish the exchange within {}",
                        proto.name().to_uppercase(),
                        within(budget)
                    ),
                ))
                .with("starttls", proto.name()))
        }
    }
}
