//! The observation stage: a plan's checklists (one per target) run in one process: automated items
//! concurrently (one bound, one per-host limit, each item under its own timeout, with retries),
//! then disruptive probes one at a time, then manual items. Results come back in checklist
//! order whatever finished first; Ctrl-C stops cleanly.

use std::sync::Arc;

use checks::Status;
use checks::politeness::Politeness;
use tokio::sync::watch;

use super::plan::{Plan, RunOptions, politeness};
use crate::checklist::{Checklist, ItemBody};
use crate::manual::Prompter;
use crate::run::verdict::Observation;

mod attempt;
mod fleet;
mod flow;
mod needs;
pub use attempt::{Network, Retries, Schedule, run_probe};
pub use fleet::{Shared, Unit, run_fleet};

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
    /// The values items captured (`capture:`): secrets, redacted in every output.
    pub secrets: Vec<String>,
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
        secrets: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use checks::{Outcome, Probe, ProbeContext};

    use super::*;
    use crate::checklist::{Check, Item, ItemBody, Section};
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
        let body = ItemBody::Check(Check {
            kind: kind.into(),
            probe,
            needs: Vec::new(),
            params: serde_json::Value::Null,
            flow: Default::default(),
        });
        Item {
            timeout: Duration::from_secs(2),
            retries,
            ..Item::new(id, id, body)
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
