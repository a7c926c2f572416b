//! `prodcheck run`: load config and checklist, run, report, map to the exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use colored::Colorize;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use checks::web::proxy::ProxySetting;

use crate::checklist::load::collapse_unset;
use crate::checklist::vars::unset_hint;
use crate::checklist::{Checklist, ItemBody, VarSources, load, node};
use crate::cli::{ColorChoice, RunArgs};
use crate::manual::TerminalPrompter;
use crate::redact::Redactor;
use crate::report::Report;
use crate::runner::{self, Progress, RunOptions};
use crate::state::{RunRecord, State, Timestamp, apply, history, signoffs};
use crate::verdict::{self, Policy};
use crate::{catalog, config};

pub use super::reporting::{build_report, emit_reports, finish};
pub use crate::error::{print_diagnostics, usage_error};

pub async fn run(config_path: Option<&Path>, color: ColorChoice, args: RunArgs) -> u8 {
    if args.all_targets || !args.targets.is_empty() {
        return super::fleet::run(config_path, color, &args).await;
    }
    let prepared = match prepare(config_path, color, &args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let policy = prepared.policy(&args);
    if args.output.verbose > 0 {
        for line in runner::plan(&prepared.checklist, &prepared.opts).lines() {
            eprintln!("{line}");
        }
    }
    let report = execute(
        &prepared.checklist,
        &prepared.opts,
        &policy,
        args.env.clone(),
    )
    .await;
    record_state(&prepared.config.state_dir, &prepared.checklist, &report);
    finish(&report, &args.output.reports, args.output.verbose)
}

/// Everything `run` and `watch` know before the first probe starts.
pub struct Prepared {
    pub config: config::Config,
    pub checklist: Checklist,
    pub state: State,
    pub opts: RunOptions,
    pub now: Timestamp,
    /// The environment that applies (`--env`, or the one target's with `watch --target`).
    pub environment: Option<String>,
}

impl Prepared {
    pub fn policy<'a>(&'a self, args: &RunArgs) -> Policy<'a> {
        Policy {
            checklist: &self.checklist.name,
            fail_on_warning: args.output.fail_on == crate::cli::FailOn::Warning,
            state: &self.state,
            now: self.now,
        }
    }
}

/// Loads config and checklist, checks the selection and the variables it needs: the exit code
/// when something is wrong before anything is sent.
pub fn prepare(
    config_path: Option<&Path>,
    color: ColorChoice,
    args: &RunArgs,
) -> Result<Prepared, u8> {
    let config = match config::load(config_path) {
        Ok(c) => c,
        Err(diags) => return Err(crate::error::invalid(diags, color)),
    };
    let source = match catalog::resolve(&args.checklist, &config.checklists_dir) {
        Ok(s) => s,
        Err(e) => {
            return Err(usage_error(
                &e,
                Some("`prodcheck list` shows the checklists it knows"),
            ));
        }
    };
    check_environment(&config, args.env.as_deref())?;
    // `run` takes fleets elsewhere (`fleet::run`); `watch` follows one target at a time.
    let target = one_target(&config, args)?;
    let environment = match target {
        Some(t) => t.environment(args.env.as_deref()).map(str::to_string),
        None => args.env.clone(),
    };
    let mut sources = VarSources::default();
    match target {
        Some(t) => sources.environment = t.variables(&config.environments, args.env.as_deref()),
        None => {
            if let Some(vars) = args.env.as_ref().and_then(|e| config.environments.get(e)) {
                sources.environment = vars.clone();
            }
        }
    }
    sources.cli = cli_vars(&source.text, &args.vars);
    // Unset targets are judged per selected item below, so `--only` needs only its own.
    sources.lenient_unset = true;
    let checklist = match load(&source, &sources, &|name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(diags) => return Err(crate::error::invalid(diags, color)),
    };
    check_selectors(&checklist, args)?;
    let selection = RunOptions {
        only: args.only.clone(),
        skip: args.skip.clone(),
        automated: args.automated,
        stage: args.stage.clone(),
        ..RunOptions::default()
    };
    let unset = unset_targets(&checklist, &source, &selection);
    if !unset.is_empty() {
        return Err(crate::error::invalid(unset, color));
    }
    let proxy = match proxy_setting(args.proxy.as_deref(), &sources) {
        Ok(p) => p,
        Err(e) => {
            return Err(usage_error(
                &e,
                Some("write `--proxy env`, `--proxy none` or `--proxy http://host:port`"),
            ));
        }
    };
    let interactive = interactive(args);
    let target = target.map(|t| t.name.clone());
    let state = match State::load_for(&config.state_dir, &checklist.name, target.as_deref()) {
        Ok(s) => s,
        Err(e) => return Err(usage_error(&e.to_string(), Some(e.hint()))),
    };
    let now = Timestamp::now();
    let due_only = !args.all && (args.due || checklist.name == "maintenance");
    let opts = RunOptions {
        concurrency: usize::from(args.concurrency),
        interactive,
        confirm: args.confirm.clone(),
        preset: verdict::plan(&checklist, &state, now, due_only),
        per_host: usize::from(args.per_host),
        pace: args.pace,
        proxy,
        ..selection
    };
    Ok(Prepared {
        config,
        checklist,
        state,
        opts,
        now,
        environment,
    })
}

/// The single target `--target` names for `watch` (`None` without one); several, or
/// `--all-targets`, are a usage error: a watch follows one service's rollout.
fn one_target<'a>(
    config: &'a config::Config,
    args: &RunArgs,
) -> Result<Option<&'a crate::fleet::Target>, u8> {
    if args.targets.is_empty() && !args.all_targets {
        return Ok(None);
    }
    let picked = crate::fleet::select(&config.targets, &args.targets, args.all_targets)
        .map_err(|e| usage_error(&e.message(), Some(&e.hint())))?;
    match picked.as_slice() {
        [one] => Ok(Some(*one)),
        many => {
            let names: Vec<String> = many.iter().map(|t| t.name.clone()).collect();
            Err(usage_error(
                &format!(
                    "watch follows one target at a time; the selection names {}: {}",
                    names.len(),
                    crate::fleet::select::shorten(&names, 10)
                ),
                Some("name one with --target NAME, and start one watch per target"),
            ))
        }
    }
}

/// `--env NAME` must name an environment of prodcheck.yaml (`None` passes). `Err` is the exit
/// code, the message already printed.
pub(super) fn check_environment(config: &config::Config, env: Option<&str>) -> Result<(), u8> {
    let Some(env) = env else {
        return Ok(());
    };
    if config.environments.contains_key(env) {
        return Ok(());
    }
    let known: Vec<_> = config.environments.keys().cloned().collect();
    let where_ = config
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "no prodcheck.yaml found".into());
    Err(usage_error(
        &format!("unknown environment `{env}` ({where_})"),
        Some(&if known.is_empty() {
            "define it under `environments:` in prodcheck.yaml (`prodcheck init` writes one)"
                .to_string()
        } else {
            format!("known environments: {}", known.join(", "))
        }),
    ))
}

/// `--var` values are text, so `host=[::1]` stays an address; only a variable the checklist
/// declares as a list or mapping takes YAML flow syntax (`allowed_origins=[https://a]`).
pub(super) fn cli_vars(
    checklist_text: &str,
    vars: &[(String, String)],
) -> std::collections::BTreeMap<String, node::Node> {
    let declared = node::parse(checklist_text).ok();
    let structured = |name: &str| {
        declared
            .as_ref()
            .and_then(|doc| doc.get("vars"))
            .and_then(|vars| vars.get(name))
            .is_some_and(|v| matches!(v.value, node::Value::Seq(_) | node::Value::Map(_)))
    };
    vars.iter()
        .map(|(k, v)| {
            let value = if structured(k) {
                node::from_cli(v)
            } else {
                node::Node::new(node::Pos::default(), node::Value::Str(v.clone()))
            };
            (k.clone(), value)
        })
        .collect()
}

/// Every `--confirm`, `--only` and `--skip` name, and `--stage`, must exist in the checklist: a typo must not
/// silently run everything or nothing. `Err` is the exit code, the message already printed.
pub(super) fn check_selectors(checklist: &Checklist, args: &RunArgs) -> Result<(), u8> {
    for (flag, names) in [
        ("--confirm", &args.confirm),
        ("--only", &args.only),
        ("--skip", &args.skip),
    ] {
        for name in names.iter() {
            let known = checklist
                .items()
                .any(|(_, i)| i.id == *name || (flag != "--confirm" && i.tags.contains(name)));
            if !known {
                let what = if flag == "--confirm" {
                    "item id"
                } else {
                    "item id or tag"
                };
                return Err(usage_error(
                    &format!(
                        "{flag} `{name}`: no {what} `{name}` in checklist `{}`",
                        checklist.name
                    ),
                    Some(&format!(
                        "`prodcheck show {}` lists the items",
                        args.checklist
                    )),
                ));
            }
        }
    }
    if let Some(stage) = &args.stage
        && !checklist.stages.iter().any(|s| s.name == *stage)
    {
        let hint = if checklist.stages.is_empty() {
            format!(
                "checklist `{}` declares no `stages:`; run it without --stage, or add stages to it",
                checklist.name
            )
        } else {
            let names: Vec<&str> = checklist.stages.iter().map(|s| s.name.as_str()).collect();
            format!("its stages: {}", names.join(", "))
        };
        return Err(usage_error(
            &format!(
                "--stage `{stage}`: no such stage in checklist `{}`",
                checklist.name
            ),
            Some(&hint),
        ));
    }
    Ok(())
}

/// Whether manual items are asked on this terminal.
pub(super) fn interactive(args: &RunArgs) -> bool {
    !args.non_interactive
        && std::env::var_os("CI").is_none()
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
}

/// The proxy for the run: `--proxy`, else the `proxy` variable of the environment or
/// `--var` (with `${env:…}` expanded), else the process environment's `*_PROXY`.
pub(super) fn proxy_setting(
    flag: Option<&str>,
    sources: &VarSources,
) -> Result<ProxySetting, String> {
    if let Some(flag) = flag {
        return ProxySetting::parse(flag);
    }
    let Some(node) = sources
        .cli
        .get("proxy")
        .or_else(|| sources.environment.get("proxy"))
    else {
        return Ok(ProxySetting::Env);
    };
    let env = |name: &str| std::env::var(name).ok();
    let mut scope = crate::checklist::vars::Scope::new(Default::default(), sources, &env);
    let mut errors = Vec::new();
    let value = scope.substitute(node, &mut errors);
    if let Some(e) = errors.first() {
        return Err(format!("`proxy`: {}", e.message));
    }
    match value.scalar_text() {
        Some(text) => ProxySetting::parse(&text),
        None => Ok(ProxySetting::Env),
    }
}

/// One diagnostic per unset variable that a selected item needs, at its first use: the run
/// stops before anything is sent.
pub(super) fn unset_targets(
    checklist: &Checklist,
    source: &crate::checklist::Source,
    selection: &RunOptions,
) -> Vec<crate::checklist::Diagnostic> {
    let mut diags: Vec<crate::checklist::Diagnostic> = checklist
        .items()
        .filter(|(_, item)| selection.selects(item))
        .filter_map(|(_, item)| match &item.body {
            ItemBody::Check(c) => Some(&c.needs),
            ItemBody::Manual(_) => None,
        })
        .flatten()
        .map(|(var, pos)| {
            crate::checklist::Diagnostic::new(
                &source.file,
                &source.text,
                *pos,
                format!("variable `{var}` is not set"),
            )
            .hint(unset_hint(var))
        })
        .collect();
    diags.sort_by_key(|d| d.pos);
    diags.dedup();
    collapse_unset(diags)
}

/// Records the run in history and interactive confirmations as sign-offs. A failure here is
/// reported but does not change the exit code: the run itself and its reports are still valid.
pub fn record_state(state_dir: &Path, checklist: &Checklist, report: &Report) {
    let prompted = apply::prompted_signoffs(
        report,
        checklist,
        &super::signoff::who(None),
        Timestamp::now(),
    );
    let results = [
        signoffs::record(state_dir, prompted),
        history::append(state_dir, &RunRecord::from_report(report)),
    ];
    for e in results.into_iter().filter_map(Result::err) {
        eprintln!("{}: {e}", "warning".yellow().bold());
        eprintln!("  {}: {}", "help".bold(), e.hint());
    }
}

/// Runs with Ctrl-C handling and a progress line, and builds the (redacted) report.
pub async fn execute(
    checklist: &Checklist,
    opts: &RunOptions,
    policy: &Policy<'_>,
    env: Option<String>,
) -> Report {
    let redactor = Redactor::new(&checklist.secrets);
    crate::redact::activate(&redactor);
    let spinner = Spinner::new(redactor);
    let started_at = SystemTime::now();
    let started = Instant::now();
    let update = |p: Progress| spinner.update(p);
    let result =
        with_ctrl_c(|rx| runner::run(checklist, opts, Arc::new(TerminalPrompter), &update, rx))
            .await;
    build_report(
        checklist,
        result,
        policy,
        env,
        started_at,
        started.elapsed(),
    )
}

/// Runs `work` with a receiver that turns true on Ctrl-C.
pub(super) async fn with_ctrl_c<F, Fut>(work: F) -> Fut::Output
where
    F: FnOnce(watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future,
{
    let (tx, rx) = watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
        }
    });
    let out = work(rx).await;
    ctrl_c.abort();
    out
}

/// On a terminal: a spinner, counts and the items still running, shown only while there is
/// something to wait for. Off a terminal: nothing but the report.
pub(super) struct Spinner {
    bar: Option<ProgressBar>,
    running: std::sync::Mutex<Vec<String>>,
    redactor: Redactor,
}

impl Spinner {
    pub(super) fn new(redactor: Redactor) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::hidden();
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg}") {
                bar.set_style(style);
            }
            bar
        });
        Spinner {
            bar,
            running: std::sync::Mutex::new(Vec::new()),
            redactor,
        }
    }

    pub(super) fn update(&self, p: Progress) {
        let Some(bar) = &self.bar else { return };
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Begin { ids } => {
                if ids.is_empty() {
                    return;
                }
                bar.set_length(ids.len() as u64);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(120));
                *running = ids;
            }
            Progress::Finished { id, .. } => {
                bar.inc(1);
                if let Some(at) = running.iter().position(|r| *r == id) {
                    running.remove(at);
                }
            }
            Progress::ProbesDone => {
                bar.finish_and_clear();
                return;
            }
        }
        let shown: Vec<&str> = running.iter().take(3).map(String::as_str).collect();
        let more = running.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" (+{more})")
        } else {
            String::new()
        };
        bar.set_message(
            self.redactor
                .redact(&format!("running {}{more}", shown.join(", "))),
        );
    }
}
