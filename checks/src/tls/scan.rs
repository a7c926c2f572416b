//! Which TLS 1.2 suites a server accepts, found with hand-written hellos walked concurrently
//! per suite family (offer all, strike the one chosen, repeat), each step under the budget.

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
    /// Families whose walk stopped early (timeout, unreadable answer), in words.
    pub incomplete: Vec<String>,
    pub connections: usize,
}

impl Scan {
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

async fn walk(
    route: &Route,
    sni: Option<&str>,
    version: u16,
    mut offer: Vec<u16>,
    started: Instant,
    budget: Duration,
) -> (Vec<Accepted>, Option<String>, usize) {
    let mut accepted = Vec::new();
    let mut connections = 0;
    // Bounded: each round strikes one suite, so at most len + 1 rounds.
    for _ in 0..=offer.len() {
        if offer.is_empty() {
            break;
        }
        let left = budget.saturating_sub(started.elapsed());
        if left.is_zero() {
            return (accepted, Some("out of time".into()), connections);
        }
        let mut ids = offer.clone();
        ids.push(0x00ff);
        connections += 1;
        match hello::exchange(
            route,
            &hello::client_hello(version, &ids, sni),
            Want::Flight,
            left,
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
                    return (accepted, Some(why), connections);
                }
                offer.retain(|s| *s != suite);
                accepted.push(Accepted {
                    version: v,
                    suite,
                    kx: key_exchange,
                });
            }
            Answer::Alert(_) | Answer::Closed => break,
            Answer::Unknown(why) => return (accepted, Some(why), connections),
        }
    }
    (accepted, None, connections)
}
