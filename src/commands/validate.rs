//! `prodcheck validate PATH…`: load every checklist, run nothing, report every problem.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use colored::Colorize;

use crate::checklist::{Source, VarSources, load};
use crate::cli::args::ColorChoice;
use crate::exit_code;
use crate::run::project::Project;

use crate::error::{CliError, print_diagnostics};

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read directory `{}`: {e}", path.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        entries.sort();
        out.extend(entries);
        Ok(())
    } else if path.is_file() {
        out.push(path.to_path_buf());
        Ok(())
    } else {
        Err(format!(
            "`{}` is neither a file nor a directory",
            path.display()
        ))
    }
}

pub fn validate(
    config_path: Option<&Path>,
    paths: &[PathBuf],
    env: Option<&str>,
) -> Result<u8, CliError> {
    let color = if std::io::stderr().is_terminal() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    let project = Project::open(config_path, color)?;
    // Secrets need not be set to validate: `${env:…}` becomes a placeholder.
    // With `--env`, the environment's variables, overrides and `not_applicable:` apply.
    let vars = project.reading_vars(env, None)?;
    let config = project.config;
    let mut sources: Vec<Source> = Vec::new();
    if paths.is_empty() {
        sources = Project::sources_of(&config)?;
    } else {
        let mut files = Vec::new();
        for p in paths {
            if let Err(e) = collect(p, &mut files) {
                return Err(CliError::usage(&e, None));
            }
        }
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(text) => sources.push(Source {
                    file: f.display().to_string(),
                    text,
                }),
                Err(e) => {
                    return Err(CliError::usage(
                        format!("cannot read `{}`: {e}", f.display()),
                        None,
                    ));
                }
            }
        }
    }
    let mut failed = 0;
    let mut valid: Vec<Source> = Vec::new();
    // By name: the sign-offs and waivers on record are judged against these.
    let mut loaded = std::collections::BTreeMap::new();
    // A problem in prodcheck.yaml's overrides shows up once, not once per checklist.
    let mut printed = std::collections::HashSet::new();
    for source in &sources {
        match load(source, &vars, &|name| std::env::var(name).ok()) {
            Ok(c) => {
                valid.push(source.clone());
                let c = loaded.entry(c.name.clone()).or_insert(Some(c));
                let Some(c) = c.as_ref() else { continue };
                let n = c.items().count();
                println!(
                    "{} {} ({} sections, {n} items)",
                    "ok".green().bold(),
                    source.file,
                    c.sections.len()
                );
                if let Some(env) = env {
                    unconfigured(c, env);
                    continue;
                }
                for (var, items) in c.needs() {
                    println!(
                        "  {}: `{var}` has no default; until it is set per environment (or `--var {var}=…`) these items are unconfigured. Needed by: {}",
                        "note".cyan().bold(),
                        items.join(", ")
                    );
                }
            }
            Err(diags) => {
                failed += 1;
                let diags = once(diags, &mut printed);
                print_diagnostics(&diags, color);
                println!(
                    "{} {} ({} problems)",
                    "invalid".red().bold(),
                    source.file,
                    diags.len()
                );
            }
        }
    }
    // Every environment's and target's overrides must name real items and parameters, even
    // those not asked about.
    if env.is_none() {
        failed += check_tailorings(&config, &valid, color, &mut printed);
    }
    // The sign-offs and waivers on record, judged as a run judges them.
    failed += super::records::check(&config, loaded);
    Ok(if failed > 0 {
        exit_code::USAGE
    } else {
        exit_code::OK
    })
}

/// `validate --env NAME`: the items that would run `unconfigured` in that environment (and
/// why), and those it declares not applicable.
fn unconfigured(c: &crate::checklist::Checklist, env: &str) {
    let mut count = 0;
    for (_, item) in c.items() {
        if let Some(why) = &item.not_applicable {
            println!("  {} {}: {why}", "not applicable".dimmed(), item.id);
            continue;
        }
        let crate::checklist::ItemBody::Check(check) = &item.body else {
            continue;
        };
        if check.needs.is_empty() {
            continue;
        }
        count += 1;
        let vars: Vec<String> = check.needs.iter().map(|(v, _)| format!("`{v}`")).collect();
        println!(
            "  {} {}: {} not set",
            "unconfigured".yellow().bold(),
            item.id,
            vars.join(", ")
        );
    }
    if count > 0 {
        println!(
            "  {}: {count} item(s) would be unconfigured with `--env {env}` (gating like pending manual items); set their variables under `environments: {env}: vars:` (`prodcheck init --discover`), or declare them `not_applicable:` there",
            "note".cyan().bold()
        );
    }
}

/// Loads every source with the overrides of each environment and target that has some;
/// returns how many loads failed (their diagnostics printed).
fn check_tailorings(
    config: &crate::config::Config,
    sources: &[Source],
    color: ColorChoice,
    printed: &mut std::collections::HashSet<String>,
) -> usize {
    let mut owners: Vec<(String, crate::checklist::tailor::Tailoring)> = config
        .env_tailoring
        .keys()
        .map(|e| {
            (
                format!("environment `{e}`"),
                config.tailoring(Some(e), None),
            )
        })
        .collect();
    owners.extend(config.targets.iter().map(|t| {
        (
            format!("target `{}`", t.name),
            config.tailoring(None, Some(t)),
        )
    }));
    let mut failed = 0;
    for (owner, tailoring) in owners.into_iter().filter(|(_, t)| !t.is_empty()) {
        let vars = VarSources {
            tailoring,
            ..VarSources::for_reading()
        };
        for source in sources {
            if let Err(diags) = load(source, &vars, &|name| std::env::var(name).ok()) {
                failed += 1;
                let diags = once(diags, printed);
                print_diagnostics(&diags, color);
                let count = match diags.len() {
                    0 => "the problems above".to_string(),
                    n => format!("{n} problems"),
                };
                println!(
                    "{} {} with the overrides of {owner} ({count})",
                    "invalid".red().bold(),
                    source.file,
                );
            }
        }
    }
    failed
}

/// The diagnostics not printed yet (by location and message).
fn once(
    diags: Vec<crate::checklist::Diagnostic>,
    printed: &mut std::collections::HashSet<String>,
) -> Vec<crate::checklist::Diagnostic> {
    diags
        .into_iter()
        .filter(|d| printed.insert(format!("{} {}", d.location(), d.message)))
        .collect()
}
