//! `prodcheck run CHECKLIST --target GLOB | --all-targets`: the checklist loaded once per
//! target (its environment's variables, then its own), every target run in one process under
//! one concurrency bound and one per-host limit, one report with a part per target, state
//! (history, sign-offs, waivers) kept per target, and the exit code of the worst target.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use colored::Colorize;

use crate::checklist::{Checklist, Diagnostic, VarSources, load};
use crate::cli::{ColorChoice, RunArgs};
use crate::fleet::{self, Target};
use crate::manual::TerminalPrompter;
use crate::redact::Redactor;
use crate::report::{Report, TargetReport};
use crate::runner::{self, RunOptions, Shared, Unit};
use crate::state::{RunRecord, State, StateError, Timestamp, apply, history, signoffs, waivers};
use crate::verdict::{self, Policy};

use super::run::{
    Spinner, check_environment, check_selectors, cli_vars, finish, interactive, proxy_setting,
    unset_targets, usage_error, with_ctrl_c,
};

/// One selected target with its checklist and what is on record for it.
struct Prepared<'a> {
    target: &'a Target,
    checklist: Checklist,
    state: State,
    opts: RunOptions,
}

pub async fn run(config_path: Option<&Path>, color: ColorChoice, args: &RunArgs) -> u8 {
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(diags) => return crate::error::invalid(diags, color),
    };
    let source = match crate::catalog::resolve(&args.checklist, &config.checklists_dir) {
        Ok(s) => s,
        Err(e) => return usage_error(&e, Some("`prodcheck list` shows the checklists it knows")),
    };
    if let Err(code) = check_environment(&config, args.env.as_deref()) {
        return code;
    }
    let config = &config;
    let source = &source;
    let targets = match fleet::select(&config.targets, &args.targets, args.all_targets) {
        Ok(t) => t,
        Err(e) => return usage_error(&e.message(), Some(&e.hint())),
    };
    let cli = cli_vars(&source.text, &args.vars);
    let secrets = |name: &str| std::env::var(name).ok();
    let mut loaded = Vec::new();
    let mut diags: Vec<(String, Vec<Diagnostic>)> = Vec::new();
    for target in &targets {
        let sources = VarSources {
            environment: target.variables(&config.environments, args.env.as_deref()),
            cli: cli.clone(),
            lenient_unset: true,
            tailoring: config.tailoring(args.env.as_deref(), Some(target)),
            ..VarSources::default()
        };
        match load(source, &sources, &secrets) {
            Ok(checklist) => loaded.push((*target, sources, checklist)),
            Err(d) => diags.push((target.name.clone(), d)),
        }
    }
    if !diags.is_empty() {
        return crate::error::invalid(fleet::by_target(diags), color);
    }
    let Some((_, _, first)) = loaded.first() else {
        return usage_error("no target selected", None);
    };
    if let Err(code) = check_selectors(first, args) {
        return code;
    }
    let selection = RunOptions {
        only: args.only.clone(),
        skip: args.skip.clone(),
        automated: args.automated,
        stage: args.stage.clone(),
        per_host: usize::from(args.per_host),
        pace: args.pace,
        ..RunOptions::default()
    };
    let unset: Vec<(String, Vec<Diagnostic>)> = loaded
        .iter()
        .map(|(t, _, c)| (t.name.clone(), unset_targets(c, source, &selection)))
        .filter(|(_, d)| !d.is_empty())
        .collect();
    if args.strict_vars && !unset.is_empty() {
        return crate::error::invalid(fleet::by_target(unset), color);
    }
    let on_record = match (
        signoffs::load(&config.state_dir),
        waivers::load(&config.state_dir),
    ) {
        (Ok(signoffs), Ok(waivers)) => State {
            signoffs,
            waivers,
            ..State::default()
        },
        (Err(e), _) | (_, Err(e)) => return usage_error(&e.to_string(), Some(e.hint())),
    };
    let interactive = interactive(args);
    let now = Timestamp::now();
    let mut prepared = Vec::new();
    for (target, sources, checklist) in loaded {
        let proxy = match proxy_setting(args.proxy.as_deref(), &sources) {
            Ok(p) => p,
            Err(e) => {
                return usage_error(
                    &format!("target `{}`: {e}", target.name),
                    Some("write `--proxy env`, `--proxy none` or `--proxy http://host:port`"),
                );
            }
        };
        let mut state = on_record.scoped(Some(&target.name));
        state.history =
            match history::load_target(&config.state_dir, &checklist.name, Some(&target.name)) {
                Ok(h) => h,
                Err(e) => return usage_error(&e.to_string(), Some(e.hint())),
            };
        let due_only = !args.all && (args.due || checklist.name == "maintenance");
        let opts = RunOptions {
            concurrency: usize::from(args.concurrency),
            interactive,
            confirm: args.confirm.clone(),
            only: args.only.clone(),
            skip: args.skip.clone(),
            preset: verdict::plan(&checklist, &state, now, due_only),
            proxy,
            ..selection.clone()
        };
        prepared.push(Prepared {
            target,
            checklist,
            state,
            opts,
        });
    }
    let fail_on_warning = args.output.fail_on == crate::cli::FailOn::Warning;
    let shared = Shared {
        concurrency: usize::from(args.concurrency),
        politeness: selection.politeness(),
    };
    let report = execute(&prepared, shared, args, fail_on_warning, now).await;
    record_state(&config.state_dir, &prepared, &report);
    // The targets' checklists are done with: their memory goes to the reports' text.
    drop(prepared);
    finish(&report, &args.output.reports, args.output.verbose)
}

/// Runs every prepared target at once and builds the fleet report.
async fn execute(
    prepared: &[Prepared<'_>],
    shared: Shared,
    args: &RunArgs,
    fail_on_warning: bool,
    now: Timestamp,
) -> Report {
    let redactor = Redactor::new(prepared.iter().flat_map(|p| p.checklist.secrets.iter()));
    crate::redact::activate(&redactor);
    let spinner = Spinner::new(redactor);
    let units: Vec<Unit> = prepared
        .iter()
        .map(|p| Unit {
            checklist: &p.checklist,
            opts: &p.opts,
            target: Some(&p.target.name),
        })
        .collect();
    let started_at = SystemTime::now();
    let started = Instant::now();
    let update = |p: runner::Progress| spinner.update(p);
    let results = with_ctrl_c(|rx| {
        runner::run_fleet(&units, shared, Arc::new(TerminalPrompter), &update, rx)
    })
    .await;
    let duration = started.elapsed();
    let interrupted = results.iter().any(|r| r.interrupted);
    let parts = prepared.iter().zip(results).map(|(p, result)| {
        let policy = Policy {
            checklist: &p.checklist.name,
            fail_on_warning,
            state: &p.state,
            now,
            automated: args.automated,
        };
        let env = p
            .target
            .environment(args.env.as_deref())
            .map(str::to_string);
        let report = super::build_report(&p.checklist, result, &policy, env, started_at, duration);
        (p.target, report)
    });
    combine(parts, args.env.clone(), duration, interrupted)
}

/// One report out of the targets' reports: their items in target order, each naming its
/// target; the exit code is the worst target's.
fn combine<'a>(
    parts: impl Iterator<Item = (&'a Target, Report)>,
    environment: Option<String>,
    duration: Duration,
    interrupted: bool,
) -> Report {
    let mut fleet: Option<Report> = None;
    let mut items = Vec::new();
    let mut targets = Vec::new();
    for (target, mut report) in parts {
        let slowest = report
            .items
            .iter()
            .map(|i| i.duration)
            .max()
            .unwrap_or_default();
        targets.push(TargetReport {
            name: target.name.clone(),
            environment: report.environment.clone(),
            labels: target.labels.clone(),
            exit_code: report.exit_code,
            duration: slowest,
            changes: report.changes.clone(),
            recent_runs: std::mem::take(&mut report.recent_runs),
        });
        items.extend(std::mem::take(&mut report.items).into_iter().map(|mut i| {
            i.target = Some(target.name.clone());
            i
        }));
        if fleet.is_none() {
            fleet = Some(report);
        }
    }
    let mut fleet = fleet.unwrap_or_else(|| Report {
        checklist: String::new(),
        title: None,
        file: String::new(),
        environment: None,
        started_at: SystemTime::now(),
        duration,
        exit_code: crate::exit_code::OK,
        interrupted,
        fail_on_warning: false,
        items: Vec::new(),
        changes: None,
        recent_runs: Vec::new(),
        watch: None,
        targets: Vec::new(),
    });
    fleet.exit_code = verdict::exit_code(items.iter().map(|i| &i.exit_code), interrupted);
    fleet.items = items;
    fleet.targets = targets;
    fleet.environment = environment;
    fleet.duration = duration;
    fleet.interrupted = interrupted;
    fleet.changes = None;
    fleet.recent_runs = Vec::new();
    fleet
}

/// Threads appending history lines: each append waits on its fsyncs, and a few at once let
/// the file system commit them together (a thousand targets in a fraction of the time).
const HISTORY_WRITERS: usize = 8;

/// Appends every target's history line (each to its own file, atomically as ever).
fn append_all(state_dir: &std::path::Path, records: Vec<RunRecord>) -> Vec<StateError> {
    let chunk = records.len().div_ceil(HISTORY_WRITERS).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|r| history::append(state_dir, r).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    })
}

/// History per target (a file each), and the sign-offs given at this run's prompts (each for
/// its target). A failure is reported but does not change the exit code.
fn record_state(state_dir: &std::path::Path, prepared: &[Prepared<'_>], report: &Report) {
    let mut errors = Vec::new();
    let by_target: BTreeMap<&str, &Prepared> = prepared
        .iter()
        .map(|p| (p.target.name.as_str(), p))
        .collect();
    let mut prompted = Vec::new();
    let mut records = Vec::new();
    // Who signs is asked of git once, and only when someone answered a prompt.
    let who = if report.items.iter().any(|i| i.prompted) {
        super::signoff::who(None)
    } else {
        String::new()
    };
    for (target, view) in report.target_views() {
        let Some(p) = by_target.get(target.name.as_str()) else {
            continue;
        };
        let mut signed = apply::prompted_signoffs(&view, &p.checklist, &who, Timestamp::now());
        for s in &mut signed {
            s.target = Some(target.name.clone());
        }
        prompted.extend(signed);
        let mut record = RunRecord::from_report(&view);
        record.target = Some(target.name.clone());
        records.push(record);
    }
    errors.extend(append_all(state_dir, records));
    if let Err(e) = signoffs::record(state_dir, prompted) {
        errors.push(e);
    }
    for e in errors {
        eprintln!("{}: {e}", "warning".yellow().bold());
        eprintln!("  {}: {}", "help".bold(), e.hint());
    }
}
