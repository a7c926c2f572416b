//! What the commands that read or record decisions (`signoff`, `waive`, `approve`, `history`,
//! `due`) share: the checklist loaded without secrets, `--target` checked, state errors worded.

use std::path::Path;

use crate::checklist::{Checklist, Item, VarSources, load};
use crate::cli::args::{ColorChoice, ItemArgs};
use crate::config::Config;
use crate::error::CliError;
use crate::run::project::Project;
use crate::state::StateError;

/// Loads the project settings and checklist `arg` (shipped name or path), or reports why not.
pub(super) fn load_checklist(
    config_path: Option<&Path>,
    color: ColorChoice,
    arg: &str,
) -> Result<(Config, Checklist), CliError> {
    let project = Project::open(config_path, color)?;
    let source = project.source(arg)?;
    // These commands need ids and cadences, not secrets: an unset `${env:…}` must not stop them.
    let env = |name: &str| Some(std::env::var(name).unwrap_or_else(|_| "unset".into()));
    let sources = VarSources {
        lenient_unset: true,
        ..VarSources::default()
    };
    let checklist =
        load(&source, &sources, &env).map_err(|diags| CliError::invalid(diags, color))?;
    Ok((project.config, checklist))
}

pub(super) use crate::run::project::known_target;

/// Loads checklist `arg`, finds its item `id` and checks `--target`: what `signoff`, `waive`
/// and `approve` act on, or why there is none.
pub(super) fn load_item(
    config_path: Option<&Path>,
    color: ColorChoice,
    which: &ItemArgs,
) -> Result<(Config, Checklist, Item), CliError> {
    let (arg, id) = (which.checklist.as_str(), which.item.as_str());
    let (config, checklist) = load_checklist(config_path, color, arg)?;
    let Some(item) = checklist.item(id).cloned() else {
        return Err(CliError::usage(
            format!("no item `{id}` in checklist `{}`", checklist.name),
            Some(&format!("`prodcheck show {arg}` lists the items")),
        ));
    };
    known_target(&config, which.target.as_deref())?;
    Ok((config, checklist, item))
}

/// A state file could not be read or written.
pub(super) fn state_error(e: &StateError) -> CliError {
    CliError::state(e)
}
