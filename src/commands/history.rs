//! `prodcheck history` and `prodcheck due`: read-only views of the run history and of which
//! items are due, for on-call routines and for checking what CI did.

use crate::error::CliError;
use std::path::Path;

use crate::status::Status;

use crate::cli::args::ColorChoice;
use crate::exit_code;
use crate::state::due::due_state;
use crate::state::{State, Timestamp, history};

use super::lookup::{known_target, load_checklist, state_error};

/// Which runs `prodcheck history` shows.
pub struct Filter {
    /// Only runs with this environment (`default`: runs without one).
    pub env: Option<String>,
    /// The runs against this target (`None`: runs without a target).
    pub target: Option<String>,
}

pub fn history(
    config_path: Option<&Path>,
    color: ColorChoice,
    arg: &str,
    filter: Filter,
    limit: usize,
) -> Result<u8, CliError> {
    let (config, checklist) = load_checklist(config_path, color, arg)?;
    let target = filter.target.as_deref();
    known_target(&config, target)?;
    let runs = match history::load_target(&config.state_dir, &checklist.name, target) {
        Ok(r) => r,
        Err(e) => return Err(state_error(&e)),
    };
    let path = history::target_path(&config.state_dir, &checklist.name, target);
    let wanted = filter.env.as_deref().map(|e| (e != "default").then_some(e));
    let runs: Vec<_> = runs
        .iter()
        .filter(|r| wanted.is_none_or(|w| r.environment.as_deref() == w))
        .collect();
    if runs.is_empty() {
        println!(
            "no runs of `{}` recorded yet ({} does not list any)",
            checklist.name,
            path.display()
        );
        return Ok(exit_code::OK);
    }
    println!(
        "{}: {} run(s) in {}, newest first",
        checklist.name,
        runs.len(),
        path.display()
    );
    for run in runs.iter().rev().take(limit) {
        let counts: Vec<String> = Status::ALL
            .iter()
            .filter_map(|s| {
                let n = run.items.iter().filter(|i| i.status == *s).count();
                (n > 0).then(|| format!("{n} {}", s.as_str()))
            })
            .collect();
        println!(
            "  {}  env {:<12} exit {:<3} {:>6.1}s  {}",
            run.started_at,
            run.environment.as_deref().unwrap_or("default"),
            run.exit_code,
            run.duration_ms as f64 / 1000.0,
            counts.join(", ")
        );
    }
    Ok(exit_code::OK)
}

pub fn due(
    config_path: Option<&Path>,
    color: ColorChoice,
    arg: &str,
    target: Option<&str>,
) -> Result<u8, CliError> {
    let (config, checklist) = load_checklist(config_path, color, arg)?;
    known_target(&config, target)?;
    let mut state = match State::load_for(&config.state_dir, &checklist.name, target) {
        Ok(s) => s,
        Err(e) => return Err(state_error(&e)),
    };
    // Only sign-offs that count make an item not due, as in a run.
    let (on_record, trust) =
        crate::run::approval::on_record(&config.state_dir).map_err(|e| state_error(&e))?;
    let mut judged = on_record.scoped(target);
    crate::run::approval::judge(&checklist, &mut judged, &trust);
    state.signoffs = judged.signoffs;
    let now = Timestamp::now();
    let states: Vec<_> = checklist
        .items()
        .map(|(_, item)| (item, due_state(&checklist.name, item, &state, now)))
        .collect();
    let due = states.iter().filter(|(_, d)| d.due).count();
    println!(
        "{}: {due} of {} item(s) due at {now}",
        checklist.name,
        states.len()
    );
    for (item, d) in states.iter().filter(|(_, d)| d.due) {
        println!("  due      {:<28} {}", item.id, d.describe());
    }
    for (item, d) in states.iter().filter(|(_, d)| !d.due) {
        println!("  not due  {:<28} {}", item.id, d.describe());
    }
    Ok(exit_code::OK)
}
