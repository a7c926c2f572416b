//! `prodcheck signoff` and `prodcheck waive`: record a human decision about one item in the
//! committed state files. Both check that the checklist and item exist before writing.

use std::path::Path;

use crate::checklist::{Checklist, ItemBody, VarSources, load};
use crate::cli::args::{ColorChoice, SignoffArgs, WaiveArgs};
use crate::config::Config;
use crate::state::{Day, SignOff, StateError, Timestamp, Waiver, signoffs, waivers};
use crate::{catalog, config, exit_code};

use crate::error::CliError;

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

/// ` for target `api`` in a confirmation line.
fn for_target(target: Option<&str>) -> String {
    target
        .map(|t| format!(" for target `{t}`"))
        .unwrap_or_default()
}

fn unknown_item(checklist: &Checklist, arg: &str, item: &str) -> CliError {
    CliError::usage(
        format!("no item `{item}` in checklist `{}`", checklist.name),
        Some(&format!("`prodcheck show {arg}` lists the items")),
    )
}

pub fn signoff(
    config_path: Option<&Path>,
    color: ColorChoice,
    args: SignoffArgs,
) -> Result<u8, CliError> {
    let (config, checklist) = load_checklist(config_path, color, &args.checklist)?;
    let Some(item) = checklist.item(&args.item) else {
        return Err(unknown_item(&checklist, &args.checklist, &args.item));
    };
    known_target(&config, args.target.as_deref())?;
    if !matches!(item.body, ItemBody::Manual(_)) {
        return Err(CliError::usage(
            format!(
                "`{}` is an automated `{}` check; only manual items can be signed off",
                item.id,
                item.kind()
            ),
            Some("to accept a failing check for a while, use `prodcheck waive`"),
        ));
    }
    let now = Timestamp::now();
    let record = SignOff {
        checklist: checklist.name.clone(),
        item: item.id.clone(),
        target: args.target.clone(),
        by: signoffs::who(args.by.as_deref()),
        at: now,
        until: item.every().map(|e| now.plus(e)),
        note: args.note.filter(|n| !n.trim().is_empty()),
    };
    let validity = match record.until {
        Some(until) => format!("valid until {until}"),
        None => "valid for the next run only (the item has no `every`)".into(),
    };
    let by = record.by.clone();
    if let Err(e) = signoffs::record(&config.state_dir, vec![record]) {
        return Err(state_error(&e));
    }
    println!(
        "signed off `{}` in `{}`{} by {by}, {validity}\nrecorded in {} (commit it so CI runs count it)",
        item.id,
        checklist.name,
        for_target(args.target.as_deref()),
        signoffs::path(&config.state_dir).display()
    );
    Ok(exit_code::OK)
}

pub fn waive(
    config_path: Option<&Path>,
    color: ColorChoice,
    args: WaiveArgs,
) -> Result<u8, CliError> {
    let until = match Day::parse(&args.until) {
        Ok(d) => d,
        Err(e) => {
            return Err(CliError::usage(
                format!("--until: {e}"),
                Some("write the last day the waiver holds, e.g. `--until 2026-12-31`"),
            ));
        }
    };
    let now = Timestamp::now();
    if until < now.day() {
        return Err(CliError::usage(
            format!(
                "--until {until} is in the past (today is {} UTC)",
                now.day()
            ),
            Some("a waiver needs a future end date"),
        ));
    }
    if args.reason.trim().is_empty() {
        return Err(CliError::usage(
            "--reason is empty",
            Some("say why the failure is accepted; every report shows it"),
        ));
    }
    let (config, checklist) = load_checklist(config_path, color, &args.checklist)?;
    let Some(item) = checklist.item(&args.item) else {
        return Err(unknown_item(&checklist, &args.checklist, &args.item));
    };
    known_target(&config, args.target.as_deref())?;
    let waiver = Waiver {
        checklist: checklist.name.clone(),
        item: item.id.clone(),
        target: args.target.clone(),
        by: signoffs::who(args.by.as_deref()),
        at: now,
        until,
        reason: args.reason.trim().to_string(),
    };
    let by = waiver.by.clone();
    if let Err(e) = waivers::record(&config.state_dir, waiver) {
        return Err(state_error(&e));
    }
    println!(
        "waived `{}` in `{}`{} by {by} until {until} (end of day, UTC); after that it fails again\nrecorded in {} (commit it)",
        item.id,
        checklist.name,
        for_target(args.target.as_deref()),
        waivers::path(&config.state_dir).display()
    );
    Ok(exit_code::OK)
}
