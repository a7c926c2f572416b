//! One module per command; [`dispatch`] routes the parsed command line to them.

mod approve;
mod docs;
mod history;
mod init;
mod lookup;
mod probe;
mod records;
mod run;
mod serve;
mod shell;
mod show;
mod signoff;
mod stack;
mod validate;
mod watch;

use crate::cli::args::{Cli, Command};
use crate::error::CliError;

/// Runs the command and returns its exit code: the one place a failure is printed and mapped
/// to its code.
pub async fn dispatch(cli: Cli) -> u8 {
    match command(cli).await {
        Ok(code) => code,
        Err(e) => e.emit(),
    }
}

async fn command(cli: Cli) -> Result<u8, CliError> {
    match cli.command {
        Command::Run(args) => run::run(cli.config.as_deref(), cli.color, args).await,
        Command::Watch(args) => watch::watch(cli.config.as_deref(), cli.color, args).await,
        Command::Probe(args) => probe::probe(args).await,
        Command::Validate { paths, env } => {
            validate::validate(cli.config.as_deref(), &paths, env.as_deref())
        }
        Command::List => show::list(cli.config.as_deref()),
        Command::Show {
            checklist,
            env,
            target,
        } => show::show(
            cli.config.as_deref(),
            &checklist,
            env.as_deref(),
            target.as_deref(),
        ),
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
            Ok(crate::exit_code::OK)
        }
        Command::Signoff(args) => signoff::signoff(cli.config.as_deref(), cli.color, args),
        Command::Waive(args) => signoff::waive(cli.config.as_deref(), cli.color, args),
        Command::Approve(args) => approve::approve(cli.config.as_deref(), cli.color, args),
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
