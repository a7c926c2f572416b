//! `prodcheck serve`: flags to options, then the exporter in `crate::serve`; start-up failures
//! are printed like every other command's and mapped to exit code 2.

use std::path::Path;

use crate::cli::args::{ColorChoice, ServeArgs};
use crate::error::CliError;
use crate::serve::{LoadError, ServeOptions, StartError, serve as run_exporter};

pub async fn serve(
    config: Option<&Path>,
    color: ColorChoice,
    args: ServeArgs,
) -> Result<u8, CliError> {
    let opts = ServeOptions {
        config: config.map(Path::to_path_buf),
        listen: args.listen,
        web_config: args.web_config_file,
        max_concurrent_runs: usize::from(args.max_concurrent_runs),
        timeout_offset: args.timeout_offset,
        checklists: args.checklists,
        allow_unauthenticated: args.allow_unauthenticated,
    };
    match run_exporter(opts).await {
        Ok(()) => Ok(crate::exit_code::OK),
        Err(StartError::Load(LoadError::Invalid(diags))) => Err(CliError::invalid(diags, color)),
        Err(StartError::Load(LoadError::Usage { message, hint })) => {
            Err(CliError::usage(message, Some(&hint)))
        }
        Err(StartError::Usage { message, hint }) => Err(CliError::usage(message, Some(&hint))),
        Err(StartError::Io { what, cause }) => Err(CliError::Setup { what, cause }),
    }
}
