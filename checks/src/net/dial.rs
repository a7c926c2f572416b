//! What the non-web probes share for "could not check": resolving and connecting with the
//! reason kept ([`NoAnswer`]), and one way to turn that reason into an outcome by the rule in
//! `no_answer.rs` (status from `NoAnswer × Property`, `no_answer` in the evidence).

use std::net::SocketAddr;
use std::time::Duration;

use crate::no_answer::{NoAnswer, Property};
use crate::outcome::Outcome;
use crate::probe::ParamIssue;

/// The load-time issues of a `host` and `port` to connect to: an empty host, port 0.
pub(crate) fn endpoint_issues(host: &str, port: u16) -> Vec<ParamIssue> {
    let mut issues = Vec::new();
    if host.trim().is_empty() {
        issues.push(ParamIssue::new("host", "`host` is empty"));
    }
    if port == 0 {
        issues.push(ParamIssue::new("port", "port 0 cannot be connected to"));
    }
    issues
}

/// The host (brackets dropped) and port of `url` as a client connects to them: the URL's
/// port, else its scheme's known one (`ws`: 80, `wss`: 443), else `default_port`.
pub(crate) fn url_endpoint(url: &str, default_port: u16) -> (String, u16) {
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
        .unwrap_or_default();
    let port = parsed.and_then(|u| u.port_or_known_default());
    (host, port.unwrap_or(default_port))
}

/// An outcome for an exchange that got no real answer: the status the rule gives `why` for
/// `property`, the message in words, and `no_answer: <why>` in the evidence.
pub(crate) fn unanswered(
    why: &NoAnswer,
    property: Property,
    message: impl Into<String>,
) -> Outcome {
    Outcome::new(why.status(property), message).with("no_answer", why.as_str())
}

/// A budget in words: `2 s`, `1.5 s`, `500 ms`. What is left of a budget (999 ms of 1 s) reads
/// as the budget: from 950 ms on, to the nearest 100 ms.
pub(crate) fn within(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms >= 950 {
        ms = (ms + 50) / 100 * 100;
    }
    let d = Duration::from_millis(ms as u64);
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// What happened, in words, when an exchange with `host:port` got no real answer for `why`
/// within `budget`; `detail` (the library's own error text) is appended when not empty.
pub(crate) fn in_words(
    why: &NoAnswer,
    host: &str,
    port: u16,
    budget: Duration,
    detail: &str,
) -> String {
    let at = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let said = match why {
        NoAnswer::NameNotFound => format!("`{host}` does not resolve (no such name or no address)"),
        NoAnswer::ResolverUnavailable => {
            format!("could not resolve `{host}`: the resolver did not give an answer")
        }
        NoAnswer::Refused => format!("connection refused by {at}"),
        NoAnswer::Dropped => format!("{at} closed the connection before answering"),
        NoAnswer::Timeout => format!("{at} did not answer within {}", within(budget)),
        NoAnswer::TlsRejected => format!("the TLS handshake with {at} failed"),
        NoAnswer::NetworkUnreachable => format!("this machine has no route to {at}"),
        NoAnswer::Proxy => format!("the proxy in front of {at} refused or failed"),
        NoAnswer::Throttled => format!("throttled by the target ({at})"),
        NoAnswer::RedirectLoop => format!("{at} redirects without end"),
        NoAnswer::OwnLimit => format!("prodcheck's own pacing left no turn to ask {at}"),
        NoAnswer::Other => format!("no usable answer from {at}"),
    };
    // A refusal or a bare "timed out" says nothing the words do not already say.
    let generic = match why {
        NoAnswer::Refused => true,
        NoAnswer::Timeout => ["timed out", "timeout"]
            .iter()
            .any(|g| detail.eq_ignore_ascii_case(g)),
        _ => false,
    };
    if detail.is_empty() || generic {
        said
    } else {
        format!("{said}: {detail}")
    }
}

/// Why no connection could be opened, and a message saying so in words.
#[derive(Debug)]
pub struct NotConnected {
    pub why: NoAnswer,
    pub message: String,
}

impl std::fmt::Display for NotConnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An error in its own right, so that it keeps its class through libraries' error chains (the
/// HTTP client's resolver hands it back inside reqwest's error).
impl std::error::Error for NotConnected {}

impl NotConnected {
    /// The finished outcome for a probe whose property is `property`.
    pub fn outcome(&self, property: Property) -> Outcome {
        unanswered(&self.why, property, self.message.clone())
    }
}

/// Words for a failed name lookup of `host`, by what classification found.
pub(crate) fn lookup_failed(host: &str, err: &std::io::Error) -> NotConnected {
    let why = NoAnswer::from_io(err);
    let why = match why {
        // getaddrinfo reports everything as `Other`; an unrecognised failure is the resolver's.
        NoAnswer::NameNotFound => why,
        _ => NoAnswer::ResolverUnavailable,
    };
    let message = match why {
        NoAnswer::NameNotFound => {
            format!("`{host}` does not resolve (no such name or no address): {err}")
        }
        _ => format!("could not resolve `{host}`: the resolver did not give an answer ({err})"),
    };
    NotConnected { why, message }
}

/// Words for a failed TCP connect to `addr`.
pub(crate) fn connect_failed(addr: SocketAddr, err: &std::io::Error) -> NotConnected {
    let why = NoAnswer::from_io(err);
    let message = match why {
        NoAnswer::Refused => format!("connection refused by {addr}"),
        NoAnswer::Timeout => format!("{addr} did not accept a connection in time: {err}"),
        NoAnswer::NetworkUnreachable => {
            format!("this machine has no route to {addr}: {err}")
        }
        _ => format!("connecting to {addr} failed: {err}"),
    };
    NotConnected { why, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;

    #[test]
    fn budgets_read_as_words() {
        assert_eq!(within(Duration::from_millis(500)), "500 ms");
        assert_eq!(within(Duration::from_secs(2)), "2 s");
        assert_eq!(within(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(within(Duration::from_millis(999)), "1 s");
        assert_eq!(within(Duration::from_millis(1998)), "2 s");
    }

    #[test]
    fn lookup_wording_is_classified() {
        let nx = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        let got = lookup_failed("db.invalid", &nx);
        assert_eq!(got.why, NoAnswer::NameNotFound);
        assert_eq!(got.outcome(Property::Reachability).status, Status::Fail);
        let again = std::io::Error::other(
            "failed to lookup address information: Temporary failure in name resolution",
        );
        let got = lookup_failed("db.example", &again);
        assert_eq!(got.why, NoAnswer::ResolverUnavailable);
        let out = got.outcome(Property::Reachability);
        assert_eq!(out.status, Status::Error);
        assert_eq!(out.evidence["no_answer"], "resolver_unavailable");
    }

    #[tokio::test]
    async fn a_refused_port_is_named() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let opts = crate::net::NetParams::default();
        let err = crate::net::dial("127.0.0.1", port, "https", &opts, Duration::from_secs(2))
            .await
            .expect_err("nothing listens");
        assert_eq!(err.why, NoAnswer::Refused);
        assert_eq!(
            err.message,
            format!("connection refused by 127.0.0.1:{port}")
        );
    }
}
