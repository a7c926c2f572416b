//! The project a command works in: `prodcheck.yaml` read once, checklist names resolved against
//! it, and the variables for *reading* a checklist (show, docs, validate, records), in one place.

use std::path::Path;

use crate::catalog;
use crate::checklist::{Checklist, Source, VarSources, load};
use crate::color::ColorChoice;
use crate::config::{self, Config};
use crate::error::CliError;

/// The hint every "no such checklist" error gives.
pub const LIST_HINT: &str = "`prodcheck list` shows the checklists it knows";

/// The configuration a command was started with.
pub struct Project {
    pub config: Config,
    /// How diagnostics about this project are printed.
    pub color: ColorChoice,
}

impl Project {
    /// Reads `prodcheck.yaml` (the given path, or the one found from the working directory).
    pub fn open(config_path: Option<&Path>, color: ColorChoice) -> Result<Project, CliError> {
        let config = config::load(config_path).map_err(|d| CliError::invalid(d, color))?;
        Ok(Project { config, color })
    }

    /// The checklist a name or path stands for (shipped, local, or a file).
    pub fn source(&self, arg: &str) -> Result<Source, CliError> {
        catalog::resolve(arg, &self.config.checklists_dir)
            .map_err(|e| CliError::usage(e, Some(LIST_HINT)))
    }

    /// Every checklist a configuration knows (shipped and local), by name.
    pub fn sources_of(config: &Config) -> Result<Vec<Source>, CliError> {
        catalog::list(&config.checklists_dir)
            .iter()
            .map(|entry| {
                catalog::resolve(&entry.name, &config.checklists_dir)
                    .map_err(|e| CliError::usage(e, Some(LIST_HINT)))
            })
            .collect()
    }

    /// `--env` and `--target` checked, then the variables a reader sees: the environment's or
    /// target's values and tailoring, with unset variables and `${env:…}` tolerated.
    pub fn reading_vars(
        &self,
        env: Option<&str>,
        target: Option<&str>,
    ) -> Result<VarSources, CliError> {
        check_environment(&self.config, env)?;
        let target = match target {
            Some(name) => Some(self.config.target(name).ok_or_else(|| {
                CliError::usage(
                    format!("--target `{name}`: no such target in prodcheck.yaml"),
                    Some(&target_hint(&self.config)),
                )
            })?),
            None => None,
        };
        let mut vars = VarSources::for_reading();
        vars.tailoring = self.config.tailoring(env, target);
        if let Some(t) = target {
            vars.environment = t.variables(&self.config.environments, env);
        } else if let Some(e) = env.and_then(|e| self.config.environments.get(e)) {
            vars.environment = e.clone();
        }
        Ok(vars)
    }

    /// Checklist `arg` loaded for reading under `env` / `target` (see [`Self::reading_vars`]).
    pub fn read(
        &self,
        arg: &str,
        env: Option<&str>,
        target: Option<&str>,
    ) -> Result<Checklist, CliError> {
        let source = self.source(arg)?;
        let vars = self.reading_vars(env, target)?;
        load(&source, &vars, &|n| std::env::var(n).ok())
            .map_err(|diags| CliError::invalid(diags, self.color))
    }
}

/// Which targets exist, for an error about one that does not.
fn target_hint(config: &Config) -> String {
    let known: Vec<String> = config.targets.iter().map(|t| t.name.clone()).collect();
    if known.is_empty() {
        "prodcheck.yaml defines no `targets:`".to_string()
    } else {
        format!(
            "known targets: {}",
            crate::fleet::select::shorten(&known, 20)
        )
    }
}

/// `--target NAME` must name a target of prodcheck.yaml (`None` passes).
pub fn known_target(config: &Config, target: Option<&str>) -> Result<(), CliError> {
    match target {
        Some(name) if config.target(name).is_none() => Err(CliError::usage(
            format!("--target `{name}`: no such target in prodcheck.yaml"),
            Some(&target_hint(config)),
        )),
        _ => Ok(()),
    }
}

/// `--env NAME` must name an environment of prodcheck.yaml (`None` passes).
pub fn check_environment(config: &Config, env: Option<&str>) -> Result<(), CliError> {
    let Some(env) = env else {
        return Ok(());
    };
    if config.environments.contains_key(env) {
        return Ok(());
    }
    let known: Vec<_> = config.environments.keys().cloned().collect();
    let where_ = config
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "no prodcheck.yaml found".into());
    Err(CliError::usage(
        format!("unknown environment `{env}` ({where_})"),
        Some(&if known.is_empty() {
            "define it under `environments:` in prodcheck.yaml (`prodcheck init` writes one)"
                .to_string()
        } else {
            format!("known environments: {}", known.join(", "))
        }),
    ))
}
