//! The plan of a run: per target, the checklist loaded with that target's variables, what is
//! selected, the proxy, what is on record (state) and the items already decided (presets).
//! A run without targets is a fleet of one; `serve`, `demo` and `probe` build a plan of one.

use std::collections::BTreeMap;

use checks::net::http::proxy::ProxySetting;
use checks::politeness::Politeness;

use super::request::{RunRequest, Targets};
use super::verdict::{self, Observation, Policy};
use crate::checklist::{Checklist, Diagnostic, Item, ItemBody, VarSources, load};
use crate::error::CliError;
use crate::fleet::Target;
use crate::state::{State, Timestamp, history};

mod preflight;
pub use preflight::{check_selectors, diagnostics, proxy_setting, unset_targets};

/// Everything a run knows before its first probe starts.
pub struct Plan<'a> {
    pub parts: Vec<PlanPart<'a>>,
    /// Report a part per target (`run --target`/`--all-targets`).
    pub fleet: bool,
    /// `--env` (each part may have its target's own).
    pub environment: Option<String>,
    pub concurrency: usize,
    /// Concurrent requests to one host and requests per second, shared by every part.
    pub per_host: usize,
    pub pace: u32,
    pub fail_on_warning: bool,
    /// `--automated`: an unconfigured gate is its own exit code (no human is in the loop).
    pub automated: bool,
    pub now: Timestamp,
}

/// One target's share of a plan (the only part of a run without targets).
pub struct PlanPart<'a> {
    pub target: Option<&'a Target>,
    /// The environment whose variables apply (`--env`, or the target's own).
    pub environment: Option<String>,
    pub checklist: Checklist,
    pub state: State,
    pub opts: RunOptions,
}

/// Resolved run settings.
#[derive(Debug, Clone)]
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
    /// Leave manual items out (`--automated`).
    pub automated: bool,
    /// Run only the items of this rollout stage (`--stage`).
    pub stage: Option<String>,
    /// Concurrent requests to one host, shared by every probe of the run (`--per-host`).
    pub per_host: usize,
    /// Paced requests per second to one host (`--pace`).
    pub pace: u32,
    /// The proxy HTTP-based probes go through (`--proxy`, the environment's `proxy`).
    pub proxy: ProxySetting,
    /// Items observed before the run (a valid sign-off, not due): `verdict::plan`.
    pub preset: BTreeMap<String, Observation>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 16,
            interactive: false,
            confirm: Vec::new(),
            only: Vec::new(),
            skip: Vec::new(),
            automated: false,
            stage: None,
            per_host: checks::politeness::DEFAULT_PER_HOST,
            pace: checks::politeness::DEFAULT_RATE as u32,
            proxy: ProxySetting::Env,
            preset: BTreeMap::new(),
        }
    }
}

impl RunOptions {
    /// The run's politeness: `--per-host` concurrent requests, `--pace` per second.
    pub fn politeness(&self) -> Politeness {
        politeness(self.per_host, self.pace)
    }

    /// Whether `item` is selected by `--only` / `--skip`.
    pub fn selects(&self, item: &Item) -> bool {
        let named = |list: &[String]| list.iter().any(|n| *n == item.id || item.tags.contains(n));
        let kind_ok = !self.automated || matches!(item.body, ItemBody::Check(_));
        let stage_ok = self
            .stage
            .as_ref()
            .is_none_or(|stage| item.stages.contains(stage));
        kind_ok && stage_ok && (self.only.is_empty() || named(&self.only)) && !named(&self.skip)
    }
}

/// `per_host` concurrent requests to one host, `pace` per second (`--per-host`, `--pace`).
pub fn politeness(per_host: usize, pace: u32) -> Politeness {
    let pace = f64::from(pace.max(1));
    Politeness::with_pace(per_host, pace, pace.max(checks::politeness::DEFAULT_BURST))
}

impl Plan<'_> {
    /// How `part`'s observations are judged.
    pub fn policy<'p>(&self, part: &'p PlanPart<'_>) -> Policy<'p> {
        Policy {
            checklist: &part.checklist.name,
            fail_on_warning: self.fail_on_warning,
            state: &part.state,
            now: self.now,
            automated: self.automated,
        }
    }
}

impl<'a> Plan<'a> {
    /// A plan of one part built by the caller (`serve`, `demo`, `probe`).
    pub fn one(part: PlanPart<'a>, fail_on_warning: bool, now: Timestamp) -> Plan<'a> {
        Plan {
            environment: part.environment.clone(),
            concurrency: part.opts.concurrency,
            per_host: part.opts.per_host,
            pace: part.opts.pace,
            parts: vec![part],
            fleet: false,
            fail_on_warning,
            automated: false,
            now,
        }
    }

    /// Loads the checklist once per target, checks the selection and the variables the
    /// selected items need, reads what is on record, and settles each part's options.
    pub fn build(request: &'a RunRequest) -> Result<Plan<'a>, CliError> {
        Plan::build_for(request, request.target_list(), None)
    }

    /// [`Plan::build`] for some of the request's targets (a fleet streamed in batches, see
    /// `run/batches.rs`); `record`: what is on record, signatures checked once for the run.
    pub fn build_for(
        request: &'a RunRequest,
        targets: Vec<Option<&'a Target>>,
        record: Option<&(State, super::approval::Trust)>,
    ) -> Result<Plan<'a>, CliError> {
        let fleet = matches!(request.targets, Targets::Fleet(_));
        let secrets = |name: &str| std::env::var(name).ok();
        let mut loaded = Vec::new();
        let mut problems: Vec<(String, Vec<Diagnostic>)> = Vec::new();
        for target in targets {
            let sources = sources_for(request, target);
            match load(&request.source, &sources, &secrets) {
                Ok(checklist) => loaded.push((target, sources, checklist)),
                Err(d) => problems.push((name_of(target), d)),
            }
        }
        diagnostics(problems, fleet, request)?;
        let Some((_, _, first)) = loaded.first() else {
            return Err(CliError::usage("no target selected", None));
        };
        check_selectors(first, request)?;
        let selection = selection(request);
        // Progressive by default: an item whose variables are unset is `unconfigured` (the
        // runner observes it so); `--strict-vars` (and `watch`) stop before anything is sent.
        if request.strict_vars {
            let unset = loaded
                .iter()
                .map(|(t, _, c)| (name_of(*t), unset_targets(c, &request.source, &selection)))
                .filter(|(_, d)| !d.is_empty())
                .collect();
            diagnostics(unset, fleet, request)?;
        }
        let state_dir = &request.config.state_dir;
        // Signatures checked once for the whole run; each part's items judge approvers.
        let read;
        let (on_record, trust) = match record {
            Some((state, trust)) => (state, trust),
            None => {
                read = super::approval::on_record(state_dir).map_err(state_error)?;
                (&read.0, &read.1)
            }
        };
        let now = Timestamp::now();
        let mut parts = Vec::new();
        for (target, sources, checklist) in loaded {
            let proxy = proxy_setting(request.proxy.as_deref(), &sources).map_err(|e| {
                let message = match target {
                    Some(t) if fleet => format!("target `{}`: {e}", t.name),
                    _ => e,
                };
                CliError::usage(
                    message,
                    Some("write `--proxy env`, `--proxy none` or `--proxy http://host:port`"),
                )
            })?;
            let name = target.map(|t| t.name.as_str());
            let mut state = on_record.scoped(name);
            super::approval::judge(&checklist, &mut state, trust);
            state.history =
                history::load_target(state_dir, &checklist.name, name).map_err(state_error)?;
            let due_only = !request.selection.all
                && (request.selection.due || checklist.name == "maintenance");
            let opts = RunOptions {
                concurrency: request.concurrency,
                interactive: request.interactive,
                confirm: request.selection.confirm.clone(),
                preset: verdict::plan(&checklist, &state, now, due_only),
                proxy,
                ..selection.clone()
            };
            let environment = match target {
                Some(t) => t.environment(request.env.as_deref()).map(str::to_string),
                None => request.env.clone(),
            };
            parts.push(PlanPart {
                target,
                environment,
                checklist,
                state,
                opts,
            });
        }
        Ok(Plan {
            parts,
            fleet,
            environment: request.env.clone(),
            concurrency: request.concurrency,
            per_host: request.per_host,
            pace: request.pace,
            fail_on_warning: request.fail_on_warning,
            automated: request.selection.automated,
            now,
        })
    }
}

/// A `StateError` as the usage error a run stops with.
pub fn state_error(e: crate::state::StateError) -> CliError {
    CliError::usage(e.to_string(), Some(e.hint()))
}

/// `--only`, `--skip`, `--automated`, `--stage` and the politeness: what every part shares.
pub fn selection(request: &RunRequest) -> RunOptions {
    RunOptions {
        only: request.selection.only.clone(),
        skip: request.selection.skip.clone(),
        automated: request.selection.automated,
        stage: request.selection.stage.clone(),
        per_host: request.per_host,
        pace: request.pace,
        ..RunOptions::default()
    }
}

pub fn name_of(target: Option<&Target>) -> String {
    target.map(|t| t.name.clone()).unwrap_or_default()
}

/// The variables one target's checklist sees: its environment's (or `--env`'s), then `--var`.
pub fn sources_for(request: &RunRequest, target: Option<&Target>) -> VarSources {
    let environment = match target {
        Some(t) => t.variables(&request.config.environments, request.env.as_deref()),
        None => request
            .env
            .as_ref()
            .and_then(|e| request.config.environments.get(e))
            .cloned()
            .unwrap_or_default(),
    };
    VarSources {
        environment,
        cli: request.cli_vars.clone(),
        // Unset variables are judged per selected item below, so `--only` needs only its own.
        lenient_unset: true,
        tailoring: request.config.tailoring(request.env.as_deref(), target),
        ..VarSources::default()
    }
}
