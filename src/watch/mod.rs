//! `prodcheck watch`: re-evaluates a stage's rollback triggers on an interval for a window and
//! stops at the first one that holds for its `for:`, so a pipeline can decide promote or roll back.

pub mod series;
pub mod trigger;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use checks::{Outcome, Probe};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::run::observe::{Network, Schedule, run_probe};
pub use series::Series;
pub use trigger::{Fired, TriggerState};

/// One watched item.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub id: String,
    pub kind: String,
    pub probe: Arc<dyn Probe>,
    pub schedule: Schedule,
    /// `for:`.
    pub sustain: Duration,
}

/// How long to watch and how often to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub length: Duration,
    pub every: Duration,
}

impl Window {
    /// Evaluations in a window that runs to its end: at 0, every, 2·every, … up to `length`.
    pub fn evaluations(&self) -> u64 {
        let every = self.every.as_millis().max(1);
        (self.length.as_millis() / every) as u64 + 1
    }
}

/// What the watcher reports as it goes (a live terminal view, or one line per evaluation).
pub trait View: Send {
    /// An evaluation finished at offset `at` (the `n`-th).
    fn evaluated(&mut self, n: u32, at: Duration, triggers: &[TriggerState]);
    /// Time passes between evaluations (about once a second).
    fn tick(&mut self, at: Duration, triggers: &[TriggerState]);
    /// The watch is over (clear a live view).
    fn done(&mut self);
}

/// The end of a watch.
#[derive(Debug)]
pub struct Watched {
    pub states: Vec<TriggerState>,
    pub elapsed: Duration,
    pub evaluations: u32,
    pub interrupted: bool,
    /// The trigger that ended the watch early, if one did.
    pub stopped_by: Option<String>,
}

/// Watches `triggers` over `window`. `blocks(i, outcome)` says whether trigger `i` firing
/// with `outcome` changes the exit code (the verdict stage decides; a non-gating trigger
/// that fires is reported but does not stop the watch). Ctrl-C (`shutdown`) ends it early.
pub async fn run(
    triggers: &[Trigger],
    window: Window,
    concurrency: usize,
    network: &Network,
    blocks: &(dyn Fn(usize, &Outcome) -> bool + Sync),
    view: &mut dyn View,
    mut shutdown: watch::Receiver<bool>,
) -> Watched {
    let start = Instant::now();
    let end = start + window.length;
    let mut states: Vec<TriggerState> = triggers
        .iter()
        .map(|t| TriggerState::new(&t.id, t.sustain, window.every))
        .collect();
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut next = start;
    let mut evaluations = 0u32;
    let mut interrupted = *shutdown.borrow();
    let mut stopped_by = None;
    while !interrupted && next <= end {
        // Wait for the next evaluation, telling the view once a second.
        while Instant::now() < next {
            let nap = (next - Instant::now()).min(Duration::from_secs(1));
            tokio::select! {
                _ = tokio::time::sleep(nap) => view.tick(start.elapsed(), &states),
                _ = shutdown.changed() => { interrupted = true; break; }
            }
        }
        if interrupted {
            break;
        }
        let at = next - start;
        let outcomes = tokio::select! {
            o = evaluate(triggers, &limit, network) => o,
            _ = shutdown.changed() => { interrupted = true; break; }
        };
        evaluations += 1;
        for (i, outcome) in outcomes.into_iter().enumerate() {
            if states[i].observe(at, outcome).is_some()
                && stopped_by.is_none()
                && let Some(verdict) = states[i].outcome(at)
                && blocks(i, &verdict)
            {
                stopped_by = Some(states[i].id.clone());
            }
        }
        view.evaluated(evaluations, at, &states);
        if stopped_by.is_some() {
            break;
        }
        // A slow evaluation delays the next one rather than bunching evaluations up.
        next = (next + window.every).max(Instant::now());
    }
    view.done();
    Watched {
        states,
        elapsed: start.elapsed(),
        evaluations,
        interrupted,
        stopped_by,
    }
}

/// One evaluation: every trigger's probe concurrently (bounded), outcomes in trigger order.
async fn evaluate(triggers: &[Trigger], limit: &Arc<Semaphore>, network: &Network) -> Vec<Outcome> {
    let mut set = JoinSet::new();
    for (i, t) in triggers.iter().enumerate() {
        let (limit, network, probe, kind) = (
            limit.clone(),
            network.clone(),
            t.probe.clone(),
            t.kind.clone(),
        );
        // A trigger is judged at each evaluation; waiting is for convergence items.
        let schedule = Schedule {
            wait: None,
            ..t.schedule
        };
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, run_probe(&kind, probe, schedule, network).await.outcome)
        });
    }
    let mut out: Vec<Option<Outcome>> = vec![None; triggers.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, outcome)) = joined {
            out[i] = Some(outcome);
        }
    }
    out.into_iter()
        .map(|o| o.unwrap_or_else(|| Outcome::error("the evaluation was cancelled")))
        .collect()
}
