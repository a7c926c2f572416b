//! Which TLS 1.2 suites a server accepts, found with hand-written hellos walked concurrently
//! per suite family (offer all, strike the one chosen, repeat), each step under the budget.
//! Only an alert ends a walk as "no more suites": a closed connection, a stall or an odd answer
//! is retried once, and a family that still did not finish is reported as not checked.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};

use crate::net::Route;
use crate::tls::hello::{self, Answer, Flight, KeyExchange, Want};
use crate::tls::suites;

/// One suite the server chose when offered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The version the server answered with.
    pub version: u16,
    pub suite: u16,
    /// DH group size or ECDHE curve, from the ServerKeyExchange.
    pub kx: Option<KeyExchange>,
}

/// The result of enumerating one protocol version.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub accepted: Vec<Accepted>,
    /// Families whose walk stopped early (timeout, closed without an alert, unreadable
    /// answer), in words: "ECDHE non-AEAD suites: …". A scan with any is not a complete answer.
    pub incomplete: Vec<String>,
    pub connections: usize,
}

impl Scan {
    /// Whether every family's walk ended with an alert or an empty offer.
    pub fn complete(&self) -> bool {
        self.incomplete.is_empty()
    }

    pub fn evidence(&self) -> Value {
        let accepted: Vec<Value> = self
            .accepted
            .iter()
            .map(|a| {
                json!({
                    "version": hello::version_name(a.version),
                    "suite": suites::name(a.suite),
                    "key_exchange": a.kx.map(|k| k.describe()),
                })
            })
            .collect();
        json!({
            "accepted": accepted,
            "incomplete": self.incomplete,
            "complete": self.complete(),
            "connections": self.connections,
        })
    }
}

/// Walks every suite family of [`suites::buckets`] at `version`, at most `parallel` at once
/// (the run's per-host politeness limit).
pub async fn enumerate(
    route: &Route,
    sni: Option<&str>,
    version: u16,
    budget: Duration,
    parallel: usize,
) -> Scan {
    let started = Instant::now();
    let walks = suites::buckets()
        .into_iter()
        .map(|bucket| walk(route, sni, version, bucket, started, budget));
    let done: Vec<_> = stream::iter(walks)
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    let mut scan = Scan::default();
    for (accepted, incomplete, connections) in done {
        scan.accepted.extend(accepted);
        scan.incomplete.extend(incomplete);
        scan.connections += connections;
    }
    // Table order (strongest first) reads better than completion order.
    let pos = |id: u16| suites::ALL.iter().position(|s| s.id == id);
    scan.accepted.sort_by_key(|a| pos(a.suite));
    scan
}

/// "ECDHE AEAD suites": the family a bucket of [`suites::buckets`] walks, for messages.
fn family(bucket: &[u16]) -> String {
    match bucket.first().and_then(|id| suites::find(*id)) {
        Some(s) => {
            let kx = match s.kx {
                suites::Kx::Rsa => "static-RSA",
                suites::Kx::Anon => "anonymous",
                other => other.words(),
            };
            let bulk = if s.bulk == suites::Bulk::Aead {
                "AEAD"
            } else {
                "non-AEAD"
            };
            format!("{kx} {bulk} suites")
        }
        None => "suites".into(),
    }
}

/// Asks once, and again when the answer is not final (`settled`): the first try gets half of
/// what is left of `budget` since `started`, so a stalled connection leaves time for the
/// second. The last answer; `None` when no time was left for a first try.
pub(crate) async fn ask_twice<A, F: std::future::Future<Output = A>>(
    started: Instant,
    budget: Duration,
    mut ask: impl FnMut(Duration) -> F,
    settled: impl Fn(&A) -> bool,
) -> Option<A> {
    let mut last = None;
    for attempt in 0..2 {
        let left = budget.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        let slice = if attempt == 0 { left / 2 } else { left };
        let answer = ask(slice).await;
        let done = settled(&answer);
        last = Some(answer);
        if done {
            break;
        }
    }
    last
}

/// One hello, asked again once when the answer was no answer (closed without an alert,
/// a stall, something not TLS): the first try gets half of what is left so a stalled
/// connection leaves time for the second. Both tries stay within `budget` from `started`.
pub(crate) async fn ask(route: &Route, hello: &[u8], started: Instant, budget: Duration) -> Answer {
    ask_twice(
        started,
        budget,
        |slice| hello::exchange(route, hello, Want::Flight, slice),
        |a| matches!(a, Answer::Accepted(_) | Answer::Alert(_)),
    )
    .await
    .unwrap_or_else(|| Answer::Unknown("out of time".into()))
}

async fn walk(
    route: &Route,
    sni: Option<&str>,
    version: u16,
    mut offer: Vec<u16>,
    started: Instant,
    budget: Duration,
) -> (Vec<Accepted>, Option<String>, usize) {
    let family = family(&offer);
    let mut accepted = Vec::new();
    let mut connections = 0;
    let stopped = |accepted: &Vec<Accepted>, offer: &Vec<u16>, why: String| {
        format!(
            "{family}: {why} after {} found; {} not checked",
            accepted.len(),
            offer.len()
        )
    };
    // Bounded: each round strikes one suite, so at most len + 1 rounds.
    for _ in 0..=offer.len() {
        if offer.is_empty() {
            break;
        }
        if budget.saturating_sub(started.elapsed()).is_zero() {
            let why = stopped(&accepted, &offer, "out of time".into());
            return (accepted, Some(why), connections);
        }
        let mut ids = offer.clone();
        ids.push(0x00ff);
        connections += 1;
        match ask(
            route,
            &hello::client_hello(version, &ids, sni),
            started,
            budget,
        )
        .await
        {
            Answer::Accepted(Flight {
                version: v,
                suite,
                key_exchange,
                ..
            }) => {
                if !offer.contains(&suite) {
                    let why = format!(
                        "server chose {}, which was not offered",
                        suites::name(suite)
                    );
                    let why = stopped(&accepted, &offer, why);
                    return (accepted, Some(why), connections);
                }
                offer.retain(|s| *s != suite);
                accepted.push(Accepted {
                    version: v,
                    suite,
                    kx: key_exchange,
                });
            }
            // Only an alert is the server saying "none of these".
            Answer::Alert(_) => break,
            Answer::Closed => {
                let why = "connection closed without an alert (twice)".to_string();
                let why = stopped(&accepted, &offer, why);
                return (accepted, Some(why), connections);
            }
            Answer::Unknown(why) => {
                let why = stopped(&accepted, &offer, why);
                return (accepted, Some(why), connections);
            }
        }
    }
    (accepted, None, connections)
}
