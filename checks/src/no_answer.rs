//! The one rule for "could not check": why a probe got no real answer ([`NoAnswer`]) and what
//! the item asserts ([`Property`]) decide together whether the outcome is `fail` or `error`.
//!
//! `fail` means the target answered and the answer violates the property (a name that does not
//! exist, a port that refuses, a certificate clients reject, a service that does not answer when
//! answering *is* the property). `error` means prodcheck could not get a real answer: its own
//! resolver or network, a proxy, a throttled answer, or silence where the property is about the
//! content of an answer rather than its existence. The README's fail/error table is this file.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use crate::outcome::Status;

/// What an item asserts about its target, as far as "no answer" is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// The target must answer at all (`http`, `tcp`, `tls`, `websocket`, `redis`, `postgres`):
    /// silence, a refused port or a name that does not exist is the failure being looked for.
    Reachability,
    /// The item judges what an answer contains (`security_headers`, `cors`, `cookies`,
    /// `exposure`, `auth`, `redirect_https`, `latency`, `rate_limit`): a target that refuses or
    /// does not exist fails, but silence or an unusable answer is `error` — nothing was judged.
    Content,
    /// The endpoint is a measuring instrument, not the system under test (`prometheus`, a
    /// `dns` probe's resolver): whatever keeps it from answering is `error`.
    Instrument,
}

/// Why an exchange produced no answer that can be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAnswer {
    /// The name does not exist or has no address (NXDOMAIN, no A/AAAA record).
    NameNotFound,
    /// The resolver could not be asked or did not answer (SERVFAIL, no resolver, timeout).
    ResolverUnavailable,
    /// The host answered the connection attempt with a refusal (RST).
    Refused,
    /// The connection was reset or closed by the peer mid-exchange.
    Dropped,
    /// Nothing came back within the item's budget.
    Timeout,
    /// The TLS handshake failed: the certificate does not verify, or no common parameters.
    TlsRejected,
    /// prodcheck's own network cannot reach the host (no route, network down).
    NetworkUnreachable,
    /// The proxy in the way refused or failed.
    Proxy,
    /// The target answered with a throttled response (429, or 503 with a retry hint) and
    /// kept doing so for as long as the item's budget allowed waiting.
    Throttled,
    /// The target answered with redirects that never end (a loop, or more than allowed):
    /// it answered, and the answer is broken.
    RedirectLoop,
    /// prodcheck's own limits (the run's pace or per-host slots) left no turn within the
    /// run: nothing was asked of the target, so nothing about it can be concluded.
    OwnLimit,
    /// Anything else that kept prodcheck from asking (a local resource, a bug).
    Other,
}

impl NoAnswer {
    /// Every reason, in declaration order (what `serve`'s bounded `reason` label maps).
    pub const ALL: [NoAnswer; 12] = [
        NoAnswer::NameNotFound,
        NoAnswer::ResolverUnavailable,
        NoAnswer::Refused,
        NoAnswer::Dropped,
        NoAnswer::Timeout,
        NoAnswer::TlsRejected,
        NoAnswer::NetworkUnreachable,
        NoAnswer::Proxy,
        NoAnswer::Throttled,
        NoAnswer::RedirectLoop,
        NoAnswer::OwnLimit,
        NoAnswer::Other,
    ];

    /// The reason whose [`as_str`](Self::as_str) is `name` (read back from `no_answer` in
    /// the evidence); `None` for anything else.
    pub fn from_name(name: &str) -> Option<NoAnswer> {
        Self::ALL.into_iter().find(|why| why.as_str() == name)
    }

    /// The rule: the status an outcome takes when `self` kept the probe from a real answer.
    pub fn status(&self, property: Property) -> Status {
        use NoAnswer::*;
        use Property::*;
        match (self, property) {
            (
                ResolverUnavailable | NetworkUnreachable | Proxy | Throttled | OwnLimit | Other,
                _,
            ) => Status::Error,
            (_, Instrument) => Status::Error,
            (RedirectLoop, _) => Status::Fail,
            (NameNotFound | Refused | Dropped, Reachability | Content) => Status::Fail,
            (Timeout | TlsRejected, Reachability) => Status::Fail,
            (Timeout | TlsRejected, Content) => Status::Error,
        }
    }

    /// A stable lowercase name for evidence (`no_answer: refused`).
    pub fn as_str(&self) -> &'static str {
        match self {
            NoAnswer::NameNotFound => "name_not_found",
            NoAnswer::ResolverUnavailable => "resolver_unavailable",
            NoAnswer::Refused => "refused",
            NoAnswer::Dropped => "dropped",
            NoAnswer::Timeout => "timeout",
            NoAnswer::TlsRejected => "tls_rejected",
            NoAnswer::NetworkUnreachable => "network_unreachable",
            NoAnswer::Proxy => "proxy",
            NoAnswer::Throttled => "throttled",
            NoAnswer::RedirectLoop => "redirect_loop",
            NoAnswer::OwnLimit => "own_limit",
            NoAnswer::Other => "other",
        }
    }

    /// Classifies an error by walking its source chain: the innermost recognisable cause wins
    /// (an `io::Error` kind, a resolver message, a TLS error).
    pub fn classify(err: &(dyn StdError + 'static)) -> NoAnswer {
        let mut found = NoAnswer::Other;
        let mut current: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = current {
            let here = if let Some(no) = e.downcast_ref::<crate::net::dial::NotConnected>() {
                no.why.clone()
            } else if let Some(io) = e.downcast_ref::<io::Error>() {
                Self::from_io(io)
            } else if e.downcast_ref::<rustls::Error>().is_some() {
                NoAnswer::TlsRejected
            } else {
                Self::from_message(&e.to_string())
            };
            if here != NoAnswer::Other {
                found = here;
            }
            current = e.source();
        }
        found
    }

    /// Classifies an `io::Error` (connect, read, resolve through `getaddrinfo`).
    pub fn from_io(err: &io::Error) -> NoAnswer {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => NoAnswer::Refused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => NoAnswer::Dropped,
            io::ErrorKind::TimedOut => NoAnswer::Timeout,
            io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkDown
            | io::ErrorKind::AddrNotAvailable => NoAnswer::NetworkUnreachable,
            _ => {
                if let Some(inner) = err.get_ref() {
                    let inner: &(dyn StdError + 'static) = inner;
                    if inner.downcast_ref::<rustls::Error>().is_some() {
                        return NoAnswer::TlsRejected;
                    }
                }
                Self::from_message(&err.to_string())
            }
        }
    }

    /// Classifies by wording, for errors that reach us only as text (getaddrinfo's messages,
    /// hickory's `ResolveError`, libraries that flatten their causes).
    pub fn from_message(text: &str) -> NoAnswer {
        let t = text.to_ascii_lowercase();
        let any = |needles: &[&str]| needles.iter().any(|n| t.contains(n));
        if any(&[
            "name or service not known",
            "no address associated with hostname",
            "nodename nor servname",
            "nxdomain",
            "no record found",
            "no records found",
            "dns error: no such host",
        ]) {
            NoAnswer::NameNotFound
        } else if any(&[
            "temporary failure in name resolution",
            "servfail",
            "no connections available",
            "resolver",
        ]) {
            NoAnswer::ResolverUnavailable
        } else if any(&["connection refused"]) {
            NoAnswer::Refused
        } else if any(&["connection reset", "broken pipe", "unexpected eof"]) {
            NoAnswer::Dropped
        } else if any(&["timed out", "timeout", "deadline has elapsed"]) {
            NoAnswer::Timeout
        } else if any(&["network is unreachable", "no route to host"]) {
            NoAnswer::NetworkUnreachable
        } else if any(&[
            "invalid peer certificate",
            "certificate",
            "handshake",
            // rustls's words when a library flattens its error to text (redis does).
            "received corrupt message",
            "received fatal alert",
            "peer is incompatible",
            "peer misbehaved",
            "does not support tls",
        ]) {
            NoAnswer::TlsRejected
        } else if any(&["proxy"]) {
            NoAnswer::Proxy
        } else {
            NoAnswer::Other
        }
    }
}

impl fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoAnswer::NameNotFound => "the name does not resolve",
            NoAnswer::ResolverUnavailable => "the resolver could not be asked",
            NoAnswer::Refused => "the connection was refused",
            NoAnswer::Dropped => "the peer closed the connection",
            NoAnswer::Timeout => "no answer in time",
            NoAnswer::TlsRejected => "the TLS handshake failed",
            NoAnswer::NetworkUnreachable => "this machine has no route to the host",
            NoAnswer::Proxy => "the proxy refused or failed",
            NoAnswer::Throttled => "throttled by the target",
            NoAnswer::RedirectLoop => "the redirects never end",
            NoAnswer::OwnLimit => "prodcheck's own pacing left no turn",
            NoAnswer::Other => "no answer",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table() {
        use NoAnswer::*;
        use Property::*;
        let cases = [
            (NameNotFound, Reachability, Status::Fail),
            (NameNotFound, Content, Status::Fail),
            (NameNotFound, Instrument, Status::Error),
            (Refused, Reachability, Status::Fail),
            (Refused, Content, Status::Fail),
            (Refused, Instrument, Status::Error),
            (Timeout, Reachability, Status::Fail),
            (Timeout, Content, Status::Error),
            (TlsRejected, Reachability, Status::Fail),
            (TlsRejected, Content, Status::Error),
            (ResolverUnavailable, Reachability, Status::Error),
            (Throttled, Content, Status::Error),
            (Throttled, Reachability, Status::Error),
            (Proxy, Reachability, Status::Error),
            (NetworkUnreachable, Reachability, Status::Error),
        ];
        for (why, property, status) in cases {
            assert_eq!(why.status(property), status, "{why:?} on {property:?}");
        }
    }

    #[test]
    fn io_errors_and_resolver_wording_are_classified() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(NoAnswer::from_io(&refused), NoAnswer::Refused);
        let gai =
            io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(NoAnswer::classify(&gai), NoAnswer::NameNotFound);
        let again = io::Error::other(
            "failed to lookup address information: Temporary failure in name resolution",
        );
        assert_eq!(NoAnswer::classify(&again), NoAnswer::ResolverUnavailable);
    }

    #[test]
    fn every_reason_reads_back_from_its_evidence_name() {
        for why in NoAnswer::ALL {
            assert_eq!(NoAnswer::from_name(why.as_str()), Some(why.clone()));
        }
        assert_eq!(NoAnswer::from_name("nxdomain"), None);
    }

    #[test]
    fn flattened_tls_errors_are_tls_rejected() {
        for text in [
            "received corrupt message of type InvalidContentType",
            "received fatal alert: HandshakeFailure",
            "server does not support TLS",
        ] {
            assert_eq!(
                NoAnswer::from_message(text),
                NoAnswer::TlsRejected,
                "{text}"
            );
        }
    }
}
