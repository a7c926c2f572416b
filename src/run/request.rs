//! A `RunRequest`: clap's `run`/`watch` arguments resolved once (configuration, the checklist's
//! source, the environment, the targets, `--var`s, selection and network flags), so no command
//! loads configuration or a catalog entry itself.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use crate::catalog;
use crate::checklist::Source;
use crate::checklist::node::{self, Node};
use crate::cli::args::{ColorChoice, FailOn, RunArgs};
use crate::config::Config;
use crate::error::CliError;
use crate::fleet::Target;

/// Which targets a request covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// No `--target`: one run with the environment's variables.
    None,
    /// `watch --target NAME`: one target's variables and state, reported as a plain run.
    One(usize),
    /// `run --target GLOB | --all-targets`: a fleet, reported with a part per target.
    Fleet(Vec<usize>),
}

/// What the run selects: items, stage, manual confirmations given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub automated: bool,
    pub stage: Option<String>,
    pub confirm: Vec<String>,
    /// `--due`; `--all` turns the maintenance checklist's due-only default off.
    pub due: bool,
    pub all: bool,
}

/// The resolved request every run starts from (ripgrep's `LowArgs → HiArgs`).
pub struct RunRequest {
    pub config: Config,
    pub source: Source,
    /// The name the user gave (`pre-deploy`, a path): hints repeat it.
    pub checklist_arg: String,
    /// `--env`.
    pub env: Option<String>,
    pub targets: Targets,
    /// `--var` values, typed as the checklist declares them.
    pub cli_vars: BTreeMap<String, Node>,
    pub selection: Selection,
    /// `--proxy`.
    pub proxy: Option<String>,
    pub concurrency: usize,
    pub per_host: usize,
    pub pace: u32,
    /// Manual items are asked on this terminal.
    pub interactive: bool,
    /// `--strict-vars`: an unset variable a selected item needs stops the run (exit 2)
    /// instead of making the item `unconfigured`.
    pub strict_vars: bool,
    pub fail_on_warning: bool,
    pub color: ColorChoice,
}

/// Whether a request may name several targets (`run`) or follows one (`watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Fleet,
    OneTarget,
}

impl RunRequest {
    /// Loads the configuration and the checklist's source and checks `--env` and the target
    /// selection: nothing has been sent when this fails.
    pub fn resolve(
        config_path: Option<&Path>,
        color: ColorChoice,
        args: &RunArgs,
        scope: Scope,
    ) -> Result<RunRequest, CliError> {
        let project = super::project::Project::open(config_path, color)?;
        let source = project.source(&args.checklist)?;
        let config = project.config;
        super::project::check_environment(&config, args.env.as_deref())?;
        let targets = select_targets(&config, args, scope)?;
        let cli_vars = cli_vars(&source.text, &args.vars);
        Ok(RunRequest {
            source,
            checklist_arg: args.checklist.clone(),
            env: args.env.clone(),
            targets,
            cli_vars,
            selection: Selection {
                only: args.only.clone(),
                skip: args.skip.clone(),
                automated: args.automated,
                stage: args.stage.clone(),
                confirm: args.confirm.clone(),
                due: args.due,
                all: args.all,
            },
            proxy: args.proxy.clone(),
            concurrency: usize::from(args.concurrency),
            per_host: usize::from(args.per_host),
            pace: args.pace,
            interactive: interactive(args),
            strict_vars: args.strict_vars,
            fail_on_warning: args.output.fail_on == FailOn::Warning,
            color,
            config,
        })
    }

    /// The targets in selection order (`[None]` for a run without targets).
    pub fn target_list(&self) -> Vec<Option<&Target>> {
        match &self.targets {
            Targets::None => vec![None],
            Targets::One(i) => vec![self.config.targets.get(*i)],
            Targets::Fleet(list) => list
                .iter()
                .map(|i| self.config.targets.get(*i))
                .filter(Option::is_some)
                .collect(),
        }
    }
}

fn select_targets(config: &Config, args: &RunArgs, scope: Scope) -> Result<Targets, CliError> {
    if args.targets.is_empty() && !args.all_targets {
        return Ok(Targets::None);
    }
    let picked = crate::fleet::select(&config.targets, &args.targets, args.all_targets)
        .map_err(|e| CliError::usage(e.message(), Some(&e.hint())))?;
    let index = |t: &Target| config.targets.iter().position(|c| c.name == t.name);
    if scope == Scope::Fleet {
        return Ok(Targets::Fleet(
            picked.iter().filter_map(|t| index(t)).collect(),
        ));
    }
    match picked.as_slice() {
        [one] => Ok(index(one).map_or(Targets::None, Targets::One)),
        many => {
            let names: Vec<String> = many.iter().map(|t| t.name.clone()).collect();
            Err(CliError::usage(
                format!(
                    "watch follows one target at a time; the selection names {}: {}",
                    names.len(),
                    crate::fleet::select::shorten(&names, 10)
                ),
                Some("name one with --target NAME, and start one watch per target"),
            ))
        }
    }
}

/// `--var` values are text, so `host=[::1]` stays an address; only a variable the checklist
/// declares as a list or mapping takes YAML flow syntax (`allowed_origins=[https://a]`), or
/// one declared unset (`protected_urls: ~`, no default on purpose) given a flow list or
/// mapping that is not a bracketed IPv6 address.
pub fn cli_vars(checklist_text: &str, vars: &[(String, String)]) -> BTreeMap<String, Node> {
    let declared = node::parse(checklist_text).ok();
    // A checklist that `extends:` a shipped one declares the base's variables too.
    let base = declared
        .as_ref()
        .and_then(|doc| doc.get("extends"))
        .and_then(|b| b.as_str())
        .and_then(|name| catalog::SHIPPED.iter().find(|(n, _)| *n == name))
        .and_then(|(_, text)| node::parse(text).ok());
    let structured = |name: &str| {
        [declared.as_ref(), base.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|doc| doc.get("vars").and_then(|vars| vars.get(name)))
            .map(|v| &v.value)
    };
    let flow = |text: &str| {
        let t = text.trim();
        let ipv6 = t.starts_with('[')
            && t.split(']').next().is_some_and(|inside| {
                inside[1..]
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
            });
        (t.starts_with('[') || t.starts_with('{'))
            && !ipv6
            && matches!(
                node::from_cli(t).value,
                node::Value::Seq(_) | node::Value::Map(_)
            )
    };
    vars.iter()
        .map(|(k, v)| {
            let typed = match structured(k) {
                Some(node::Value::Seq(_) | node::Value::Map(_)) => true,
                Some(node::Value::Null) => flow(v),
                _ => false,
            };
            let value = if typed {
                node::from_cli(v)
            } else {
                Node::new(node::Pos::default(), node::Value::Str(v.clone()))
            };
            (k.clone(), value)
        })
        .collect()
}

/// Whether manual items are asked on this terminal.
fn interactive(args: &RunArgs) -> bool {
    !args.non_interactive
        && std::env::var_os("CI").is_none()
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
}
