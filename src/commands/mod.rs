//! One module per command; [`dispatch`] routes the parsed command line to them.

mod docs;
mod fleet;
mod history;
mod init;
mod probe;
mod reporting;
mod run;
mod serve;
mod shell;
mod show;
mod signoff;
mod stack;
mod validate;
mod watch;

pub use run::{build_report, emit_reports, execute as run_execute};

use crate::cli::{Cli, Command};

/// Runs the command and returns its exit code.
pub async fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Run(args) => run::run(cli.config.as_deref(), cli.color, args).await,
        Command::Watch(args) => watch::watch(cli.config.as_deref(), cli.color, args).await,
        Command::Probe(args) => probe::probe(args).await,
        Command::Validate { paths } => validate::validate(cli.config.as_deref(), &paths),
        Command::List => show::list(cli.config.as_deref()),
        Command::Show { checklist } => show::show(cli.config.as_deref(), &checklist),
        Command::Docs { checklist, env } => {
            docs::docs(cli.config.as_deref(), env.as_deref(), &checklist)
        }
        Command::Demo {
            strict,
            reports,
            state,
        } => crate::demo::demo(strict, &reports, state.as_deref()).await,
        Command::Init { discover, env } => {
            init::init_command(cli.config.as_deref(), cli.color, discover, env.as_deref()).await
        }
        Command::Schema => {
            print!("{}", crate::schema::checklist_schema());
            crate::exit_code::OK
        }
        Command::Signoff(args) => signoff::signoff(cli.config.as_deref(), cli.color, args),
        Command::Waive(args) => signoff::waive(cli.config.as_deref(), cli.color, args),
        Command::History {
            checklist,
            env,
            target,
            limit,
        } => history::history(
            cli.config.as_deref(),
            cli.color,
            &checklist,
            history::Filter { env, target },
            limit,
        ),
        Command::Due { checklist, target } => history::due(
            cli.config.as_deref(),
            cli.color,
            &checklist,
            target.as_deref(),
        ),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man => shell::man(),
        Command::Serve(args) => serve::serve(cli.config.as_deref(), cli.color, args).await,
    }
}
