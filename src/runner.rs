//! Runs a validated checklist: automated items concurrently (bounded, each under its own
//! timeout, with retries), then disruptive probes one at a time, then manual items.
//! Results come back in checklist order whatever finished first; Ctrl-C stops cleanly.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use checks::politeness::Politeness;
use checks::{Evidence, Outcome, Probe, ProbeContext, Status};
use serde_json::json;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::checklist::{Checklist, Item, ItemBody};
use crate::manual::{Answer, Prompter};

/// Grace after an item's timeout before the runner gives up on the probe.
const BACKSTOP_GRACE: Duration = Duration::from_millis(500);

/// Resolved run settings.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub concurrency: usize,
    /// Ask manual items on the terminal.
    pub interactive: bool,
    /// Manual item ids confirmed on the command line.
    pub confirm: Vec<String>,
    /// Run only items whose id or a tag is listed (empty: all).
    pub only: Vec<String>,
    /// Skip items whose id or a tag is listed.
    pub skip: Vec<String>,
    /// Items already decided before the run (a valid sign-off, not due): id → status, message.
    pub preset: BTreeMap<String, (Status, String)>,
}

impl RunOptions {
    /// Whether `item` is selected by `--only` / `--skip`.
    pub fn selects(&self, item: &Item) -> bool {
        let named = |list: &[String]| list.iter().any(|n| *n == item.id || item.tags.contains(n));
        (self.only.is_empty() || named(&self.only)) && !named(&self.skip)
    }
}

/// What the runner tells whoever owns the terminal.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Probes are about to start.
    Begin { probes: usize },
    /// One probe finished.
    Finished { id: String, status: Status },
    /// Every probe finished; manual items (if any) come next.
    ProbesDone,
}

/// One item's result before it becomes part of a report.
#[derive(Debug, Clone)]
pub struct ItemResult {
    pub status: Status,
    pub message: String,
    pub evidence: Evidence,
    pub duration: Duration,
    pub attempts: u32,
    pub flaky: bool,
    /// A human confirmed or declined it at the prompt in this run.
    pub prompted: bool,
}

impl ItemResult {
    fn simple(status: Status, message: impl Into<String>) -> Self {
        ItemResult {
            status,
            message: message.into(),
            evidence: Evidence::new(),
            duration: Duration::ZERO,
            attempts: 0,
            flaky: false,
            prompted: false,
        }
    }
}

/// Results in checklist order, and whether Ctrl-C cut the run short.
#[derive(Debug)]
pub struct RunResult {
    pub results: Vec<ItemResult>,
    pub interrupted: bool,
}

/// Runs one item's probe with its retries and the runner's timeout backstop.
pub async fn run_probe(
    probe: Arc<dyn Probe>,
    timeout: Duration,
    retries: u32,
    politeness: Arc<Politeness>,
) -> ItemResult {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let ctx = ProbeContext::with_politeness(timeout, politeness.clone());
        let outcome = match tokio::time::timeout(timeout + BACKSTOP_GRACE, probe.run(&ctx)).await {
            Ok(o) => o,
            Err(_) => Outcome::error(format!(
                "the probe did not finish within its {} timeout",
                humantime::format_duration(timeout)
            )),
        };
        let done = matches!(outcome.status, Status::Pass | Status::Warn | Status::Skip);
        if done || attempts > retries {
            return ItemResult {
                flaky: done && attempts > 1,
                status: outcome.status,
                message: outcome.message,
                evidence: outcome.evidence,
                duration: started.elapsed(),
                attempts,
                prompted: false,
            };
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempts))).await;
    }
}

/// Runs `checklist`. `shutdown` turning true (Ctrl-C) stops the run: unfinished items are
/// reported as `skip` with the reason "interrupted".
pub async fn run(
    checklist: &Checklist,
    opts: &RunOptions,
    prompter: Arc<dyn Prompter>,
    progress: &(dyn Fn(Progress) + Sync),
    mut shutdown: watch::Receiver<bool>,
) -> RunResult {
    let items: Vec<(&str, &Item)> = checklist
        .items()
        .map(|(s, i)| (s.name.as_str(), i))
        .collect();
    let mut results: Vec<Option<ItemResult>> = vec![None; items.len()];
    let mut interrupted = *shutdown.borrow();

    let mut normal = Vec::new();
    let mut disruptive = Vec::new();
    for (idx, (_, item)) in items.iter().enumerate() {
        if !opts.selects(item) {
            results[idx] = Some(ItemResult::simple(
                Status::Skip,
                "not selected (--only / --skip)",
            ));
            continue;
        }
        if let Some((status, message)) = opts.preset.get(&item.id) {
            results[idx] = Some(ItemResult::simple(*status, message.clone()));
            continue;
        }
        if let ItemBody::Check(check) = &item.body {
            let job = (idx, check.probe.clone(), item.timeout, item.retries);
            if check.probe.disruptive() {
                disruptive.push(job)
            } else {
                normal.push(job)
            }
        }
    }
    progress(Progress::Begin {
        probes: normal.len() + disruptive.len(),
    });

    // One politeness state per run: per-host limits and throttle memory shared by all probes.
    let politeness = Arc::new(Politeness::default());
    // Concurrent probes, bounded by a semaphore.
    let limit = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set = JoinSet::new();
    for (idx, probe, timeout, retries) in normal {
        let (limit, politeness) = (limit.clone(), politeness.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (idx, run_probe(probe, timeout, retries, politeness).await)
        });
    }
    while !interrupted {
        tokio::select! {
            joined = set.join_next() => match joined {
                None => break,
                Some(Ok((idx, result))) => {
                    progress(Progress::Finished { id: items[idx].1.id.clone(), status: result.status });
                    results[idx] = Some(result);
                }
                Some(Err(e)) => {
                    // A panicking probe is a bug in prodcheck; report it on no item in particular.
                    if e.is_panic() {
                        eprintln!("prodcheck: internal error: a probe panicked; please report this");
                    }
                }
            },
            _ = shutdown.changed() => interrupted = true,
        }
    }
    set.abort_all();

    // Disruptive probes: one at a time, after everything else.
    for (idx, probe, timeout, retries) in disruptive {
        if interrupted {
            break;
        }
        tokio::select! {
            result = run_probe(probe, timeout, retries, politeness.clone()) => {
                progress(Progress::Finished { id: items[idx].1.id.clone(), status: result.status });
                results[idx] = Some(result);
            }
            _ = shutdown.changed() => interrupted = true,
        }
    }
    progress(Progress::ProbesDone);

    // Manual items, in order.
    for (idx, (section, item)) in items.iter().enumerate() {
        let ItemBody::Manual(manual) = &item.body else {
            continue;
        };
        if results[idx].is_some() || interrupted {
            continue;
        }
        let mut evidence = Evidence::new();
        evidence.insert("how".into(), json!(manual.how));
        let result = if opts.confirm.contains(&item.id) {
            ItemResult::simple(Status::Confirmed, "confirmed with --confirm")
        } else if opts.interactive {
            let prompter = prompter.clone();
            let (section, item_owned, how) =
                (section.to_string(), (*item).clone(), manual.how.clone());
            let ask =
                tokio::task::spawn_blocking(move || prompter.ask(&section, &item_owned, &how));
            tokio::select! {
                answer = ask => match answer {
                    Ok(Answer::Confirmed { note }) => with_note(Status::Confirmed, "confirmed at the prompt", note),
                    Ok(Answer::Declined { note }) => with_note(Status::Declined, "declined at the prompt", note),
                    Ok(Answer::Skipped) | Err(_) => ItemResult::simple(Status::Pending, "skipped at the prompt"),
                },
                _ = shutdown.changed() => {
                    interrupted = true;
                    continue;
                }
            }
        } else {
            ItemResult::simple(
                Status::Pending,
                format!(
                    "not confirmed: non-interactive run (confirm with `--confirm {}`)",
                    item.id
                ),
            )
        };
        results[idx] = Some(ItemResult {
            evidence: merge(evidence, result.evidence.clone()),
            ..result
        });
    }

    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| ItemResult::simple(Status::Skip, "interrupted")))
        .collect();
    RunResult {
        results,
        interrupted,
    }
}

fn with_note(status: Status, message: &str, note: Option<String>) -> ItemResult {
    let mut r = ItemResult::simple(status, message);
    r.prompted = true;
    if let Some(note) = note {
        r.message = format!("{message}: {note}");
        r.evidence.insert("note".into(), json!(note));
    }
    r
}

fn merge(mut a: Evidence, b: Evidence) -> Evidence {
    a.extend(b);
    a
}
