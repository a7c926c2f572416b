//! The command line: clap definitions, colour choice, the tokio runtime, and the hand-off to
//! one function per command. Every command returns its exit code; nothing calls `exit`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;
use crate::exit_code;
use crate::report::ReportTarget;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

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
    },
    /// List shipped and local checklists.
    List,
    /// Show a checklist's sections and items.
    Show { checklist: String },
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
    Init,
    /// Record that a human confirmed a manual item (in .prodcheck/signoffs.yaml, to commit).
    Signoff(SignoffArgs),
    /// Accept a failing item until a date: it reports `waived` (not gating), then fails again.
    Waive(WaiveArgs),
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
pub struct SignoffArgs {
    /// Shipped checklist name or path to a YAML file.
    pub checklist: String,
    /// Id of the manual item.
    pub item: String,
    /// The target of prodcheck.yaml the sign-off is for (each target is signed off on its own).
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// What was looked at, or anything a reviewer should know.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Who signs off (default: git `user.name`, else $USER).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct WaiveArgs {
    /// Shipped checklist name or path to a YAML file.
    pub checklist: String,
    /// Id of the item to waive.
    pub item: String,
    /// The target of prodcheck.yaml the waiver covers (each target is waived on its own).
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Why the failure is accepted (shown in every report).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Last day the waiver holds (YYYY-MM-DD, UTC); after it the item fails again.
    #[arg(long, value_name = "DATE")]
    pub until: String,
    /// Who waives (default: git `user.name`, else $USER).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
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
    /// 1 or 3, never a 4 (pending) it did not ask for.
    #[arg(long)]
    pub automated: bool,
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

/// Decides whether stdout gets colour, following `--color` and NO_COLOR.
pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit_code::USAGE
            } else {
                exit_code::OK
            });
        }
    };
    colored::control::set_override(use_color(cli.color, std::io::stdout().is_terminal()));
    checks::install_crypto_provider();
    crate::redact::install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let failure = crate::error::CliError::Setup {
                what: "cannot start the async runtime".into(),
                cause: e.to_string(),
            };
            return ExitCode::from(failure.emit());
        }
    };
    let code = runtime.block_on(commands::dispatch(cli));
    // A prompt may still be blocked reading stdin after Ctrl-C: do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    ExitCode::from(code)
}
