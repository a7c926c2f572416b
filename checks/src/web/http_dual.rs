//! `http` with `dual_stack: true`: the request once over IPv4 and once over IPv6 (at the same
//! time), the status, the outcome and the certificate compared by `net::dual_stack`.

use crate::net::IpFamily;
use crate::net::dual_stack::{self, CertId, Side};
use crate::outcome::Outcome;
use crate::probe::ProbeContext;
use crate::web::http::HttpProbe;

pub async fn run(probe: &HttpProbe, ctx: &ProbeContext) -> Outcome {
    let started = std::time::Instant::now();
    let Ok(url) = url::Url::parse(&probe.url) else {
        return Outcome::error(format!("invalid URL `{}`", probe.url));
    };
    if let Some(proxy) = ctx.net.proxy_setting().used_for(&probe.url) {
        return dual_stack::through_proxy(&proxy).with("url", probe.url.as_str());
    }
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs = match dual_stack::addresses(&host, port, &ctx.net.resolve, ctx.timeout).await {
        Ok(a) => a,
        Err(outcome) => return outcome.with("url", probe.url.as_str()),
    };
    // Each family gets what is left of the item's budget; both run at once.
    let mut sub = ctx.clone();
    sub.timeout = ctx.timeout.saturating_sub(started.elapsed());
    let asks = addrs.iter().map(|addr| {
        let family = IpFamily::of(&addr.ip());
        let sub = sub.clone();
        async move {
            let (outcome, page) = probe.exchange(&sub, family, true).await;
            (family, outcome, page)
        }
    });
    let answers = futures_util::future::join_all(asks).await;
    let sides: Vec<Side> = addrs
        .iter()
        .zip(answers)
        .map(|(addr, (_, outcome, page))| {
            let answer = match &page {
                Some(p) => format!("answered {}", p.status),
                None => outcome
                    .message
                    .split_once(": ")
                    .map(|(_, why)| why.to_string())
                    .unwrap_or_else(|| outcome.message.clone()),
            };
            Side {
                // The address that answered, when known; else the one the family resolved to.
                addr: page.as_ref().and_then(|p| p.remote).unwrap_or(*addr),
                certificate: page
                    .as_ref()
                    .and_then(|p| p.peer_certificate.as_deref())
                    .map(CertId::of),
                answer,
                outcome,
            }
        })
        .collect();
    dual_stack::judge(&host, sides).with("url", probe.url.as_str())
}
