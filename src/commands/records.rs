//! `prodcheck validate` on the state directory: every sign-off and waiver is judged as a run
//! judges it (signature, approvers, four eyes), each problem at its `file:line`.

use std::collections::BTreeMap;
use std::path::Path;

use colored::Colorize;

use crate::checklist::{Checklist, VarSources, load};
use crate::config::Config;
use crate::run::approval::{self, Record, Trust};
use crate::state::{signoffs, waivers};
use crate::{catalog, state};

/// Prints every record that would not count; returns how many. `checklists`: those loaded
/// by name (others are found as `run NAME` would find them).
pub(super) fn check(config: &Config, mut checklists: BTreeMap<String, Option<Checklist>>) -> usize {
    let dir = &config.state_dir;
    let trust = match Trust::load(dir) {
        Ok(t) => t,
        Err(e) => {
            println!("{} {e}", "invalid".red().bold());
            return 1;
        }
    };
    let mut problems = 0;
    match signoffs::load(dir) {
        Ok(list) => problems += judge(&signoffs::path(dir), &list, config, &trust, &mut checklists),
        Err(e) => problems += unreadable(&e),
    }
    match waivers::load(dir) {
        Ok(list) => problems += judge(&waivers::path(dir), &list, config, &trust, &mut checklists),
        Err(e) => problems += unreadable(&e),
    }
    problems
}

fn unreadable(e: &state::StateError) -> usize {
    println!(
        "{} {e}\n  {}: {}",
        "invalid".red().bold(),
        "help".bold(),
        e.hint()
    );
    1
}

fn judge<R: Record>(
    file: &Path,
    records: &[R],
    config: &Config,
    trust: &Trust,
    checklists: &mut BTreeMap<String, Option<Checklist>>,
) -> usize {
    if records.is_empty() {
        return 0;
    }
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let lines = entry_lines(&text);
    let mut problems = 0;
    for (n, r) in records.iter().enumerate() {
        let checklist = checklists
            .entry(r.checklist().to_string())
            .or_insert_with(|| {
                let found = by_name(r.checklist(), config);
                if found.is_none() {
                    println!(
                        "  {}: checklist `{}` not found (pass its file to `validate`): only the signatures of its records are checked",
                        "note".cyan().bold(),
                        r.checklist()
                    );
                }
                found
            });
        let problem = approval::signature_problem(r, trust).or_else(|| match checklist {
            None => None,
            Some(c) => match c.item(r.item()) {
                None => Some(format!("checklist `{}` has no item `{}`", c.name, r.item())),
                Some(item) => approval::approval_problem(r, &item.approval, &trust.groups),
            },
        });
        let Some(problem) = problem else { continue };
        problems += 1;
        let line = lines.get(n).copied().unwrap_or(1);
        let target = r
            .target()
            .map(|t| format!(" for target `{t}`"))
            .unwrap_or_default();
        println!(
            "{}:{line}: {} the {} of `{}` in `{}`{target} by {} does not count: {problem}",
            file.display(),
            "rejected".red().bold(),
            R::LABEL,
            r.item(),
            r.checklist(),
            r.who(),
        );
    }
    if problems == 0 {
        println!(
            "{} {} ({} records, signatures checked)",
            "ok".green().bold(),
            file.display(),
            records.len()
        );
    }
    problems
}

/// The checklist a record names, loaded as `prodcheck show` would (`None`: not found, so only
/// its signature can be checked).
fn by_name(name: &str, config: &Config) -> Option<Checklist> {
    let source = catalog::resolve(name, &config.checklists_dir).ok()?;
    load(&source, &VarSources::for_reading(), &|n| {
        std::env::var(n).ok()
    })
    .ok()
}

/// The line of each list entry (`- checklist: …`) of a state file, in order.
fn entry_lines(text: &str) -> Vec<u32> {
    let dashes: Vec<(usize, usize)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("- ") || l.trim() == "-")
        .map(|(n, l)| (n, l.len() - l.trim_start().len()))
        .collect();
    let top = dashes.iter().map(|(_, indent)| *indent).min().unwrap_or(0);
    dashes
        .into_iter()
        .filter(|(_, indent)| *indent == top)
        .map(|(n, _)| n as u32 + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_are_found_at_the_list_indentation() {
        let text =
            "# header\nsignoffs:\n- checklist: a\n  note: |\n    - not an entry\n- checklist: b\n";
        assert_eq!(super::entry_lines(text), vec![3, 6]);
    }
}
