//! The binary's entry point: parse the command line ([`args`]), set colour, start the one tokio
//! runtime and hand off to `commands`. Every command returns its exit code; nothing calls `exit`.

pub mod args;

pub use args::*;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::commands;
use crate::exit_code;

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
