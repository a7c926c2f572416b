//! Recognising a throttled answer (429, or 503 with a retry hint) and the wait it asks for, so
//! no probe judges a rate limiter's page as the property it checks (see `page::Fetcher`).

use std::time::{Duration, SystemTime};

use crate::net::http::rate_limit_headers as rl;

/// Wait assumed when a throttled answer names none.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(1);
/// Longest wait honoured from one answer (a day-long `Retry-After` is not waited out).
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// A throttled answer: its status and the wait it advertised (and through which header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub status: u16,
    /// The advertised wait and the header it came from.
    pub advertised: Option<(Duration, &'static str)>,
}

impl Throttle {
    /// The wait to honour before asking again: the advertised one (capped), else `fallback`.
    pub fn wait(&self, fallback: Duration) -> Duration {
        self.advertised.map_or(fallback, |(d, _)| d).min(MAX_WAIT)
    }

    /// `429, Retry-After 1 s` — for messages.
    pub fn describe(&self) -> String {
        match self.advertised {
            Some((d, header)) => format!("{}, {header} {} s", self.status, secs(d)),
            None => format!("{}, no retry hint", self.status),
        }
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", d.as_secs())
    } else {
        format!("{s:.1}")
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The wait a throttled answer advertises: `Retry-After` (seconds or date), else `RateLimit`'s
/// `t=`, `RateLimit-Reset` (seconds), `X-RateLimit-Reset` (seconds or a Unix time).
pub fn advertised(
    headers: &[(String, String)],
    now: SystemTime,
) -> Option<(Duration, &'static str)> {
    if let Some(d) = header(headers, "retry-after").and_then(|v| rl::retry_after(v, now).ok()) {
        return Some((d, "Retry-After"));
    }
    if let Some(v) = header(headers, "ratelimit") {
        let t = v
            .split([';', ','])
            .filter_map(|p| p.trim().strip_prefix("t="))
            .filter_map(|n| n.trim().parse::<u64>().ok())
            .min();
        if let Some(t) = t {
            return Some((Duration::from_secs(t), "RateLimit t="));
        }
    }
    if let Some(n) = header(headers, "ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some((Duration::from_secs(n), "RateLimit-Reset"));
    }
    let x = header(headers, "x-ratelimit-reset")?
        .trim()
        .parse::<f64>()
        .ok();
    let x = x.filter(|n| n.is_finite() && *n >= 0.0)?;
    let wait = if x >= 1_000_000_000.0 {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(x);
        at.duration_since(now).unwrap_or(Duration::ZERO)
    } else {
        Duration::from_secs_f64(x)
    };
    Some((wait, "X-RateLimit-Reset"))
}

/// Whether an answer is a throttled one: any 429; a 503 only with a retry hint (a bare 503 is an
/// outage, which the probes judge as such).
pub fn detect(status: u16, headers: &[(String, String)]) -> Option<Throttle> {
    let advertised = advertised(headers, SystemTime::now());
    let hinted = advertised.is_some()
        || [
            "retry-after",
            "ratelimit",
            "ratelimit-reset",
            "x-ratelimit-reset",
        ]
        .iter()
        .any(|n| header(headers, n).is_some());
    match status {
        429 => Some(Throttle { status, advertised }),
        503 if hinted => Some(Throttle { status, advertised }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_429_is_throttled_with_or_without_a_hint() {
        let t = detect(429, &h(&[("retry-after", "1")]));
        assert_eq!(
            t.as_ref().map(Throttle::describe).as_deref(),
            Some("429, Retry-After 1 s")
        );
        let bare = detect(429, &[]);
        assert_eq!(
            bare.as_ref().map(|t| t.wait(DEFAULT_WAIT)),
            Some(DEFAULT_WAIT)
        );
        assert_eq!(
            bare.map(|t| t.describe()).as_deref(),
            Some("429, no retry hint")
        );
    }

    #[test]
    fn a_503_is_throttled_only_with_a_retry_hint() {
        assert_eq!(detect(503, &h(&[("server", "nginx")])), None);
        assert!(detect(503, &h(&[("Retry-After", "5")])).is_some());
        let t = detect(503, &h(&[("ratelimit-reset", "7")]));
        assert_eq!(
            t.map(|t| t.wait(DEFAULT_WAIT)),
            Some(Duration::from_secs(7))
        );
        // A malformed hint still marks it as a limiter's answer; the default wait applies.
        let t = detect(503, &h(&[("retry-after", "soon")]));
        assert_eq!(t.map(|t| t.wait(DEFAULT_WAIT)), Some(DEFAULT_WAIT));
        assert_eq!(detect(200, &h(&[("retry-after", "5")])), None);
        assert_eq!(detect(500, &h(&[("retry-after", "5")])), None);
    }

    #[test]
    fn waits_come_from_each_header_family_and_are_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let w = |pairs: &[(&str, &str)]| advertised(&h(pairs), now).map(|(d, _)| d);
        assert_eq!(
            w(&[("ratelimit", "\"default\";r=0;t=3")]),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            w(&[("x-ratelimit-reset", "1700000004")]),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            w(&[("x-ratelimit-reset", "0.5")]),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            w(&[("retry-after", "2"), ("ratelimit-reset", "9")]),
            Some(Duration::from_secs(2))
        );
        let long = detect(429, &h(&[("retry-after", "86400")]));
        assert_eq!(long.map(|t| t.wait(DEFAULT_WAIT)), Some(MAX_WAIT));
    }
}
