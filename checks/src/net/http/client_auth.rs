//! "The server demands a client certificate": when an https request fails in a way a missing
//! or refused client certificate explains, one more handshake asks the server what it wants.

use std::time::Duration;

use crate::net::http::Reach;
use crate::net::{identity, tls_client};
use crate::outcome::{Outcome, Status};
use crate::probe::ProbeContext;

/// Answers an https server gives a client without the certificate it wants (nginx: 400
/// "No required SSL certificate was sent"; 495/496 are its internal codes).
const CLIENT_CERT_STATUSES: [u16; 4] = [400, 403, 495, 496];

/// Appends to a failing `outcome` for `reach.url` what the server asks of clients, when it
/// asks for a certificate: `status` is the HTTP status that came back (`None`: no answer, then
/// a TLS failure, a dropped or closed connection is a reason to ask; a refused port or a
/// timeout is not). At most 3 s of `left`.
pub async fn explain(
    ctx: &ProbeContext,
    reach: &Reach<'_>,
    mut outcome: Outcome,
    status: Option<u16>,
    left: Duration,
) -> Outcome {
    let suspicious = match status {
        Some(s) => CLIENT_CERT_STATUSES.contains(&s),
        None => matches!(
            outcome.evidence.get("no_answer").and_then(|v| v.as_str()),
            // A server that refuses a client without a certificate may alert, reset, or just
            // close (Go's TLS server after a TLS 1.3 handshake): all are worth one question.
            Some("tls_rejected" | "dropped" | "other")
        ),
    };
    let Ok(url) = url::Url::parse(reach.url) else {
        return outcome;
    };
    if !matches!(outcome.status, Status::Fail | Status::Error)
        || !suspicious
        || url.scheme() != "https"
        || left.is_zero()
    {
        return outcome;
    }
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let opts = reach.net.under(ctx.net.proxy_setting());
    let budget = left.min(Duration::from_secs(3));
    let Some(req) = tls_client::ask_client_auth(&host, port, &opts, budget).await else {
        return outcome;
    };
    let identity = identity::load(&reach.net.client_cert, &reach.net.client_key)
        .ok()
        .flatten();
    outcome.message.push_str(&req.explain(identity.as_ref()));
    outcome.with("client_auth", req.evidence(identity.as_ref()))
}
