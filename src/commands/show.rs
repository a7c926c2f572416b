//! `prodcheck list` and `prodcheck show`: what checklists exist and what is in one.

use std::path::Path;

use colored::Colorize;

use crate::catalog;
use crate::checklist::{ItemBody, VarSources, load};
use crate::cli::ColorChoice;
use crate::exit_code;

use super::run::usage_error;

pub fn list(config_path: Option<&Path>) -> u8 {
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(diags) => return crate::error::invalid(diags, ColorChoice::Auto),
    };
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
    exit_code::OK
}

pub fn show(config_path: Option<&Path>, name: &str) -> u8 {
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(diags) => return crate::error::invalid(diags, ColorChoice::Auto),
    };
    let source = match catalog::resolve(name, &config.checklists_dir) {
        Ok(s) => s,
        Err(e) => return usage_error(&e, None),
    };
    let vars = VarSources {
        lenient_env: true,
        lenient_unset: true,
        ..VarSources::default()
    };
    let checklist = match load(&source, &vars, &|n| std::env::var(n).ok()) {
        Ok(c) => c,
        Err(diags) => return crate::error::invalid(diags, ColorChoice::Auto),
    };
    let title = checklist
        .title
        .as_deref()
        .map(|t| format!(" — {t}"))
        .unwrap_or_default();
    println!(
        "{}{title}\n{}",
        checklist.name.bold(),
        checklist.file.dimmed()
    );
    if let Some(d) = &checklist.description {
        println!("{}", d.trim());
    }
    for section in &checklist.sections {
        println!("\n{}", section.name.bold().underline());
        for item in &section.items {
            let every = match &item.body {
                ItemBody::Manual(m) => m
                    .every
                    .map(|e| format!(", every {}", humantime::format_duration(e)))
                    .unwrap_or_default(),
                ItemBody::Check(_) => String::new(),
            };
            let tags = if item.tags.is_empty() {
                String::new()
            } else {
                format!(" #{}", item.tags.join(" #"))
            };
            println!(
                "  {:<32} {:<10} {:<9} {}{}",
                item.id,
                item.kind(),
                item.severity.as_str(),
                item.title,
                format!("{every}{tags}").dimmed()
            );
        }
    }
    exit_code::OK
}
