//! `prodcheck list` and `prodcheck show`: what checklists exist and what is in one.

use std::path::Path;

use colored::Colorize;

use crate::catalog;
use crate::cli::args::ColorChoice;
use crate::exit_code;
use crate::run::project::Project;
use crate::text::affix;

use crate::error::CliError;

pub fn list(config_path: Option<&Path>) -> Result<u8, CliError> {
    let config = Project::open(config_path, ColorChoice::Auto)?.config;
    for entry in catalog::list(&config.checklists_dir) {
        let title = catalog::resolve(&entry.name, &config.checklists_dir)
            .ok()
            .and_then(|s| crate::checklist::node::parse(&s.text).ok())
            .and_then(|n| n.get("title").and_then(|t| t.scalar_text()))
            .unwrap_or_default();
        println!(
            "{:<14} {:<40} {}",
            entry.name.bold(),
            title,
            entry.origin.dimmed()
        );
    }
    Ok(exit_code::OK)
}

pub fn show(
    config_path: Option<&Path>,
    name: &str,
    env: Option<&str>,
    target: Option<&str>,
) -> Result<u8, CliError> {
    let checklist = Project::open(config_path, ColorChoice::Auto)?.read(name, env, target)?;
    let title = affix(" — ", checklist.title.as_deref(), "");
    println!(
        "{}{title}\n{}",
        checklist.name.bold(),
        checklist.file.dimmed()
    );
    if let Some(d) = &checklist.description {
        println!("{}", d.trim());
    }
    for note in &checklist.tailored {
        println!("{}", note.dimmed());
    }
    if !checklist.stages.is_empty() {
        println!("\n{}", "Stages".bold().underline());
        let name_w = checklist
            .stages
            .iter()
            .map(|s| s.name.chars().count())
            .max()
            .unwrap_or(0);
        for stage in &checklist.stages {
            let watch = match (stage.watch, stage.every) {
                (None, None) => String::new(),
                (w, e) => format!(
                    " (watch {}, every {})",
                    w.map(cadence).unwrap_or_else(|| "10m".into()),
                    e.map(cadence).unwrap_or_else(|| "30s".into())
                ),
            };
            let items = checklist
                .items()
                .filter(|(_, i)| i.stages.contains(&stage.name))
                .count();
            println!(
                "  {:<name_w$}  {}{}",
                stage.name,
                stage.title.as_deref().unwrap_or(""),
                format!(" — {items} items{watch}").dimmed()
            );
        }
    }
    // Column widths from the longest value of the whole checklist, so columns line up
    // across sections whatever the names (`redirect_https`, long ids).
    let items: Vec<_> = checklist.items().map(|(_, i)| i).collect();
    let width = |f: &dyn Fn(&crate::checklist::Item) -> usize| {
        items.iter().map(|i| f(i)).max().unwrap_or(0)
    };
    let (id_w, kind_w, sev_w) = (
        width(&|i| i.id.chars().count()),
        width(&|i| i.kind().chars().count()),
        width(&|i| i.severity.as_str().len()),
    );
    for section in &checklist.sections {
        println!("\n{}", section.name.bold().underline());
        for item in &section.items {
            let mut every = item
                .every()
                .map(|e| format!(", every {}", cadence(e)))
                .unwrap_or_default();
            if let Some(s) = item.sustain {
                every.push_str(&format!(", trigger for {}", cadence(s)));
            }
            if let Some(w) = item.wait {
                every.push_str(&format!(", waits {}", cadence(w.within)));
            }
            if !item.stages.is_empty() {
                every.push_str(&format!(", stages {}", item.stages.join(" ")));
            }
            if !item.depends_on.is_empty() {
                every.push_str(&format!(", needs {}", item.depends_on.join(" ")));
            }
            let tags = if item.tags.is_empty() {
                String::new()
            } else {
                format!(" #{}", item.tags.join(" #"))
            };
            println!(
                "  {:<id_w$}  {:<kind_w$}  {:<sev_w$}  {}{}",
                item.id,
                item.kind(),
                item.severity.as_str(),
                item.title,
                format!("{every}{tags}").dimmed()
            );
            let pad = " ".repeat(id_w + 4);
            if let Some(why) = &item.not_applicable {
                println!("{pad}{}", format!("not applicable: {why}").dimmed());
            }
            for change in &item.overridden {
                println!("{pad}{}", format!("overridden: {change}").cyan());
            }
        }
    }
    Ok(exit_code::OK)
}

/// A cadence as people write it: `90d`, `12h`, `30m`, never `2months 29days 2h 52m 48s`.
pub fn cadence(every: std::time::Duration) -> String {
    let secs = every.as_secs();
    match secs {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::cadence;
    use std::time::Duration;

    #[test]
    fn cadences_read_as_written() {
        assert_eq!(cadence(Duration::from_secs(90 * 86_400)), "90d");
        assert_eq!(cadence(Duration::from_secs(86_400)), "1d");
        assert_eq!(cadence(Duration::from_secs(6 * 3_600)), "6h");
        assert_eq!(cadence(Duration::from_secs(90)), "90s");
    }
}
