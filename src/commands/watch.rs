//! `prodcheck watch`: the stage's triggers (automated items with `for:`) evaluated every
//! interval for a window; exit 1 at the first gating trigger that holds for its `for:`.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use colored::Colorize;
use tokio::sync::watch as channel;

use crate::checklist::{ItemBody, Stage};
use crate::cli::args::{ColorChoice, WatchArgs};
use crate::error::CliError;
use crate::redact::Redactor;
use crate::report::WatchInfo;
use crate::run::observe::{Network, RunResult, Schedule};
use crate::run::report::{build_report, finish};
use crate::run::verdict::{self, NotRun, Observation, ProbeRun};
use crate::run::{Plan, RunRequest, Scope};
use crate::watch::view::{LineView, LiveView};
use crate::watch::{self, Trigger, View, Window};

const DEFAULT_WINDOW: Duration = Duration::from_secs(600);
const DEFAULT_EVERY: Duration = Duration::from_secs(30);

pub async fn watch(
    config_path: Option<&Path>,
    color: ColorChoice,
    args: WatchArgs,
) -> Result<u8, CliError> {
    let mut args = args;
    // A trigger that cannot be evaluated would let a rollout pass unwatched: unset variables
    // stop a watch before it starts (exit 2), as `run --strict-vars` does.
    args.run.strict_vars = true;
    let run_args = &args.run;
    let request = RunRequest::resolve(config_path, color, run_args, Scope::OneTarget)?;
    let plan = Plan::build(&request)?;
    let Some(part) = plan.parts.first() else {
        return Err(CliError::usage("no target selected", None));
    };
    let (checklist, opts) = (&part.checklist, &part.opts);
    let stage: Option<&Stage> = run_args
        .stage
        .as_ref()
        .and_then(|name| checklist.stages.iter().find(|s| s.name == *name));
    // Items of the selection with a `for:`: rate_limit (disruptive) is never re-run on a loop.
    let mut indexes = Vec::new();
    let mut triggers = Vec::new();
    for (idx, (_, item)) in checklist.items().enumerate() {
        if !(opts.selects(item) && item.is_trigger()) {
            continue;
        }
        let ItemBody::Check(check) = &item.body else {
            continue;
        };
        if check.probe.disruptive() {
            continue;
        }
        indexes.push(idx);
        triggers.push(Trigger {
            id: item.id.clone(),
            kind: item.kind().to_string(),
            probe: check.probe.clone(),
            schedule: Schedule::of(item),
            sustain: item.sustain.unwrap_or_default(),
        });
    }
    let what = match &run_args.stage {
        Some(s) => format!("`{}` stage `{s}`", checklist.name),
        None => format!("`{}`", checklist.name),
    };
    if triggers.is_empty() {
        return Err(CliError::usage(
            format!("{what} has no trigger to watch"),
            Some(
                "a trigger is an automated item with `for:` (how long it must fail before it fires, e.g. `for: 5m`); `prodcheck show` lists the items",
            ),
        ));
    }
    let window = Window {
        length: args
            .window
            .or(stage.and_then(|s| s.watch))
            .unwrap_or(DEFAULT_WINDOW),
        every: args
            .every
            .or(stage.and_then(|s| s.every))
            .unwrap_or(DEFAULT_EVERY),
    };
    if window.every.is_zero() {
        return Err(CliError::usage(
            "--every must be longer than zero",
            Some("write `--every 30s`"),
        ));
    }
    let ids: Vec<String> = triggers.iter().map(|t| t.id.clone()).collect();
    eprintln!(
        "{} {} trigger(s) of {what} for {}, every {}: {}",
        "Watching".bold(),
        triggers.len(),
        watch::series::short(window.length),
        watch::series::short(window.every),
        ids.join(", ")
    );

    let redactor = Redactor::new(&checklist.secrets);
    crate::redact::activate(&redactor);
    let mut view: Box<dyn View> = if std::io::stderr().is_terminal() {
        Box::new(LiveView::new(window, &what, &ids, redactor.clone()))
    } else {
        Box::new(LineView { window })
    };
    let (tx, rx) = channel::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
        }
    });
    let policy = plan.policy(part);
    let items: Vec<_> = checklist.items().map(|(_, i)| i).collect();
    let blocks = |i: usize, outcome: &checks::Outcome| {
        let run = ProbeRun {
            outcome: outcome.clone(),
            duration: Duration::ZERO,
            attempts: 1,
            flaky: false,
        };
        verdict::decide(items[indexes[i]], Observation::Probe(run), &policy).exit_code != 0
    };
    let network = Network {
        politeness: Arc::new(opts.politeness()),
        proxy: opts.proxy.clone(),
    };
    let started_at = SystemTime::now();
    let watched = watch::run(
        &triggers,
        window,
        opts.concurrency,
        &network,
        &blocks,
        view.as_mut(),
        rx,
    )
    .await;
    ctrl_c.abort();

    let mut observations: Vec<Observation> = items
        .iter()
        .map(|_| Observation::NotRun(NotRun::NotSelected))
        .collect();
    for (state, idx) in watched.states.iter().zip(&indexes) {
        observations[*idx] = match state.outcome(watched.elapsed) {
            Some(outcome) => Observation::Probe(ProbeRun {
                outcome,
                duration: watched.elapsed,
                attempts: state.evaluations(),
                flaky: false,
            }),
            None => Observation::NotRun(NotRun::Interrupted),
        };
    }
    let result = RunResult {
        observations,
        interrupted: watched.interrupted,
        secrets: Vec::new(),
    };
    let mut report = build_report(
        checklist,
        result,
        &policy,
        part.environment.clone(),
        started_at,
        watched.elapsed,
    );
    // The history of runs compares snapshots; a watch is a window, so it is not recorded.
    report.changes = None;
    // A watch reports the stage's triggers only, not every item it never meant to run.
    report
        .items
        .retain(|i| watched.states.iter().any(|s| s.id == i.id));
    for state in &watched.states {
        if let Some(item) = report.items.iter_mut().find(|i| i.id == state.id) {
            item.series = Some(state.series.clone());
        }
    }
    report.watch = Some(WatchInfo {
        stage: run_args.stage.clone(),
        window: window.length,
        every: window.every,
        evaluations: watched.evaluations,
        stopped_by: watched.stopped_by.clone(),
    });
    finish(&report, &run_args.output.reports, run_args.output.verbose)
}
