//! The command line as clap parses it: every command, flag and value parser, and the colour
//! choice. Nothing here runs anything; `commands` turns these into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::format::ReportTarget;

#[derive(Debug, Parser)]
#[command(
    name = "prodcheck",
    version,
    about = "Run a production-readiness checklist: automated probes and manual confirmations."
)]
#[command(
    after_help = "Exit codes: 0 all gating items passed · 1 a gating item failed · 2 usage error or invalid checklist · 3 a gating probe could not be evaluated · 4 gating manual items pending · 130 interrupted"
)]
pub struct Cli {
    /// When to colour the output (NO_COLOR is honoured with `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Project settings file (default: ./prodcheck.yaml when present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

pub use crate::color::{ColorChoice, use_color};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a checklist (a shipped name such as `pre-deploy`, or a path).
    Run(RunArgs),
    /// Watch a stage's rollback triggers (items with `for:`) over a window: exit 1 as soon as
    /// one has failed for its `for:`, 0 when the window ends clean.
    Watch(WatchArgs),
    /// Validate checklist files or directories without running anything.
    Validate {
        /// Files or directories (default: the shipped checklists and the local directory).
        paths: Vec<PathBuf>,
        /// Also load them with this environment of prodcheck.yaml (its variables, overrides
        /// and `not_applicable:`) and list the items that would be unconfigured.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
    /// List shipped and local checklists.
    List,
    /// Show a checklist's sections and items: the effective checklist, with the overrides of
    /// `--env` / `--target` and where each came from.
    Show {
        checklist: String,
        /// Apply this environment of prodcheck.yaml (overrides, `not_applicable:`).
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Apply this target of prodcheck.yaml (over its environment).
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
    },
    /// Render a checklist as a Markdown runbook (for a wiki or a pull request).
    Docs {
        checklist: String,
        /// Resolve variables with this environment of prodcheck.yaml.
        #[arg(long)]
        env: Option<String>,
    },
    /// Run one probe ad hoc: `prodcheck probe tls host=example.com warn_days=21`.
    Probe(ProbeArgs),
    /// Start a small HTTPS service on 127.0.0.1 and run `pre-deploy` against it.
    Demo {
        /// Exit with the run's exit code instead of 0.
        #[arg(long)]
        strict: bool,
        /// Also write a report of the demo run: FORMAT or FORMAT=PATH (repeatable), e.g.
        /// `--report html=demo.html` to see the HTML report.
        #[arg(long = "report", value_name = "FORMAT[=PATH]")]
        reports: Vec<ReportTarget>,
        /// Read sign-offs from and record the run in this state directory (like a project's
        /// `.prodcheck`), so repeated demo runs show what changed and a history strip.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
    /// Print the JSON Schema of the checklist format.
    Schema,
    /// Write a commented prodcheck.yaml with staging and production environments.
    Init {
        /// Look at the service the environment names (base_url, prometheus_url, database_url,
        /// redis_url) and fill in, in place, the variables it can verify.
        #[arg(long)]
        discover: bool,
        /// The environment to discover (default: the only one, else `staging`).
        #[arg(long, value_name = "NAME", requires = "discover")]
        env: Option<String>,
    },
    /// Record that a human confirmed a manual item (in .prodcheck/signoffs.yaml, to commit).
    Signoff(SignoffArgs),
    /// Accept a failing item until a date: it reports `waived` (not gating), then fails again.
    Waive(WaiveArgs),
    /// Sign a pending sign-off or waiver request as its approver (the review flow).
    Approve(ApproveArgs),
    /// Show recent runs of a checklist from .prodcheck/history.
    History {
        /// Shipped checklist name or path to a YAML file.
        checklist: String,
        /// Only runs with this environment (`default` for runs without --env).
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// The runs against this target of prodcheck.yaml (each target has its own history).
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        /// How many runs to show, newest first.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// List the items whose cadence (`every`) has elapsed since their last pass or sign-off.
    Due {
        /// Shipped checklist name or path to a YAML file.
        checklist: String,
        /// What is due for this target of prodcheck.yaml.
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
    },
    /// Print a shell completion script: `prodcheck completions bash > /etc/bash_completion.d/prodcheck`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `prodcheck man > prodcheck.1`.
    Man,
    /// Answer Prometheus scrapes: `GET /probe?checklist=maintenance&env=production` runs the
    /// checklist's automated items and answers with their metrics (like blackbox_exporter).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; a non-loopback one needs basic auth (--web.config.file).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9187")]
    pub listen: std::net::SocketAddr,
    /// TLS and basic auth, in the Prometheus exporter-toolkit web config format.
    #[arg(long = "web.config.file", value_name = "PATH")]
    pub web_config_file: Option<PathBuf>,
    /// Checklist runs at once; a scrape waits for a slot until its deadline, then gets 503.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_concurrent_runs: u16,
    /// Subtracted from X-Prometheus-Scrape-Timeout-Seconds so the answer arrives in time.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_duration)]
    pub timeout_offset: std::time::Duration,
    /// Serve only this checklist (repeatable; default: every shipped and local checklist).
    #[arg(long = "checklist", value_name = "NAME")]
    pub checklists: Vec<String>,
    /// Listen on a non-loopback address without basic auth (a firewall restricts access).
    #[arg(long)]
    pub allow_unauthenticated: bool,
}

#[derive(Debug, Args)]
#[command(mut_arg("item", |a| a.help("Id of the manual item")))]
#[command(mut_arg("target", |a| a.help("The target of prodcheck.yaml the sign-off is for (each target is signed off on its own)")))]
pub struct SignoffArgs {
    #[command(flatten)]
    pub which: ItemArgs,
    /// What was looked at, or anything a reviewer should know.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Who signs off (default: git `user.name`, else $USER); with --key the approver's
    /// principal (default: git `user.email`).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// The item `signoff`, `waive` and `approve` record something for.
#[derive(Debug, Args)]
pub struct ItemArgs {
    /// Shipped checklist name or path to a YAML file.
    pub checklist: String,
    /// Id of the item (each command says which).
    pub item: String,
    /// The target of prodcheck.yaml the record is for.
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
}

/// How `signoff` and `waive` sign a record, or ask for it to be approved.
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// Sign the record with this SSH key as approver `--by` (a private key, or a public key
    /// whose private half is in ssh-agent); `--by` must own the key in .prodcheck/allowed_signers.
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Who asks (a principal of allowed_signers). Without --key: a request awaiting
    /// `prodcheck approve`; with --key: recorded next to the approver (default: the approver).
    #[arg(long, value_name = "PRINCIPAL")]
    pub requested_by: Option<String>,
}

#[derive(Debug, Args)]
#[command(mut_arg("item", |a| a.help("Id of the item to waive")))]
#[command(mut_arg("target", |a| a.help("The target of prodcheck.yaml the waiver covers (each target is waived on its own)")))]
pub struct WaiveArgs {
    #[command(flatten)]
    pub which: ItemArgs,
    /// Why the failure is accepted (shown in every report).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Last day the waiver holds (YYYY-MM-DD, UTC); after it the item fails again.
    #[arg(long, value_name = "DATE")]
    pub until: String,
    /// Who waives (default: git `user.name`, else $USER); with --key the approver's
    /// principal (default: git `user.email`).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// The risk accepted while the item is waived (required with --key or --requested-by).
    #[arg(long, value_enum)]
    pub risk: Option<crate::state::waivers::Risk>,
    #[command(flatten)]
    pub signing: SigningArgs,
}

#[derive(Debug, Args)]
#[command(mut_arg("item", |a| a.help("Id of the item whose pending request to approve")))]
#[command(mut_arg("target", |a| a.help("The target of prodcheck.yaml the request is for")))]
pub struct ApproveArgs {
    #[command(flatten)]
    pub which: ItemArgs,
    /// Which request, when the item has both a pending sign-off and a pending waiver.
    #[arg(long, value_enum)]
    pub kind: Option<RequestKind>,
    /// The approver's SSH key (a private key, or a public key whose private half is in ssh-agent).
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,
    /// The approver: a principal of .prodcheck/allowed_signers owning --key (default: git `user.email`).
    #[arg(long, value_name = "PRINCIPAL")]
    pub by: Option<String>,
}

/// A pending request's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RequestKind {
    Signoff,
    Waiver,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Shipped checklist name or path to a YAML file.
    pub checklist: String,
    /// Environment from prodcheck.yaml whose variables apply (with --target: for targets that
    /// name no `env` of their own).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Run against the targets of prodcheck.yaml whose names match (`api-*`; repeatable): one
    /// process, one report with a part per target, the exit code of the worst target.
    #[arg(long = "target", value_name = "GLOB")]
    pub targets: Vec<String>,
    /// Run against every target of prodcheck.yaml.
    #[arg(long, conflicts_with = "targets")]
    pub all_targets: bool,
    /// Set a variable (overrides checklist and environment values).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Never prompt; manual items stay pending unless confirmed with --confirm.
    #[arg(long)]
    pub non_interactive: bool,
    /// Confirm a manual item by id (repeatable).
    #[arg(long, value_name = "ID")]
    pub confirm: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Run only items with this id or tag (repeatable).
    #[arg(long, value_name = "ID|TAG")]
    pub only: Vec<String>,
    /// Skip items with this id or tag (repeatable).
    #[arg(long, value_name = "ID|TAG")]
    pub skip: Vec<String>,
    /// Run only automated items: manual ones are left out (`skip`), so a pipeline step gets 0,
    /// 1 or 3, never a 4 (pending) it did not ask for; unconfigured gates give 6.
    #[arg(long)]
    pub automated: bool,
    /// Stop with exit 2 before anything is sent when a selected item needs an unset variable
    /// (the behaviour before progressive runs). Without it such items are `unconfigured`.
    #[arg(long)]
    pub strict_vars: bool,
    /// Run only the items of this rollout stage (the checklist's `stages:`).
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// How many probes run at once (across all targets of a fleet run).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// How many requests go to one host at once, shared by every probe of the run (politeness:
    /// a production rate limiter must only ever be tripped by the `rate_limit` item).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub per_host: u16,
    /// Paced requests to one host per second, shared by every probe of the run (after a burst
    /// of 10, or of as many when higher); keep it under the target's rate limiter.
    #[arg(long, value_name = "PER_SECOND", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub pace: u32,
    /// Proxy for HTTP-based probes: `env` (HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY, the
    /// default), `none`, or a URL (`http://`, `https://`, `socks5://`). Overrides the
    /// environment's `proxy` variable in prodcheck.yaml.
    #[arg(long, value_name = "env|none|URL")]
    pub proxy: Option<String>,
    /// Run only items that are due (the default for the `maintenance` checklist).
    #[arg(long, conflicts_with = "all")]
    pub due: bool,
    /// Run every item, even those not due yet.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// How long to watch (default: the stage's `watch:`, else 10m).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub window: Option<std::time::Duration>,
    /// How often to evaluate the triggers (default: the stage's `every:`, else 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub every: Option<std::time::Duration>,
}

/// Report and gating flags shared by `run` and `probe`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write a report: FORMAT or FORMAT=PATH (repeatable; no PATH means stdout).
    #[arg(long = "report", value_name = "FORMAT[=PATH]")]
    pub reports: Vec<ReportTarget>,
    /// Lowest severity that gates the exit code.
    #[arg(long, value_enum, default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,
    /// More detail in the human report: `-v` one line per item and evidence of what did not
    /// pass, `-vv` everything.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only critical items gate (default).
    Critical,
    /// Warning-severity items and `warn` statuses gate too.
    Warning,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Probe kind (`prodcheck schema` lists the parameters of each).
    pub kind: String,
    /// Parameters as key=value, with the YAML names; dotted keys nest (`expect.status=200`).
    #[arg(value_name = "KEY=VALUE", value_parser = parse_var)]
    pub params: Vec<(String, String)>,
    /// Budget for the probe.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    checks::params::parse_duration(s)
}
