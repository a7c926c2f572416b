//! Politeness across a run: a per-host limit on concurrent requests and a per-host pace shared
//! by every probe, and the memory of what each host said about throttling (Retry-After, last
//! request), so one probe's traffic cannot make another probe judge a rate limiter.
//!
//! Pacing is a token bucket per host (default 5 requests per second, bursts of 10): no faster
//! than the tight `limit_req` set-ups (5 r/s, burst 10), so a whole run of the web probes
//! stays under them; a host that still throttles pushes every later request past its
//! `Retry-After` (see `web::throttle`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Default number of concurrent requests prodcheck sends to one host.
pub const DEFAULT_PER_HOST: usize = 4;
/// Default sustained pace to one host (requests per second) for paced requests.
pub const DEFAULT_RATE: f64 = 5.0;
/// Default burst of paced requests to one host before the pace applies.
pub const DEFAULT_BURST: f64 = 10.0;
/// Throttled answers never slow a host's pace below this (requests per second).
pub const MIN_RATE: f64 = 1.0;
/// How long one item may wait in the run's own queues (pace, per-host slots, a host's
/// `Retry-After`) before its request is given up as prodcheck's doing, not the target's.
pub const DEFAULT_QUEUE_LIMIT: Duration = Duration::from_secs(30);

mod plan;
mod queue;
pub use plan::{Plan, host_key, host_of, requests_to};
pub use queue::QueueClock;

/// What the run knows about one host.
#[derive(Debug)]
struct Host {
    gate: Arc<Semaphore>,
    /// This host's pace: the run's, halved at each throttled answer (at least `MIN_RATE`).
    rate: f64,
    /// Token bucket: tokens available at `refilled`.
    tokens: f64,
    refilled: Instant,
    /// No request to this host before this instant (a `Retry-After` it sent).
    blocked_until: Option<Instant>,
    /// The largest wait the host asked for in this run.
    largest_retry_after: Option<Duration>,
    /// The latest throttled answer, as messages name it (`429, Retry-After 1 s`).
    last_throttle: Option<String>,
    /// When the latest request to this host was sent.
    last_request: Option<Instant>,
}

/// Shared by every probe of one run (see `ProbeContext::politeness`).
#[derive(Debug)]
pub struct Politeness {
    per_host: usize,
    rate: f64,
    burst: f64,
    queue_limit: Duration,
    hosts: Mutex<HashMap<String, Host>>,
}

/// Why no slot could be had within the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSlot {
    /// Every per-host slot stayed busy (requests the host did not answer).
    Busy,
    /// The host asked to be left alone for this long, past the deadline.
    Blocked(Duration),
    /// The host's pace has no turn left before the deadline (slowed by throttling or not).
    Paced { throttled_before: bool },
}

/// A permission to send one request to a host; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// A connection's hold on one of its host's per-host slots: dropping it (with the connection)
/// frees the slot and tells the item's queue clock the connection is off the network.
#[derive(Debug)]
pub struct Connection {
    _permit: OwnedSemaphorePermit,
    queue: Arc<QueueClock>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.queue.done();
    }
}

impl Politeness {
    /// At most `per_host` requests in flight to any one host (at least 1).
    pub fn new(per_host: usize) -> Self {
        Self::with_pace(per_host, DEFAULT_RATE, DEFAULT_BURST)
    }

    /// As `new`, with paced requests limited to `rate` per second after a burst of `burst`.
    pub fn with_pace(per_host: usize, rate: f64, burst: f64) -> Self {
        Politeness {
            per_host: per_host.max(1),
            rate: if rate.is_finite() && rate > 0.0 {
                rate
            } else {
                DEFAULT_RATE
            },
            burst: if burst.is_finite() {
                burst.max(1.0)
            } else {
                1.0
            },
            queue_limit: DEFAULT_QUEUE_LIMIT,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// As set up, with `limit` as the longest an item waits in the run's queues.
    pub fn with_queue_limit(mut self, limit: Duration) -> Self {
        self.queue_limit = limit;
        self
    }

    pub fn per_host(&self) -> usize {
        self.per_host
    }

    /// The paced requests per second and the burst, as configured (`--pace`).
    pub fn pace(&self) -> (f64, f64) {
        (self.rate, self.burst)
    }

    /// The longest an item waits in the run's queues before giving up (prodcheck's doing).
    pub fn queue_limit(&self) -> Duration {
        self.queue_limit
    }

    /// The plan of `requests` ((host, count) per item) under this pace.
    pub fn plan(&self, requests: impl IntoIterator<Item = (String, u32)>) -> Plan {
        // In first-seen order; an index by name, as a fleet plans 10,000 hosts.
        let mut per_host: Vec<(String, u32)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (host, n) in requests {
            match index.get(&host) {
                Some(at) => per_host[*at].1 += n,
                None => {
                    index.insert(host.clone(), per_host.len());
                    per_host.push((host, n));
                }
            }
        }
        drop(index);
        let hosts = per_host
            .into_iter()
            .map(|(h, n)| {
                let least = (f64::from(n) - self.burst).max(0.0) / self.rate;
                (h, n, least)
            })
            .collect();
        Plan {
            hosts,
            rate: self.rate,
            burst: self.burst,
        }
    }

    fn with_host<T>(&self, host: &str, f: impl FnOnce(&mut Host) -> T) -> T {
        let mut map = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry(host.to_ascii_lowercase())
            .or_insert_with(|| Host {
                gate: Arc::new(Semaphore::new(self.per_host)),
                rate: self.rate,
                tokens: self.burst,
                refilled: Instant::now(),
                blocked_until: None,
                largest_retry_after: None,
                last_throttle: None,
                last_request: None,
            });
        f(entry)
    }

    /// Waits for a slot to `host`: past any `Retry-After` it sent, within the per-host
    /// concurrency limit and, when `paced`, within the host's pace. Refuses (saying why) when
    /// that wait would pass `deadline`; records the request as sent.
    pub async fn slot(&self, host: &str, paced: bool, deadline: Instant) -> Result<Slot, NoSlot> {
        let gate = self.with_host(host, |h| h.gate.clone());
        let permit = match tokio::time::timeout_at(deadline, gate.acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => return Err(NoSlot::Busy),
        };
        if Instant::now() >= deadline {
            // The slot came free only as the budget ran out.
            return Err(NoSlot::Busy);
        }
        // Bounded: each round either returns or sleeps until a later start.
        for _ in 0..64 {
            let now = Instant::now();
            let (start, refusal) = self.with_host(host, |h| {
                let blocked = h.blocked_until.filter(|b| *b > now);
                let mut start = blocked.unwrap_or(now);
                if paced {
                    let rate = h.rate;
                    start = start.max(take_token(h, rate, self.burst, start));
                }
                let refusal = match blocked {
                    Some(b) if b > deadline => NoSlot::Blocked(b.duration_since(now)),
                    _ => NoSlot::Paced {
                        throttled_before: h.largest_retry_after.is_some(),
                    },
                };
                (start, refusal)
            });
            if start > deadline {
                return Err(refusal);
            }
            tokio::time::sleep_until(start).await;
            // A throttled answer that came back meanwhile moves this request past its wait.
            let now = Instant::now();
            let clear = self.with_host(host, |h| {
                let clear = h.blocked_until.is_none_or(|b| b <= now);
                if clear {
                    h.last_request = Some(now);
                }
                clear
            });
            if clear {
                return Ok(Slot { _permit: permit });
            }
        }
        Err(NoSlot::Busy)
    }

    /// Waits for one of `host`'s per-host slots for a connection that is not an HTTP request
    /// (a TLS handshake or scan): held while the connection is open, shared with the run's
    /// requests, never paced. The wait runs the item's `queue` clock (not charged to its
    /// timeout) while none of its connections is open. Callers bound the wait themselves.
    pub async fn connection(&self, host: &str, queue: &Arc<QueueClock>) -> Option<Connection> {
        let gate = self.with_host(&host_key(host), |h| h.gate.clone());
        let permit = queue
            .waiting_for(gate.acquire_owned(), Result::is_ok)
            .await
            .ok();
        permit.map(|permit| Connection {
            _permit: permit,
            queue: queue.clone(),
        })
    }

    /// Records that `host` throttled us (`what`: `429, Retry-After 1 s`) and asked for `wait`:
    /// no request goes to it before then.
    pub fn throttled(&self, host: &str, wait: Duration, what: &str) {
        let now = Instant::now();
        let until = now + wait;
        self.with_host(host, |h| {
            // One throttling episode slows the pace once, however many answers said so:
            // half the pace it throttled (multiplicative decrease, as TCP and AIMD crawlers do).
            if h.blocked_until.is_none_or(|b| b <= now) {
                h.rate = (h.rate / 2.0).max(MIN_RATE.min(self.rate));
            }
            h.blocked_until = Some(h.blocked_until.map_or(until, |b| b.max(until)));
            h.largest_retry_after = Some(h.largest_retry_after.map_or(wait, |w| w.max(wait)));
            h.last_throttle = Some(what.to_string());
            // No budget left: after the wait, one request, then the slower pace.
            h.tokens = 1.0;
            h.refilled = until;
        });
    }

    /// Records a request sent outside `slot` (the `rate_limit` burst).
    pub fn sent(&self, host: &str) {
        let now = Instant::now();
        self.with_host(host, |h| h.last_request = Some(now));
    }

    /// The latest throttled answer `host` sent in this run, as messages name it.
    pub fn last_throttle(&self, host: &str) -> Option<String> {
        self.with_host(host, |h| h.last_throttle.clone())
    }

    /// The largest `Retry-After` `host` sent in this run.
    pub fn largest_retry_after(&self, host: &str) -> Option<Duration> {
        self.with_host(host, |h| h.largest_retry_after)
    }

    /// How long ago the latest request to `host` was sent (`None`: none in this run).
    pub fn idle_for(&self, host: &str) -> Option<Duration> {
        let now = Instant::now();
        self.with_host(host, |h| {
            h.last_request.map(|t| now.saturating_duration_since(t))
        })
    }
}

/// Takes one token from `h`'s bucket, refilled at `rate` per second up to `burst`; returns
/// when the request may start (not before `earliest`).
fn take_token(h: &mut Host, rate: f64, burst: f64, earliest: Instant) -> Instant {
    if earliest > h.refilled {
        let gained = earliest.duration_since(h.refilled).as_secs_f64() * rate;
        h.tokens = (h.tokens + gained).min(burst);
        h.refilled = earliest;
    }
    h.tokens -= 1.0;
    if h.tokens >= 0.0 {
        earliest.max(h.refilled)
    } else {
        // In debt: this request starts when the bucket has refilled the missing token.
        h.refilled + Duration::from_secs_f64(-h.tokens / rate)
    }
}

impl Default for Politeness {
    fn default() -> Self {
        Politeness::new(DEFAULT_PER_HOST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_connection_holds_a_per_host_slot_requests_share_and_queues_while_it_waits() {
        let p = Politeness::new(1);
        let queue = Arc::new(QueueClock::default());
        let held = p.connection("[::1]", &queue).await.expect("a slot");
        // The one slot of `::1` is taken, whichever way the host is written.
        let soon = Instant::now() + Duration::from_millis(50);
        assert!(matches!(
            p.slot("::1", false, soon).await,
            Err(NoSlot::Busy)
        ));
        // A second connection waits; with one open, the wait is not queue time.
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move {
                let p = p;
                let second = p.connection("::1", &queue).await;
                (p, second.is_some())
            }
        });
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(queue.total(), Duration::ZERO);
        drop(held);
        let (p, got) = waiting.await.expect("joined");
        assert!(got);
        // A wait given up by its caller stops the queue clock: nothing is waiting any more.
        let busy = p.connection("::1", &queue).await.expect("a slot");
        let gave_up =
            tokio::time::timeout(Duration::from_secs(1), p.connection("::1", &queue)).await;
        assert!(gave_up.is_err());
        drop(busy);
        let before = queue.total();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(queue.total(), before);
    }

    #[tokio::test(start_paused = true)]
    async fn paced_requests_keep_to_the_burst_then_the_rate() {
        let p = Politeness::with_pace(64, 10.0, 10.0);
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(60);
        let mut starts = Vec::new();
        for _ in 0..30 {
            let slot = p.slot("a.example", true, far).await;
            assert!(slot.is_ok());
            starts.push(Instant::now().duration_since(t0));
        }
        // Ten at once, then one every 100 ms: 30 requests take two seconds.
        assert_eq!(starts[9], Duration::ZERO);
        assert!(starts[10] >= Duration::from_millis(99), "{:?}", starts[10]);
        assert!(
            starts[29] >= Duration::from_millis(1990),
            "{:?}",
            starts[29]
        );
        assert!(
            starts[29] <= Duration::from_millis(2010),
            "{:?}",
            starts[29]
        );
        // Any window of T seconds holds at most 10 + 10·T requests (nginx 10 r/s burst 20 allows 20 + 10·T).
        for (i, a) in starts.iter().enumerate() {
            let within_1s = starts[i..]
                .iter()
                .filter(|b| **b - *a < Duration::from_secs(1))
                .count();
            assert!(within_1s <= 20, "{within_1s} requests within 1 s of {a:?}");
        }
        // Another host has its own budget.
        let before = Instant::now();
        assert!(p.slot("b.example", true, far).await.is_ok());
        assert_eq!(Instant::now(), before);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_holds_every_request_to_that_host() {
        let p = Politeness::default();
        let t0 = Instant::now();
        p.throttled("a.example", Duration::from_secs(2), "429, Retry-After 2 s");
        assert!(
            p.slot("a.example", false, t0 + Duration::from_secs(10))
                .await
                .is_ok()
        );
        assert!(Instant::now().duration_since(t0) >= Duration::from_secs(2));
        assert_eq!(
            p.largest_retry_after("a.example"),
            Some(Duration::from_secs(2))
        );
        // After the wait: one request at once, then half the pace (5 r/s → 2.5 r/s).
        let far = Instant::now() + Duration::from_secs(60);
        let t1 = Instant::now();
        assert!(p.slot("a.example", true, far).await.is_ok());
        assert!(p.slot("a.example", true, far).await.is_ok());
        assert_eq!(
            Instant::now().duration_since(t1),
            Duration::from_millis(400)
        );
        p.throttled("a.example", Duration::from_secs(1), "429");
        assert_eq!(
            p.largest_retry_after("a.example"),
            Some(Duration::from_secs(2))
        );
        // A wait past the deadline is refused up front, not slept through.
        p.throttled("a.example", Duration::from_secs(30), "429");
        assert_eq!(p.last_throttle("a.example").as_deref(), Some("429"));
        let now = Instant::now();
        assert!(
            p.slot("a.example", false, now + Duration::from_secs(5))
                .await
                .is_err_and(|e| matches!(e, NoSlot::Blocked(_)))
        );
        assert_eq!(Instant::now(), now);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_per_host_is_bounded_and_idle_time_is_known() {
        let p = Politeness::new(2);
        let far = Instant::now() + Duration::from_secs(5);
        assert_eq!(p.idle_for("a.example"), None);
        let s1 = p.slot("a.example", false, far).await;
        let s2 = p.slot("a.example", false, far).await;
        assert!(s1.is_ok() && s2.is_ok());
        // The third waits until one is dropped; with none dropped it gives up at the deadline.
        let third = p.slot(
            "a.example",
            false,
            Instant::now() + Duration::from_millis(50),
        );
        assert_eq!(third.await.err(), Some(NoSlot::Busy));
        drop(s1);
        assert!(p.slot("a.example", false, far).await.is_ok());
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(
            p.idle_for("A.example")
                .is_some_and(|d| d >= Duration::from_secs(3))
        );
    }
}
