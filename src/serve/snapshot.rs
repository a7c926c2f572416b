//! What a scrape may name, loaded once at start and again on SIGHUP: the config, and every
//! served checklist validated for every environment and every target. Scrapes only look names
//! up in it. A target's checklist is loaded again for each scrape of it (a fraction of a
//! millisecond) rather than kept: a fleet of thousands stays a few megabytes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::checklist::{Checklist, Diagnostic, ItemBody, Source, VarSources, load};
use crate::{catalog, config};

/// A checklist loaded for one environment, with the unset variables its items need.
#[derive(Debug)]
pub struct Loaded {
    pub checklist: Checklist,
    /// Item id → unset variables: scrapes report such items as `error` instead of probing.
    pub unset: BTreeMap<String, Vec<String>>,
}

/// Everything a scrape can name. `None` as environment: the checklist's own defaults.
#[derive(Debug)]
pub struct Snapshot {
    pub config: config::Config,
    pub checklists: BTreeMap<(String, Option<String>), Arc<Loaded>>,
    /// Served checklist → its text (targets' checklists are loaded from it per scrape).
    sources: BTreeMap<String, Source>,
    /// Served checklist → the targets whose items need unset variables (for the log).
    targets_unset: BTreeMap<String, Vec<String>>,
    /// Served checklist → why it cannot be scraped without `env=`/`target=`: its variables come
    /// only from environments or targets, as `run` without `--env` would also refuse.
    bare_refused: BTreeMap<String, String>,
    /// Every `${env:…}` value of every served checklist, environment and target.
    pub secrets: Vec<String>,
}

/// Why a snapshot could not be loaded; nothing of it is used.
#[derive(Debug)]
pub enum LoadError {
    Invalid(Vec<Diagnostic>),
    Usage { message: String, hint: String },
}

impl LoadError {
    /// The whole explanation as text (for the log on a failed reload).
    pub fn render(&self) -> String {
        match self {
            LoadError::Invalid(diags) => diags.iter().map(Diagnostic::render).collect(),
            LoadError::Usage { message, hint } => format!("error: {message}\n  help: {hint}\n"),
        }
    }
}

impl Snapshot {
    /// Loads the config and the checklists named in `only` (empty: every known checklist).
    pub fn load(config_path: Option<&Path>, only: &[String]) -> Result<Snapshot, LoadError> {
        let config = config::load(config_path).map_err(LoadError::Invalid)?;
        let known: Vec<String> = catalog::list(&config.checklists_dir)
            .into_iter()
            .map(|e| e.name)
            .collect();
        for name in only {
            if !known.contains(name) {
                return Err(LoadError::Usage {
                    message: format!("--checklist `{name}`: no such checklist"),
                    hint: format!(
                        "known checklists: {} (local ones live in `{}`)",
                        known.join(", "),
                        config.checklists_dir.display()
                    ),
                });
            }
        }
        let served: Vec<&String> = known
            .iter()
            .filter(|n| only.is_empty() || only.contains(n))
            .collect();
        let mut envs: Vec<Option<String>> = vec![None];
        envs.extend(config.environments.keys().cloned().map(Some));
        let mut checklists = BTreeMap::new();
        let mut sources = BTreeMap::new();
        let mut targets_unset: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut secrets = Vec::new();
        let mut diags = Vec::new();
        let mut target_diags = Vec::new();
        let mut bare_refused = BTreeMap::new();
        // Without environments or targets, the checklist's own defaults are all a scrape can
        // use and must load; with them, a scrape names one (as `run --env`/`--target` would).
        let scoped = !config.environments.is_empty() || !config.targets.is_empty();
        for name in served {
            // A name from the catalog resolves to the local file or the embedded checklist,
            // never to an arbitrary path.
            let source =
                catalog::resolve(name, &config.checklists_dir).map_err(|e| LoadError::Usage {
                    message: e,
                    hint: "fix or remove the file, then reload (SIGHUP)".into(),
                })?;
            for env in &envs {
                let mut sources = VarSources {
                    lenient_unset: true,
                    ..VarSources::default()
                };
                if let Some(vars) = env.as_ref().and_then(|e| config.environments.get(e)) {
                    sources.environment = vars.clone();
                    sources.tailoring = config.tailoring(env.as_deref(), None);
                }
                match load(&source, &sources, &|n| std::env::var(n).ok()) {
                    Ok(checklist) => {
                        secrets.extend(checklist.secrets.iter().cloned());
                        let unset = unset_by_item(&checklist);
                        let loaded = Arc::new(Loaded { checklist, unset });
                        checklists.insert((name.clone(), env.clone()), loaded);
                    }
                    Err(d) if env.is_none() && scoped => {
                        let first = d.first().map_or(String::new(), |d| {
                            format!("{}: {}", d.location(), d.message)
                        });
                        bare_refused.insert(name.clone(), first);
                    }
                    Err(d) => diags.extend(d),
                }
            }
            // Validated now (all or nothing), loaded again when scraped.
            for target in &config.targets {
                match load_target(&source, &config, target) {
                    Ok(loaded) => {
                        secrets.extend(loaded.checklist.secrets.iter().cloned());
                        if !loaded.unset.is_empty() {
                            targets_unset
                                .entry(name.clone())
                                .or_default()
                                .push(target.name.clone());
                        }
                    }
                    Err(d) => target_diags.push((target.name.clone(), d)),
                }
            }
            sources.insert(name.clone(), source);
        }
        secrets.sort();
        secrets.dedup();
        diags.extend(crate::fleet::by_target(target_diags));
        if !diags.is_empty() {
            diags.dedup();
            return Err(LoadError::Invalid(diags));
        }
        Ok(Snapshot {
            config,
            checklists,
            sources,
            targets_unset,
            bare_refused,
            secrets,
        })
    }

    /// `checklist` loaded for the target `name` (`Ok(None)`: no such checklist or target;
    /// `Err`: it no longer loads, e.g. an `${env:…}` it reads went away since the start).
    pub fn get_target(&self, checklist: &str, name: &str) -> Result<Option<Loaded>, String> {
        let (Some(source), Some(target)) = (self.sources.get(checklist), self.config.target(name))
        else {
            return Ok(None);
        };
        load_target(source, &self.config, target)
            .map(Some)
            .map_err(|diags| {
                let first = diags.first().map_or(String::new(), |d| {
                    format!("{}: {}", d.location(), d.message)
                });
                format!("checklist `{checklist}` no longer loads for target `{name}`: {first}")
            })
    }

    /// The one-line reason for a 404 on target `name`.
    pub fn unknown_target(&self, name: &str) -> String {
        let known: Vec<String> = self.config.targets.iter().map(|t| t.name.clone()).collect();
        let known = (!known.is_empty()).then(|| crate::fleet::select::shorten(&known, 20));
        self.unknown("target", name, "targets", "--config names one", known)
    }

    /// The one-line reason for a 404 on the `what` (target, environment) `name` of the config:
    /// no config (`no_file` says how to get one), none under `section:`, or the `known` ones.
    fn unknown(
        &self,
        what: &str,
        name: &str,
        section: &str,
        no_file: &str,
        known: Option<String>,
    ) -> String {
        match (&self.config.path, known) {
            (None, _) => format!(
                "no {what} `{name}`: no {} was found ({no_file})",
                config::FILE_NAME
            ),
            (Some(path), None) => format!(
                "no {what} `{name}`: {} defines none (add it under `{section}:`)",
                path.display()
            ),
            (Some(path), Some(known)) => {
                format!("no {what} `{name}` in {}; known: {known}", path.display())
            }
        }
    }

    pub fn get(&self, checklist: &str, env: Option<&str>) -> Option<Arc<Loaded>> {
        self.checklists
            .get(&(checklist.to_string(), env.map(str::to_string)))
            .cloned()
    }

    pub fn has_checklist(&self, name: &str) -> bool {
        self.checklists.keys().any(|(n, _)| n == name)
    }

    /// Served checklist names, for error messages.
    pub fn checklist_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.checklists.keys().map(|(n, _)| n.clone()).collect();
        names.dedup();
        names
    }

    /// The one-line reason a scrape of `checklist` without `env=` or `target=` is refused
    /// (`None`: it is not refused for that).
    pub fn bare_refusal(&self, checklist: &str) -> Option<String> {
        let why = self.bare_refused.get(checklist)?;
        Some(format!(
            "checklist `{checklist}` needs an environment or a target ({why}): scrape with env=NAME ({}) or target=NAME",
            self.env_names()
                .unwrap_or_else(|| "none defined".to_string())
        ))
    }

    /// The config's environment names, comma-separated (`None`: it defines none).
    fn env_names(&self) -> Option<String> {
        let names: Vec<&str> = self
            .config
            .environments
            .keys()
            .map(String::as_str)
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }

    /// The one-line reason for a 404 on environment `env`.
    pub fn unknown_env(&self, env: &str) -> String {
        let known = self.env_names();
        let no_file = "`prodcheck init` writes one; --config names one";
        self.unknown("environment", env, "environments", no_file, known)
    }

    /// One line per checklist and environment whose items need unset variables, and one per
    /// checklist for all its targets that do.
    pub fn unset_summary(&self) -> Vec<String> {
        let mut lines = self.env_unset_summary();
        for (checklist, names) in &self.targets_unset {
            lines.push(format!(
                "{checklist}: {} target(s) have items that need unset variables ({}); scrapes report them as error",
                names.len(),
                crate::fleet::select::shorten(names, 10)
            ));
        }
        lines
    }

    fn env_unset_summary(&self) -> Vec<String> {
        self.checklists
            .iter()
            .filter(|(_, l)| !l.unset.is_empty())
            // With environments defined, scrapes name one: the bare checklist is not news.
            .filter(|((_, env), _)| env.is_some() || self.config.environments.is_empty())
            .map(|((name, env), l)| {
                let mut vars: Vec<&str> = l.unset.values().flatten().map(String::as_str).collect();
                vars.sort();
                vars.dedup();
                format!(
                    "{name} (env {}): {} item(s) need unset variables {}; scrapes report them as error",
                    env.as_deref().unwrap_or("none"),
                    l.unset.len(),
                    vars.join(", ")
                )
            })
            .collect()
    }
}

/// `source` loaded with `target`'s variables over its environment's.
fn load_target(
    source: &Source,
    config: &config::Config,
    target: &crate::fleet::Target,
) -> Result<Loaded, Vec<Diagnostic>> {
    let sources = VarSources {
        lenient_unset: true,
        environment: target.variables(&config.environments, None),
        tailoring: config.tailoring(None, Some(target)),
        ..VarSources::default()
    };
    let checklist = load(source, &sources, &|n| std::env::var(n).ok())?;
    let unset = unset_by_item(&checklist);
    Ok(Loaded { checklist, unset })
}

fn unset_by_item(checklist: &Checklist) -> BTreeMap<String, Vec<String>> {
    checklist
        .items()
        .filter_map(|(_, item)| match &item.body {
            ItemBody::Check(c) if !c.needs.is_empty() => Some((
                item.id.clone(),
                c.needs.iter().map(|(v, _)| v.clone()).collect(),
            )),
            _ => None,
        })
        .collect()
}
