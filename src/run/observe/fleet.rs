//! A fleet run: the checklist loaded once per target, all run in one process under one
//! concurrency bound and one per-host limit; `runner::run` is the one-target case.

use std::sync::Arc;

use checks::Probe;
use checks::politeness::Politeness;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Network, Progress, RunOptions, RunResult, Schedule, run_probe};
use super::{flow, needs};
use crate::checklist::{Checklist, Item, ItemBody};
use crate::manual::{Answer, Prompter};
use crate::run::verdict::{Confirmation, ManualAnswer, NotRun, Observation, Unanswered};

/// One checklist of a fleet run, loaded with one target's variables, with its own options
/// (sign-offs and due items differ per target; so may the proxy).
pub struct Unit<'a> {
    pub checklist: &'a Checklist,
    pub opts: &'a RunOptions,
    /// The target's name: progress and prompts name it.
    pub target: Option<&'a str>,
}

impl Unit<'_> {
    fn label(&self, id: &str) -> String {
        match self.target {
            Some(t) => format!("{t}/{id}"),
            None => id.to_string(),
        }
    }
}

/// What every unit of a fleet run shares: one concurrency bound and one politeness (per-host
/// limit and pace), the same for every batch of a fleet streamed in batches.
#[derive(Debug, Clone)]
pub struct Shared {
    pub concurrency: usize,
    pub politeness: Arc<Politeness>,
}

/// A probe waiting to run: (unit, item index), the probe and how it is tried.
type Job = (usize, usize, Arc<dyn Probe>, Schedule);

/// Runs every unit in one process: automated items of all units concurrently under one bound
/// and one per-host limit, then every disruptive probe alone, then manual items unit by unit.
/// Results come back per unit, in unit order.
pub async fn run_fleet(
    units: &[Unit<'_>],
    shared: Shared,
    prompter: Arc<dyn Prompter>,
    progress: &(dyn Fn(Progress) + Sync),
    mut shutdown: watch::Receiver<bool>,
) -> Vec<RunResult> {
    let items: Vec<Vec<(&str, &Item)>> = units
        .iter()
        .map(|u| {
            u.checklist
                .items()
                .map(|(s, i)| (s.name.as_str(), i))
                .collect()
        })
        .collect();
    let mut seen: Vec<Vec<Option<Observation>>> =
        items.iter().map(|list| vec![None; list.len()]).collect();
    let mut interrupted = *shutdown.borrow();
    let politeness = shared.politeness;
    let networks: Vec<Network> = units
        .iter()
        .map(|u| Network {
            politeness: politeness.clone(),
            proxy: u.opts.proxy.clone(),
        })
        .collect();

    let ids: Vec<Vec<&str>> = items
        .iter()
        .map(|list| list.iter().map(|(_, i)| i.id.as_str()).collect())
        .collect();
    // Per unit, per item: the indices of the items it needs (`needs:`, resolved at load).
    let deps: Vec<Vec<Vec<usize>>> = items
        .iter()
        .zip(&ids)
        .map(|(list, ids)| {
            list.iter()
                .map(|(_, item)| {
                    item.depends_on
                        .iter()
                        .filter_map(|d| ids.iter().position(|id| id == d))
                        .collect()
                })
                .collect()
        })
        .collect();

    let mut normal: Vec<Job> = Vec::new();
    let mut disruptive: Vec<Job> = Vec::new();
    for (u, unit) in units.iter().enumerate() {
        let opts = unit.opts;
        for (idx, (_, item)) in items[u].iter().enumerate() {
            if !opts.selects(item) {
                let why = if opts.automated && matches!(item.body, ItemBody::Manual(_)) {
                    NotRun::ManualLeftOut
                } else {
                    NotRun::NotSelected
                };
                seen[u][idx] = Some(Observation::NotRun(why));
                continue;
            }
            if let Some(why) = &item.not_applicable {
                seen[u][idx] = Some(Observation::NotRun(NotRun::NotApplicable(why.clone())));
                continue;
            }
            if let Some(planned) = opts.preset.get(&item.id) {
                seen[u][idx] = Some(planned.clone());
                continue;
            }
            if let ItemBody::Check(check) = &item.body {
                // Its variables are unset: nothing to send, and nothing may pass by omission.
                if !check.needs.is_empty() {
                    let vars = check.needs.iter().map(|(v, _)| v.clone()).collect();
                    seen[u][idx] = Some(Observation::Unconfigured(vars));
                    continue;
                }
                let job = (u, idx, check.probe.clone(), Schedule::of(item));
                if check.probe.disruptive() {
                    disruptive.push(job)
                } else {
                    normal.push(job)
                }
            }
        }
    }
    let label = |u: usize, idx: usize| units[u].label(&items[u][idx].1.id);
    progress(Progress::Begin {
        ids: normal
            .iter()
            .chain(disruptive.iter())
            .map(|(u, idx, ..)| label(*u, *idx))
            .collect(),
    });

    // One queue: concurrent probes first, at most `concurrency` at once for the whole run,
    // then each disruptive probe alone. A job starts once the items it needs are settled; a
    // job one of whose needs did not pass is settled as skipped without running. A task is
    // spawned only when a slot is free (a thousand targets' waiting tasks would hold
    // megabytes for nothing). `run_probe` turns a panic into the item's `error`, so every task
    // comes back with its indices.
    let limit = shared.concurrency.max(1);
    let jobs = normal
        .into_iter()
        .map(|(u, idx, probe, schedule)| (u, idx, (probe, schedule), false))
        .chain(
            disruptive
                .into_iter()
                .map(|(u, idx, probe, schedule)| (u, idx, (probe, schedule), true)),
        )
        .collect();
    let mut queue = needs::Queue::new(jobs, &deps, &ids, &mut seen);
    // Per unit: the values captured so far (`capture:`), and all of them as secrets.
    let mut captured: Vec<std::collections::HashMap<String, String>> =
        vec![Default::default(); units.len()];
    let mut secrets: Vec<Vec<String>> = vec![Vec::new(); units.len()];
    let mut set = JoinSet::new();
    let mut alone = false;
    while !interrupted {
        for (u, idx) in queue.take_skipped() {
            progress(Progress::Finished {
                id: label(u, idx),
                status: checks::Status::Skip,
            });
        }
        while !alone && set.len() < limit {
            let Some((u, idx, (probe, schedule), dis)) = queue.next(set.is_empty()) else {
                break;
            };
            let network = networks[u].clone();
            let kind = items[u][idx].1.kind().to_string();
            let (probe, captures) = match &items[u][idx].1.body {
                ItemBody::Check(check) => (
                    flow::probe_with(check, &captured[u]),
                    check.flow.captures.clone(),
                ),
                ItemBody::Manual(_) => (Ok(probe), Vec::new()),
            };
            set.spawn(async move {
                let mut run = match probe {
                    Ok(probe) => run_probe(&kind, probe, schedule, network).await,
                    Err(why) => flow::not_built(why),
                };
                let values = flow::take(&mut run, &captures);
                (u, idx, run, values)
            });
            alone = dis;
        }
        // Nothing running and nothing could start: every job is settled.
        if set.is_empty() {
            break;
        }
        tokio::select! {
            joined = set.join_next() => match joined {
                None => break,
                Some(Ok((u, idx, run, values))) => {
                    for (name, value) in values {
                        secrets[u].extend(flow::secret_forms(&value));
                        captured[u].insert(name, value);
                    }
                    progress(Progress::Finished { id: label(u, idx), status: run.outcome.status });
                    seen[u][idx] = Some(Observation::Probe(run));
                    queue.settle(u, idx, &deps, &ids, &mut seen);
                    alone = false;
                }
                // Only an abort (never issued while joining) ends a task without its indices.
                Some(Err(_)) => alone = false,
            },
            _ = shutdown.changed() => interrupted = true,
        }
    }
    set.abort_all();
    progress(Progress::ProbesDone);

    // Manual items, unit by unit, in order.
    for (u, unit) in units.iter().enumerate() {
        for (idx, (section, item)) in items[u].iter().enumerate() {
            let ItemBody::Manual(manual) = &item.body else {
                continue;
            };
            if seen[u][idx].is_some() || interrupted {
                continue;
            }
            if let Ok(Some(blocked)) = needs::settled(&deps[u][idx], &ids[u], &seen[u]) {
                seen[u][idx] = Some(Observation::NotRun(NotRun::Needs(blocked)));
                continue;
            }
            let answer = if unit.opts.confirm.contains(&item.id) {
                ManualAnswer::Confirmed {
                    via: Confirmation::Flag,
                    note: None,
                }
            } else if unit.opts.interactive {
                let prompter = prompter.clone();
                let section = match unit.target {
                    Some(t) => format!("{t} · {section}"),
                    None => section.to_string(),
                };
                let (item_owned, how) = ((*item).clone(), manual.how.clone());
                let ask =
                    tokio::task::spawn_blocking(move || prompter.ask(&section, &item_owned, &how));
                tokio::select! {
                    answer = ask => match answer {
                        Ok(Answer::Confirmed { note }) => ManualAnswer::Confirmed { via: Confirmation::Prompt, note },
                        Ok(Answer::Declined { note }) => ManualAnswer::Declined { note },
                        Ok(Answer::Skipped) | Err(_) => ManualAnswer::Unanswered(Unanswered::SkippedAtPrompt),
                    },
                    _ = shutdown.changed() => {
                        interrupted = true;
                        continue;
                    }
                }
            } else {
                ManualAnswer::Unanswered(Unanswered::NonInteractive)
            };
            seen[u][idx] = Some(Observation::Manual(answer));
        }
    }

    seen.into_iter()
        .zip(secrets)
        .map(|(unit, secrets)| RunResult {
            observations: unit
                .into_iter()
                .map(|o| o.unwrap_or(Observation::NotRun(NotRun::Interrupted)))
                .collect(),
            interrupted,
            secrets,
        })
        .collect()
}
