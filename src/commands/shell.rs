//! `prodcheck completions SHELL` and `prodcheck man`: generated from the clap definition, so
//! they can never disagree with the real command line.

use crate::error::CliError;
use clap::CommandFactory;

use crate::cli::args::Cli;
use crate::exit_code;

pub fn completions(shell: clap_complete::Shell) -> Result<u8, CliError> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "prodcheck", &mut std::io::stdout());
    Ok(exit_code::OK)
}

pub fn man() -> Result<u8, CliError> {
    let mut out = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut out) {
        Ok(()) => {
            print!("{}", String::from_utf8_lossy(&out));
            Ok(exit_code::OK)
        }
        Err(e) => Err(CliError::usage(
            format!("cannot render the man page: {e}"),
            None,
        )),
    }
}
