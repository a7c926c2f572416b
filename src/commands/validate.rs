//! `prodcheck validate PATH…`: load every checklist, run nothing, report every problem.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use colored::Colorize;

use crate::catalog;
use crate::checklist::{Source, VarSources, load};
use crate::cli::args::ColorChoice;
use crate::exit_code;

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

pub fn validate(config_path: Option<&Path>, paths: &[PathBuf]) -> Result<u8, CliError> {
    let color = if std::io::stderr().is_terminal() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(diags) => return Err(CliError::invalid(diags, color)),
    };
    let mut sources: Vec<Source> = Vec::new();
    if paths.is_empty() {
        for entry in catalog::list(&config.checklists_dir) {
            match catalog::resolve(&entry.name, &config.checklists_dir) {
                Ok(s) => sources.push(s),
                Err(e) => return Err(CliError::usage(&e, None)),
            }
        }
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
    // Secrets need not be set to validate: `${env:…}` becomes a placeholder.
    let vars = VarSources {
        lenient_env: true,
        lenient_unset: true,
        ..VarSources::default()
    };
    let mut failed = 0;
    for source in &sources {
        match load(source, &vars, &|name| std::env::var(name).ok()) {
            Ok(c) => {
                let n = c.items().count();
                println!(
                    "{} {} ({} sections, {n} items)",
                    "ok".green().bold(),
                    source.file,
                    c.sections.len()
                );
                for (var, items) in c.needs() {
                    println!(
                        "  {}: `{var}` has no default; set it per environment (or `--var {var}=…`) before a run. Needed by: {}",
                        "note".cyan().bold(),
                        items.join(", ")
                    );
                }
            }
            Err(diags) => {
                failed += 1;
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
    Ok(if failed > 0 {
        exit_code::USAGE
    } else {
        exit_code::OK
    })
}
