//! `prodcheck run`: arguments in, the run pipeline (`crate::run`), the exit code out.

use std::path::Path;

use crate::cli::args::{ColorChoice, RunArgs};
use crate::error::CliError;
use crate::run::{Plan, RunRequest, Scope, observe, record, report, streamed, terminal};

pub async fn run(
    config_path: Option<&Path>,
    color: ColorChoice,
    args: RunArgs,
) -> Result<u8, CliError> {
    let request = RunRequest::resolve(config_path, color, &args, Scope::Fleet)?;
    // A fleet is streamed a batch of targets at a time when its reports can be.
    if streamed::applies(&request, &args.output.reports) {
        return streamed::run(&request, &args.output.reports, args.output.verbose).await;
    }
    let plan = Plan::build(&request)?;
    if args.output.verbose > 0 {
        for line in observe::pacing_plan(&plan).lines() {
            eprintln!("{line}");
        }
    }
    let report = terminal::execute(&plan).await;
    record::record(&request.config.state_dir, &plan, &report);
    // The targets' checklists are done with: their memory goes to the reports' text.
    drop(plan);
    report::finish(&report, &args.output.reports, args.output.verbose)
}
