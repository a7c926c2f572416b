//! A fleet run's report: one [`TargetReport`] per target next to the items, which name their
//! target. Formats render a target at a time through [`Report::target_view`].

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Changes, ItemReport, Report};
use crate::state::RunRecord;

/// One target of a fleet run: its own exit code, environment, labels and changes.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetReport {
    pub name: String,
    pub environment: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// This target's exit code, as if it had run alone.
    pub exit_code: u8,
    pub duration: Duration,
    /// What changed since this target's previous run (its own history).
    pub changes: Option<Changes>,
    /// This target's last runs before this one, oldest first (its own history).
    pub recent_runs: Vec<RunRecord>,
}

impl Report {
    /// Whether this is a fleet run (reports group by target).
    pub fn is_fleet(&self) -> bool {
        !self.targets.is_empty()
    }

    /// `target`'s part of a fleet report, shaped like a run of that target alone.
    pub fn target_view(&self, target: &TargetReport) -> Report {
        let items = self
            .items
            .iter()
            .filter(|i| i.target.as_deref() == Some(target.name.as_str()));
        self.view_of(target, items)
    }

    fn view_of<'a>(
        &self,
        target: &TargetReport,
        items: impl Iterator<Item = &'a ItemReport>,
    ) -> Report {
        Report {
            checklist: self.checklist.clone(),
            title: self.title.clone(),
            file: self.file.clone(),
            environment: target.environment.clone(),
            started_at: self.started_at,
            duration: target.duration,
            exit_code: target.exit_code,
            interrupted: self.interrupted,
            fail_on_warning: self.fail_on_warning,
            items: items.cloned().collect(),
            changes: target.changes.clone(),
            recent_runs: target.recent_runs.clone(),
            watch: None,
            targets: Vec::new(),
        }
    }

    /// Every target's view, in run order, built one at a time as the iterator advances (a
    /// thousand targets' items are not copied at once).
    pub fn target_views(&self) -> impl Iterator<Item = (&TargetReport, Report)> + '_ {
        let mut by_target: BTreeMap<&str, Vec<&ItemReport>> = BTreeMap::new();
        for item in &self.items {
            if let Some(t) = item.target.as_deref() {
                by_target.entry(t).or_default().push(item);
            }
        }
        self.targets.iter().map(move |t| {
            let items = by_target.remove(t.name.as_str()).unwrap_or_default();
            (t, self.view_of(t, items.into_iter()))
        })
    }

    /// Count per status of `target`'s items (every status present, as [`Report::summary`]).
    pub fn target_summary(&self, target: &str) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> = crate::status::Status::ALL
            .iter()
            .map(|s| (s.as_str(), 0))
            .collect();
        for item in self
            .items
            .iter()
            .filter(|i| i.target.as_deref() == Some(target))
        {
            *counts.entry(item.status.as_str()).or_default() += 1;
        }
        counts
    }

    /// Number of targets per exit code, worst first (`1: 2, 3: 1, 0: 997`).
    pub fn targets_by_exit_code(&self) -> Vec<(u8, usize)> {
        let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
        for t in &self.targets {
            *counts.entry(t.exit_code).or_default() += 1;
        }
        let mut out: Vec<(u8, usize)> = counts.into_iter().collect();
        out.sort_by_key(|(code, _)| std::cmp::Reverse(severity_rank(*code)));
        out
    }
}

/// Orders exit codes by how bad they are (the run's own precedence, then the rest).
pub fn severity_rank(code: u8) -> u8 {
    use crate::exit_code::*;
    match code {
        INTERRUPTED => 6,
        USAGE => 5,
        ENVIRONMENT => 4,
        FAILED => 3,
        PROBE_ERROR => 2,
        PENDING => 1,
        _ => 0,
    }
}
