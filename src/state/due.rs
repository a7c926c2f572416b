//! Due lists: an item is due when its cadence (`every`) has elapsed since its last pass or
//! sign-off; items without a cadence are always due. Used by `prodcheck due` and `run --due`.

use std::time::Duration;

use crate::status::Status;

use super::{State, Timestamp};
use crate::checklist::Item;

/// Whether one item is due, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueState {
    pub due: bool,
    pub every: Option<Duration>,
    /// Last pass, confirmation or sign-off on record.
    pub last: Option<Timestamp>,
    /// When it is (or was) next due: `last + every`.
    pub next: Option<Timestamp>,
}

impl DueState {
    /// One line a human can act on.
    pub fn describe(&self) -> String {
        let every = self
            .every
            .map(|e| humantime::format_duration(e).to_string());
        match (self.due, &every, self.last, self.next) {
            (_, None, _, _) => "no cadence (`every`): due on every run".into(),
            (true, Some(e), None, _) => format!("never passed or signed off (every {e})"),
            (true, Some(e), Some(last), Some(next)) => {
                format!("due since {next} (last {last}, every {e})")
            }
            (false, Some(e), Some(last), Some(next)) => {
                format!("not due until {next} (last {last}, every {e})")
            }
            _ => String::new(),
        }
    }
}

/// Computes whether `item` of `checklist` is due at `now`.
pub fn due_state(checklist: &str, item: &Item, state: &State, now: Timestamp) -> DueState {
    let passed = state
        .history
        .iter()
        .filter(|run| {
            run.item(&item.id)
                .is_some_and(|i| matches!(i.status, Status::Pass | Status::Confirmed))
        })
        .map(|run| run.started_at);
    let signed = state
        .signoffs
        .iter()
        .filter(|s| s.checklist == checklist && s.item == item.id)
        .map(|s| s.at);
    let last = passed.chain(signed).max();
    let every = item.every();
    let next = every.zip(last).map(|(e, l)| l.plus(e));
    DueState {
        due: every.is_none() || next.is_none_or(|n| n <= now),
        every,
        last,
        next,
    }
}
