//! Percentiles of latency samples (nearest-rank, so every figure is a latency that was
//! actually observed), kept apart from `latency` so the arithmetic is unit-tested on its own.

use std::time::Duration;

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of `sorted` (ascending); `None` if empty.
pub fn nearest_rank(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// p50 / p95 / p99 / max of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// Summarises `samples` (any order); `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        Some(Summary {
            p50: nearest_rank(&sorted, 50.0)?,
            p95: nearest_rank(&sorted, 95.0)?,
            p99: nearest_rank(&sorted, 99.0)?,
            max: *sorted.last()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_picks_observed_values() {
        let s = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(nearest_rank(&s, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(nearest_rank(&s, 95.0), Some(Duration::from_millis(95)));
        assert_eq!(nearest_rank(&s, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(nearest_rank(&s, 100.0), Some(Duration::from_millis(100)));
        assert_eq!(nearest_rank(&[], 50.0), None);
    }

    #[test]
    fn small_sets_round_up() {
        // 20 samples: p50 is the 10th, p95 the 19th, p99 the 20th.
        let mut v = vec![10; 17];
        v.extend([200, 200, 400]);
        let s = Summary::of(&ms(&v)).expect("samples");
        assert_eq!(s.p50, Duration::from_millis(10));
        assert_eq!(s.p95, Duration::from_millis(200));
        assert_eq!(s.p99, Duration::from_millis(400));
        assert_eq!(s.max, Duration::from_millis(400));
        let one = Summary::of(&ms(&[7])).expect("one");
        assert_eq!(
            (one.p50, one.max),
            (Duration::from_millis(7), Duration::from_millis(7))
        );
    }
}
