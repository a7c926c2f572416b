//! The run's plan: the paced requests each host will get and the least wall time the pace
//! allows them, printed with `run -v` and used to size the run's queue limit.

use std::time::Duration;

/// The host of a URL as the run's politeness keys it (lowercase, no port).
pub fn host_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    Some(host_key(parsed.host_str()?))
}

/// A host name or address as the run's politeness keys it: lowercase, IPv6 without brackets,
/// so a `tls` item's `host` and an `http` item's URL name the same host alike.
pub fn host_key(host: &str) -> String {
    host.trim_matches(['[', ']']).to_ascii_lowercase()
}

/// `count` paced requests to the host of `url`, as a probe's `planned_requests` says them
/// (none when the URL has no host).
pub fn requests_to(url: &str, count: u32) -> Vec<(String, u32)> {
    host_of(url).map_or_else(Vec::new, |h| vec![(h, count)])
}

/// The run's plan: the paced requests it will send per host and the least wall time the
/// pace allows them (hosts are paced in parallel, so the run's is the slowest host's).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// (host, requests, least seconds: requests beyond the burst ÷ the pace).
    pub hosts: Vec<(String, u32, f64)>,
    pub rate: f64,
    pub burst: f64,
}

impl Plan {
    /// The least wall time the pace allows the whole run.
    pub fn minimum(&self) -> Duration {
        let secs = self.hosts.iter().map(|(_, _, s)| *s).fold(0.0, f64::max);
        Duration::from_secs_f64(secs)
    }

    /// One line per host, for `-v`: `plan: shop.example: 64 requests at 5/s after a burst of
    /// 10: at least 10.8 s`.
    pub fn lines(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|(h, n, s)| {
                format!(
                    "plan: {h}: {n} paced requests at {}/s after a burst of {}: at least {s:.1} s",
                    self.rate, self.burst
                )
            })
            .collect()
    }
}
