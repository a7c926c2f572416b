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
