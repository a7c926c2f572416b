//! How one item's probe is tried: its retries or its wait, the timeout backstop, a panic as
//! the item's error; what every probe shares about the network (politeness, proxy).

use std::sync::Arc;
use std::time::{Duration, Instant};

use checks::figures::{Figures, InternalError, Via};
use checks::net::http::proxy::ProxySetting;
use checks::politeness::Politeness;
use checks::{Outcome, Probe, ProbeContext, Status};

use crate::checklist::{Item, ItemBody, Wait};
use crate::run::verdict::ProbeRun;

/// Grace after an item's timeout before the runner gives up on the probe.
const BACKSTOP_GRACE: Duration = Duration::from_millis(500);
/// How one item's probe is tried: the budget of an attempt, retries, and an optional wait.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub timeout: Duration,
    pub retries: Retries,
    pub wait: Option<Wait>,
    /// The item `capture:`s: the probe keeps its answer ([`checks::Outcome::answer`]).
    pub keep_answer: bool,
}

impl Schedule {
    pub fn of(item: &Item) -> Schedule {
        Schedule {
            timeout: item.timeout,
            retries: Retries {
                count: item.retries,
                delay: item.retry_delay,
            },
            wait: item.wait,
            keep_answer: matches!(&item.body, ItemBody::Check(c) if !c.flow.captures.is_empty()),
        }
    }
}

/// Runs one item's probe with its retries (or its wait) and the runner's timeout backstop.
/// Each attempt runs on its own task, so a probe that panics becomes this item's `error` and
/// the run goes on.
pub async fn run_probe(
    kind: &str,
    probe: Arc<dyn Probe>,
    schedule: Schedule,
    network: Network,
) -> ProbeRun {
    // The item's own `proxy` replaces the run's, for this item only.
    let mut network = network;
    if let Some(own) = probe.net().and_then(|n| n.proxy.as_ref()) {
        network.proxy = own.clone();
    }
    let run = match schedule.wait {
        None => {
            let keep = schedule.keep_answer;
            attempts(
                kind,
                probe,
                schedule.timeout,
                schedule.retries,
                keep,
                &network,
            )
            .await
        }
        Some(wait) => {
            let keep = schedule.keep_answer;
            wait_for_pass(kind, probe, schedule.timeout, wait, keep, &network).await
        }
    };
    with_proxy_evidence(run, &network.proxy)
}

/// `wait:` — tries every `wait.every` until the probe passes or `wait.within` is up. A pass
/// says how long it took; otherwise the last answer stands (a `fail` stays a fail, an `error`
/// an error), with how long it waited.
async fn wait_for_pass(
    kind: &str,
    probe: Arc<dyn Probe>,
    timeout: Duration,
    wait: Wait,
    keep_answer: bool,
    network: &Network,
) -> ProbeRun {
    let started = Instant::now();
    let deadline = started + wait.within;
    let once = Retries {
        count: 0,
        delay: None,
    };
    let mut tries = 0;
    loop {
        tries += 1;
        let tried_at = Instant::now();
        let run = attempts(kind, probe.clone(), timeout, once, keep_answer, network).await;
        let passed = matches!(
            run.outcome.status,
            Status::Pass | Status::Warn | Status::Skip
        );
        let internal = InternalError::read(&run.outcome.evidence).is_some();
        if passed || internal || tried_at >= deadline {
            let waited = started.elapsed();
            let mut outcome = run.outcome;
            let took = crate::units::short(waited);
            let plural = if tries == 1 { "try" } else { "tries" };
            outcome.message = if passed {
                format!("after {took} ({tries} {plural}): {}", outcome.message)
            } else if internal {
                outcome.message
            } else {
                format!(
                    "still not passing after waiting {took} ({tries} {plural}); last answer: {}",
                    outcome.message
                )
            };
            outcome.evidence.insert(
                "waited_ms".into(),
                serde_json::json!(waited.as_millis() as u64),
            );
            outcome
                .evidence
                .insert("tries".into(), serde_json::json!(tries));
            return ProbeRun {
                outcome,
                duration: waited,
                attempts: tries,
                flaky: false,
            };
        }
        // The last try starts at the deadline, so a short wait still gets a second look.
        let next = (tried_at + wait.every).min(deadline);
        tokio::time::sleep_until(next.into()).await;
    }
}

/// How often an item is tried again after a `fail` or `error`, and how long to wait between.
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    pub count: u32,
    /// `None`: 200 ms, 400 ms, … A throttled target's `Retry-After` is honoured on top of
    /// this, by the run's politeness (no request goes to a host before the wait it asked for).
    pub delay: Option<Duration>,
}

/// What every probe of a run shares about the network.
#[derive(Debug, Clone)]
pub struct Network {
    pub politeness: Arc<Politeness>,
    pub proxy: ProxySetting,
}

/// Names the proxy a web item's request went through (credentials redacted), so a verdict
/// reached through a proxy says so. Probes that tunnel (`tcp`, `tls`, `websocket`) name it
/// themselves.
fn with_proxy_evidence(mut run: ProbeRun, proxy: &ProxySetting) -> ProbeRun {
    let evidence = &mut run.outcome.evidence;
    let Some(via) = Via::read(evidence) else {
        return run;
    };
    if via.proxy_used.is_some() {
        return run;
    }
    if let Some(used) = via.url.or(via.base_url).and_then(|t| proxy.used_for(&t)) {
        Via {
            proxy_used: Some(used.into()),
            ..Via::default()
        }
        .write(evidence);
    }
    run
}

async fn attempts(
    kind: &str,
    probe: Arc<dyn Probe>,
    timeout: Duration,
    retries: Retries,
    keep_answer: bool,
    network: &Network,
) -> ProbeRun {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut ctx = ProbeContext::with_politeness(timeout, network.politeness.clone());
        ctx.net.proxy = Some(network.proxy.clone());
        ctx.keep_answer = keep_answer;
        let queue = ctx.queue.clone();
        let attempt = tokio::spawn({
            let probe = probe.clone();
            async move { probe.run(&ctx).await }
        });
        let abort = attempt.abort_handle();
        let outcome = match backstop(attempt, timeout + BACKSTOP_GRACE, &queue).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) if e.is_panic() => {
                let message = panic_text(e.into_panic());
                let outcome = Outcome::error(format!(
                    "internal error in the `{kind}` probe: {message}; this is a bug in prodcheck, please report it"
                ))
                .with_figures(&InternalError {
                    internal_error: message,
                });
                // A bug does not go away on a retry.
                return ProbeRun {
                    outcome,
                    duration: started.elapsed(),
                    attempts,
                    flaky: false,
                };
            }
            Ok(Err(_)) => Outcome::error("the probe was cancelled before it finished"),
            Err(_) => {
                abort.abort();
                Outcome::error(format!(
                    "the probe did not finish within its {} timeout",
                    humantime::format_duration(timeout)
                ))
            }
        };
        let done = matches!(outcome.status, Status::Pass | Status::Warn | Status::Skip);
        if done || attempts > retries.count {
            return ProbeRun {
                flaky: done && attempts > 1,
                outcome,
                duration: started.elapsed(),
                attempts,
            };
        }
        let pause = retries
            .delay
            .unwrap_or(Duration::from_millis(200 * u64::from(attempts)));
        tokio::time::sleep(pause).await;
    }
}

/// Waits for `attempt` for `limit` plus the time it spent queued behind the run's own limits
/// (that time is not the item's: see `QueueClock`). `Err` when the limit passed.
async fn backstop<T>(
    mut attempt: tokio::task::JoinHandle<T>,
    limit: Duration,
    queue: &checks::politeness::QueueClock,
) -> Result<Result<T, tokio::task::JoinError>, ()> {
    let started = tokio::time::Instant::now();
    // Bounded: each round returns, or the queued time grew (bounded by the queue limit).
    loop {
        let until = started + limit + queue.total();
        match tokio::time::timeout_at(until, &mut attempt).await {
            Ok(done) => return Ok(done),
            Err(_) if started + limit + queue.total() <= tokio::time::Instant::now() => {
                return Err(());
            }
            Err(_) => {}
        }
    }
}

/// The text of a panic payload (`panic!("…")` carries a `&str` or a `String`).
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}
