//! `needs:` at run time: an item runs only after the items it needs are settled, and only when
//! each passed; otherwise it is observed as skipped, naming the root cause.
//!
//! A need lets its dependents run when it passed or warned, and also when this run left it
//! out on purpose (`--only`/`--skip`, not due, not applicable): the dependent is what was
//! asked for, and nothing was observed against the need. Anything else — fail, error, a
//! probe's own skip, unconfigured, interrupted, or itself skipped by its needs — blocks.

use checks::Status;

use crate::run::verdict::{Blocked, ManualAnswer, NotRun, Observation};

/// What a settled need means for the items that need it (`None`: they may run).
pub fn blocks(need: &str, observation: &Observation) -> Option<Blocked> {
    let what = match observation {
        Observation::Probe(run) => match run.outcome.status {
            Status::Pass | Status::Warn => return None,
            Status::Fail => "failed",
            Status::Error => "could not be checked (error)",
            Status::Skip => "was skipped",
        },
        Observation::NotRun(NotRun::NotSelected | NotRun::NotDue(_) | NotRun::NotApplicable(_)) => {
            return None;
        }
        Observation::NotRun(NotRun::Needs(inner)) => {
            return Some(Blocked {
                need: need.to_string(),
                cause: inner.cause.clone(),
                cause_what: inner.cause_what.clone(),
            });
        }
        Observation::Manual(ManualAnswer::Confirmed { .. }) => return None,
        Observation::Manual(_) => "was not confirmed",
        Observation::NotRun(NotRun::Interrupted | NotRun::ManualLeftOut) => "did not run",
        Observation::Unconfigured(_) => "is not configured",
    };
    Some(Blocked {
        need: need.to_string(),
        cause: need.to_string(),
        cause_what: what.to_string(),
    })
}

/// The first of `deps` (indices into `seen`) that blocks, once all are settled; `Err(())`
/// while one is still unsettled.
#[allow(clippy::result_unit_err)]
pub fn settled(
    deps: &[usize],
    ids: &[&str],
    seen: &[Option<Observation>],
) -> Result<Option<Blocked>, ()> {
    let mut first = None;
    for &d in deps {
        match &seen[d] {
            None => return Err(()),
            Some(obs) => {
                if first.is_none() {
                    first = blocks(ids[d], obs);
                }
            }
        }
    }
    Ok(first)
}

/// The jobs of a run in the order they may start: a job is ready once every item it needs is
/// settled. Each settled item wakes only the jobs waiting on it (a counter per job), so a
/// fleet of thousands of items costs no rescans; jobs without needs are ready from the start,
/// in checklist order, concurrent ones before disruptive ones.
pub struct Queue<J> {
    jobs: Vec<Option<(usize, usize, J, bool)>>,
    /// Per job: how many of its needs are not settled yet.
    remaining: Vec<usize>,
    /// Per (unit, item): the jobs waiting on it.
    waiting: std::collections::HashMap<(usize, usize), Vec<usize>>,
    normal: std::collections::VecDeque<usize>,
    disruptive: std::collections::VecDeque<usize>,
    /// Items just settled as skipped by their needs, for the caller to report.
    skipped: Vec<(usize, usize)>,
}

impl<J> Queue<J> {
    /// `jobs`: (unit, item index, job, disruptive); `deps[u][idx]`: the items it needs.
    pub fn new(
        jobs: Vec<(usize, usize, J, bool)>,
        deps: &[Vec<Vec<usize>>],
        ids: &[Vec<&str>],
        seen: &mut [Vec<Option<Observation>>],
    ) -> Queue<J> {
        let mut q = Queue {
            remaining: vec![0; jobs.len()],
            jobs: jobs.into_iter().map(Some).collect(),
            waiting: std::collections::HashMap::new(),
            normal: std::collections::VecDeque::new(),
            disruptive: std::collections::VecDeque::new(),
            skipped: Vec::new(),
        };
        for j in 0..q.jobs.len() {
            let Some((u, idx, ..)) = q.jobs[j] else {
                continue;
            };
            for &d in &deps[u][idx] {
                if seen[u][d].is_none() {
                    q.remaining[j] += 1;
                    q.waiting.entry((u, d)).or_default().push(j);
                }
            }
        }
        for j in 0..q.jobs.len() {
            if q.remaining[j] == 0
                && let Some((u, idx)) = q.wake(j, deps, ids, seen)
            {
                // Its own dependents are settled as skipped too.
                q.settle(u, idx, deps, ids, seen);
            }
        }
        q
    }

    /// The next job to start: a concurrent one, or (only when nothing runs) a disruptive one.
    pub fn next(&mut self, nothing_running: bool) -> Option<(usize, usize, J, bool)> {
        let j = match self.normal.pop_front() {
            Some(j) => j,
            None if nothing_running => self.disruptive.pop_front()?,
            None => return None,
        };
        self.jobs[j].take()
    }

    /// Item (u, idx) is settled: the jobs waiting on it that have nothing left to wait for
    /// become ready, or are settled as skipped (which settles their own dependents).
    pub fn settle(
        &mut self,
        u: usize,
        idx: usize,
        deps: &[Vec<Vec<usize>>],
        ids: &[Vec<&str>],
        seen: &mut [Vec<Option<Observation>>],
    ) {
        let mut stack = vec![(u, idx)];
        while let Some(key) = stack.pop() {
            for j in self.waiting.remove(&key).unwrap_or_default() {
                self.remaining[j] = self.remaining[j].saturating_sub(1);
                if self.remaining[j] == 0
                    && let Some(done) = self.wake(j, deps, ids, seen)
                {
                    stack.push(done);
                }
            }
        }
    }

    /// Job `j` waits for nothing more: queue it, or settle it as skipped and return its item.
    fn wake(
        &mut self,
        j: usize,
        deps: &[Vec<Vec<usize>>],
        ids: &[Vec<&str>],
        seen: &mut [Vec<Option<Observation>>],
    ) -> Option<(usize, usize)> {
        let (u, idx, _, disruptive) = self.jobs[j].as_ref()?;
        let (u, idx, disruptive) = (*u, *idx, *disruptive);
        if let Ok(Some(blocked)) = settled(&deps[u][idx], &ids[u], &seen[u]) {
            self.jobs[j] = None;
            seen[u][idx] = Some(Observation::NotRun(NotRun::Needs(blocked)));
            self.skipped.push((u, idx));
            return Some((u, idx));
        }
        if disruptive {
            self.disruptive.push_back(j);
        } else {
            self.normal.push_back(j);
        }
        None
    }

    /// Items settled as skipped since the last call.
    pub fn take_skipped(&mut self) -> Vec<(usize, usize)> {
        std::mem::take(&mut self.skipped)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::run::verdict::ProbeRun;

    fn failed() -> Observation {
        Observation::Probe(ProbeRun {
            outcome: checks::Outcome::new(Status::Fail, "down"),
            duration: Duration::ZERO,
            attempts: 1,
            flaky: false,
        })
    }

    #[test]
    fn a_disruptive_job_starts_only_when_nothing_runs_and_concurrent_ones_go_first() {
        let deps = vec![vec![vec![], vec![], vec![]]];
        let ids = vec![vec!["a", "burst", "b"]];
        let mut seen = vec![vec![None, None, None]];
        let jobs = vec![
            (0, 0, "a", false),
            (0, 1, "burst", true),
            (0, 2, "b", false),
        ];
        let mut q = Queue::new(jobs, &deps, &ids, &mut seen);
        assert_eq!(q.next(true).map(|j| j.2), Some("a"));
        assert_eq!(q.next(false).map(|j| j.2), Some("b"));
        assert!(
            q.next(false).is_none(),
            "something runs: the disruptive job waits"
        );
        assert_eq!(q.next(true).map(|j| j.2), Some("burst"));
    }

    #[test]
    fn a_need_settled_before_the_run_skips_its_chain_and_the_root_is_named() {
        // `gate` failed before the run started (a preset); `mid` needs it, `top` needs `mid`.
        let deps = vec![vec![vec![], vec![0], vec![1]]];
        let ids = vec![vec!["gate", "mid", "top"]];
        let mut seen = vec![vec![Some(failed()), None, None]];
        let jobs = vec![(0, 1, (), false), (0, 2, (), false)];
        let mut q = Queue::new(jobs, &deps, &ids, &mut seen);
        assert!(q.next(true).is_none(), "nothing may run");
        assert_eq!(q.take_skipped(), [(0, 1), (0, 2)]);
        let Some(Observation::NotRun(NotRun::Needs(top))) = &seen[0][2] else {
            panic!("top not skipped: {:?}", seen[0][2]);
        };
        assert_eq!(
            top.message(),
            "needs `mid`, which was skipped: `gate` failed"
        );
    }

    #[test]
    fn a_dependent_waits_for_its_need_and_runs_after_a_pass() {
        let deps = vec![vec![vec![1], vec![]]];
        let ids = vec![vec!["after", "first"]];
        let mut seen = vec![vec![None, None]];
        let jobs = vec![(0, 0, "after", false), (0, 1, "first", false)];
        let mut q = Queue::new(jobs, &deps, &ids, &mut seen);
        assert_eq!(q.next(true).map(|j| j.2), Some("first"));
        assert!(q.next(false).is_none(), "`after` waits for `first`");
        seen[0][1] = Some(Observation::Probe(ProbeRun {
            outcome: checks::Outcome::pass("up"),
            duration: Duration::ZERO,
            attempts: 1,
            flaky: false,
        }));
        q.settle(0, 1, &deps, &ids, &mut seen);
        assert_eq!(q.next(true).map(|j| j.2), Some("after"));
    }
}
