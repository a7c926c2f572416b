//! What the commands that read or record decisions (`signoff`, `waive`, `approve`, `history`,
//! `due`) share: the checklist loaded without secrets, `--target` checked, state errors worded.

use std::path::Path;

use crate::checklist::{Checklist, VarSources, load};
use crate::cli::args::ColorChoice;
use crate::config::Config;
use crate::error::CliError;
use crate::state::StateError;
use crate::{catalog, config};

/// Loads the project settings and checklist `arg` (shipped name or path), or reports why not.
pub(super) fn load_checklist(
    config_path: Option<&Path>,
    color: ColorChoice,
    arg: &str,
) -> Result<(Config, Checklist), CliError> {
    let config = config::load(config_path).map_err(|diags| CliError::invalid(diags, color))?;
    let source = catalog::resolve(arg, &config.checklists_dir)
        .map_err(|e| CliError::usage(e, Some("`prodcheck list` shows the checklists it knows")))?;
    // These commands need ids and cadences, not secrets: an unset `${env:…}` must not stop them.
    let env = |name: &str| Some(std::env::var(name).unwrap_or_else(|_| "unset".into()));
    let sources = VarSources {
        lenient_unset: true,
        ..VarSources::default()
    };
    let checklist =
        load(&source, &sources, &env).map_err(|diags| CliError::invalid(diags, color))?;
    Ok((config, checklist))
}

/// `--target NAME` must name a target of prodcheck.yaml (`None` passes). `Err` is the exit
/// code, the message already printed.
pub(super) fn known_target(config: &Config, target: Option<&str>) -> Result<(), CliError> {
    let Some(name) = target else {
        return Ok(());
    };
    if config.target(name).is_some() {
        return Ok(());
    }
    let known: Vec<String> = config.targets.iter().map(|t| t.name.clone()).collect();
    let hint = if known.is_empty() {
        "prodcheck.yaml defines no `targets:`".to_string()
    } else {
        format!(
            "known targets: {}",
            crate::fleet::select::shorten(&known, 20)
        )
    };
    Err(CliError::usage(
        format!("--target `{name}`: no such target in prodcheck.yaml"),
        Some(&hint),
    ))
}

/// A state file could not be read or written.
pub(super) fn state_error(e: &StateError) -> CliError {
    CliError::state(e)
}
