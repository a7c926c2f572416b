//! How long `rate_limit` leaves a host alone before its burst, so "throttled at request N"
//! measures the limiter's budget and not what earlier probes of the same run used of it.

use std::time::Duration;

/// Default quiet time before a burst, after other traffic to the host in this run: a
/// `limit_req` of 10 r/s with burst 20 refills in 2 s.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(2);

/// Why the burst waits as long as it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No request went to the host in this run: nothing to wait for.
    Untouched,
    /// The `idle` time since the run's latest request to the host.
    Idle,
    /// The largest `Retry-After` the host sent in this run (longer than `idle`).
    RetryAfter,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Untouched => "no earlier request to the host in this run",
            Reason::Idle => "idle time since the run's latest request to the host",
            Reason::RetryAfter => "largest Retry-After the host sent in this run",
        }
    }
}

/// The wait before the burst: the host must have been left alone for `max(idle, largest
/// Retry-After)`; `idle_for` is how long ago the latest request went (`None`: never).
pub fn wait(
    idle: Duration,
    largest_retry_after: Option<Duration>,
    idle_for: Option<Duration>,
) -> (Duration, Reason) {
    let Some(since) = idle_for else {
        return (Duration::ZERO, Reason::Untouched);
    };
    let (needed, reason) = match largest_retry_after {
        Some(r) if r > idle => (r, Reason::RetryAfter),
        _ => (idle, Reason::Idle),
    };
    (needed.saturating_sub(since), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_burst_waits_for_the_larger_of_idle_and_retry_after() {
        assert_eq!(wait(S(2), None, None), (S(0), Reason::Untouched));
        assert_eq!(wait(S(2), None, Some(S(0))), (S(2), Reason::Idle));
        assert_eq!(
            wait(S(2), None, Some(Duration::from_millis(500))),
            (Duration::from_millis(1500), Reason::Idle)
        );
        assert_eq!(wait(S(2), None, Some(S(10))), (S(0), Reason::Idle));
        assert_eq!(
            wait(S(2), Some(S(5)), Some(S(1))),
            (S(4), Reason::RetryAfter)
        );
        assert_eq!(wait(S(2), Some(S(1)), Some(S(1))), (S(1), Reason::Idle));
    }
}
