//! The observation stage: a plan's checklists (one per target) run in one process: automated items
//! concurrently (one bound, one per-host limit, each item under its own timeout, with retries),
//! then disruptive probes one at a time, then manual items. Results come back in checklist
//! order whatever finished first; Ctrl-C stops cleanly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use checks::figures::{Figures, InternalError, Via};
use checks::net::http::proxy::ProxySetting;
use checks::politeness::Politeness;
use checks::{Outcome, Probe, ProbeContext, Status};
use tokio::sync::watch;

use super::plan::{Plan, RunOptions, politeness};
use crate::checklist::{Checklist, Item, ItemBody, Wait};
use crate::manual::Prompter;
use crate::run::verdict::{Observation, ProbeRun};

mod fleet;
mod needs;
pub use fleet::{Shared, Unit, run_fleet};

/// Grace after an item's timeout before the runner gives up on the probe.
const BACKSTOP_GRACE: Duration = Duration::from_millis(500);

/// What the runner tells whoever owns the terminal.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Probes are about to start: their ids, in the order they will be started.
    Begin { ids: Vec<String> },
    /// One probe finished.
    Finished { id: String, status: Status },
    /// Every probe finished; manual items (if any) come next.
    ProbesDone,
}

/// Observations in checklist order, and whether Ctrl-C cut the run short.
#[derive(Debug)]
pub struct RunResult {
    pub observations: Vec<Observation>,
    pub interrupted: bool,
}

/// How one item's probe is tried: the budget of an attempt, retries, and an optional wait.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub timeout: Duration,
    pub retries: Retries,
    pub wait: Option<Wait>,
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
        None => attempts(kind, probe, schedule.timeout, schedule.retries, &network).await,
        Some(wait) => wait_for_pass(kind, probe, schedule.timeout, wait, &network).await,
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
        let run = attempts(kind, probe.clone(), timeout, once, network).await;
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
    if via.proxy.is_some() {
        return run;
    }
    if let Some(used) = via.url.or(via.base_url).and_then(|t| proxy.used_for(&t)) {
        Via {
            proxy: Some(used.into()),
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
    network: &Network,
) -> ProbeRun {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut ctx = ProbeContext::with_politeness(timeout, network.politeness.clone());
        ctx.net.proxy = Some(network.proxy.clone());
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

/// Runs every part of `plan` in one process (one concurrency bound, one per-host limit).
/// `shutdown` turning true (Ctrl-C, a deadline) stops the run: unfinished items are observed
/// as interrupted. This stage only observes; `verdict::decide` judges.
pub async fn observe(
    plan: &Plan<'_>,
    prompter: Arc<dyn Prompter>,
    progress: &(dyn Fn(Progress) + Sync),
    shutdown: watch::Receiver<bool>,
) -> Vec<RunResult> {
    let shared = shared(
        politeness(plan.per_host, plan.pace),
        plan_requests(plan),
        plan.concurrency,
    );
    observe_with(plan, shared, prompter, progress, shutdown).await
}

/// [`observe`] under a bound and politeness given by the caller (a fleet's batches share one).
pub async fn observe_with(
    plan: &Plan<'_>,
    shared: Shared,
    prompter: Arc<dyn Prompter>,
    progress: &(dyn Fn(Progress) + Sync),
    shutdown: watch::Receiver<bool>,
) -> Vec<RunResult> {
    let units: Vec<Unit> = plan
        .parts
        .iter()
        .map(|p| Unit {
            checklist: &p.checklist,
            opts: &p.opts,
            target: if plan.fleet {
                p.target.map(|t| t.name.as_str())
            } else {
                None
            },
        })
        .collect();
    run_fleet(&units, shared, prompter, progress, shutdown).await
}

/// One concurrency bound and one politeness for a run. Items wait in the run's own queues at
/// most 30 s, or half as long again as the least wall time the paced `requests` need.
pub fn shared(politeness: Politeness, requests: Vec<(String, u32)>, concurrency: usize) -> Shared {
    let least = politeness.plan(requests).minimum().mul_f64(1.5);
    let queue_limit = politeness.queue_limit().max(least);
    Shared {
        concurrency,
        politeness: Arc::new(politeness.with_queue_limit(queue_limit)),
    }
}

/// The paced requests the plan's selected automated items will send, per host, and the least
/// wall time the run's pace allows them (printed with `-v`).
pub fn pacing_plan(plan: &Plan<'_>) -> checks::politeness::Plan {
    politeness(plan.per_host, plan.pace).plan(plan_requests(plan))
}

/// The paced requests (host, count) of every part of `plan`.
fn plan_requests(plan: &Plan<'_>) -> Vec<(String, u32)> {
    plan.parts
        .iter()
        .flat_map(|p| requests_of(&p.checklist, &p.opts))
        .collect()
}

/// The paced requests (host, count) `checklist`'s selected automated items will send.
fn requests_of(checklist: &Checklist, opts: &RunOptions) -> Vec<(String, u32)> {
    checklist
        .items()
        .filter(|(_, item)| opts.selects(item))
        .filter_map(|(_, item)| match &item.body {
            ItemBody::Check(check) => Some(check.probe.planned_requests()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Runs one checklist alone (tests and callers without a plan).
pub async fn run(
    checklist: &Checklist,
    opts: &RunOptions,
    prompter: Arc<dyn Prompter>,
    progress: &(dyn Fn(Progress) + Sync),
    shutdown: watch::Receiver<bool>,
) -> RunResult {
    let unit = Unit {
        checklist,
        opts,
        target: None,
    };
    let shared = shared(
        opts.politeness(),
        requests_of(checklist, opts),
        opts.concurrency,
    );
    let mut results = run_fleet(&[unit], shared, prompter, progress, shutdown).await;
    results.pop().unwrap_or(RunResult {
        observations: Vec::new(),
        interrupted: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::{Check, ItemBody, Section, Severity};
    use crate::manual::Answer;
    use crate::run::verdict::{self, Policy, Status as VerdictStatus};
    use crate::state::{State, Timestamp};

    /// A probe that panics (a bug), optionally disruptive.
    #[derive(Debug)]
    struct Panicking {
        disruptive: bool,
    }

    #[async_trait::async_trait]
    impl Probe for Panicking {
        fn disruptive(&self) -> bool {
            self.disruptive
        }
        async fn run(&self, _ctx: &ProbeContext) -> Outcome {
            panic!("index out of bounds in a probe");
        }
    }

    #[derive(Debug)]
    struct Passing;

    #[async_trait::async_trait]
    impl Probe for Passing {
        async fn run(&self, _ctx: &ProbeContext) -> Outcome {
            Outcome::pass("fine")
        }
    }

    struct NoPrompt;
    impl Prompter for NoPrompt {
        fn ask(&self, _: &str, _: &Item, _: &str) -> Answer {
            Answer::Skipped
        }
    }

    fn item(id: &str, kind: &str, probe: Arc<dyn Probe>, retries: u32) -> Item {
        Item {
            id: id.into(),
            title: id.into(),
            severity: Severity::Critical,
            tags: Vec::new(),
            timeout: Duration::from_secs(2),
            retries,
            retry_delay: None,
            line: 1,
            fix: None,
            docs: None,
            every: None,
            stages: Vec::new(),
            sustain: None,
            wait: None,
            body: ItemBody::Check(Check {
                kind: kind.into(),
                probe,
                needs: Vec::new(),
                params: serde_json::Value::Null,
            }),
            overridden: Vec::new(),
            not_applicable: None,
            depends_on: Vec::new(),
            approval: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_panicking_probe_is_its_items_error_and_the_run_goes_on() {
        let checklist = Checklist {
            name: "p".into(),
            title: None,
            description: None,
            file: "p.yaml".into(),
            sections: vec![Section {
                name: "S".into(),
                items: vec![
                    item("before", "http", Arc::new(Passing), 0),
                    item("bug", "cors", Arc::new(Panicking { disruptive: false }), 2),
                    item(
                        "burst",
                        "rate_limit",
                        Arc::new(Panicking { disruptive: true }),
                        0,
                    ),
                    item("after", "http", Arc::new(Passing), 0),
                ],
            }],
            stages: Vec::new(),
            secrets: Vec::new(),
            tailored: Vec::new(),
            composed_from: Vec::new(),
        };
        let (_tx, rx) = watch::channel(false);
        let result = run(
            &checklist,
            &RunOptions::default(),
            Arc::new(NoPrompt),
            &|_| {},
            rx,
        )
        .await;
        assert!(!result.interrupted);
        let state = State::default();
        let policy = Policy {
            checklist: "p",
            fail_on_warning: false,
            state: &state,
            now: Timestamp::now(),
            automated: false,
        };
        let verdicts: Vec<_> = checklist
            .items()
            .zip(result.observations)
            .map(|((_, i), o)| verdict::decide(i, o, &policy))
            .collect();
        let statuses: Vec<_> = verdicts.iter().map(|v| v.status).collect();
        assert_eq!(
            statuses,
            [
                VerdictStatus::Pass,
                VerdictStatus::Error,
                VerdictStatus::Error,
                VerdictStatus::Pass
            ]
        );
        assert!(
            verdicts[1]
                .message
                .starts_with("internal error in the `cors` probe: index out of bounds"),
            "{}",
            verdicts[1].message
        );
        assert_eq!(verdicts[1].attempts, 1, "a bug is not retried");
        assert!(verdicts[2].message.contains("`rate_limit` probe"));
        let code = verdict::exit_code(verdicts.iter().map(|v| &v.exit_code), false);
        assert_eq!(code, crate::exit_code::PROBE_ERROR);
    }
}
