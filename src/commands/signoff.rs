//! `prodcheck signoff` and `prodcheck waive`: record a human decision about one item in the
//! committed state files. Both check that the checklist and item exist before writing.

use std::path::Path;

use crate::checklist::{Checklist, Item, ItemBody};
use crate::cli::args::{ColorChoice, SigningArgs, SignoffArgs, WaiveArgs};
use crate::config::Config;
use crate::run::approval::Trust;
use crate::state::{Day, SignOff, Timestamp, Waiver, signoffs, waivers};
use crate::text::affix;

use super::approve;
use super::lookup::{load_item, state_error};
use crate::exit_code;

use crate::error::CliError;

/// `` `item` in `checklist` for target `api` `` in a confirmation line.
fn which(item: &Item, checklist: &Checklist, target: Option<&str>) -> String {
    let target = affix(" for target `", target, "`");
    format!("`{}` in `{}`{target}", item.id, checklist.name)
}

/// Signs `record` with `--key`; without it, a request (`--requested-by`) or an unsigned record
/// by `--by` (which counts only for items that name no approvers). Gives who it is by, for
/// the confirmation line.
fn signed<R: approve::Signable>(
    record: &mut R,
    config: &Config,
    item: &Item,
    signing: &SigningArgs,
    by: Option<&str>,
) -> Result<String, CliError> {
    match signing.key.as_deref() {
        Some(key) => {
            let trust = Trust::load(&config.state_dir).map_err(|e| state_error(&e))?;
            let approver = approve::approver(by)?;
            record.set_requester_default(&approver);
            approve::sign(record, key, approver, &item.approval, &trust)?;
        }
        None if record.requested_by().is_some() => {}
        None => {
            record.set_author(signoffs::who(by));
            approve::note_unsigned(item, R::LABEL);
        }
    }
    Ok(describe(record))
}

/// `bob (requested by ada), signed` for the confirmation line; a request says what comes next.
fn describe<R: approve::Signable>(record: &R) -> String {
    match (record.approved_by(), record.requested_by()) {
        (Some(a), Some(r)) if a != r => format!("{a} (requested by {r}), signed"),
        (Some(a), _) => format!("{a}, signed"),
        (None, Some(r)) => format!(
            "nobody yet (requested by {r}; it counts once an approver runs `prodcheck approve {} {} --key KEY`)",
            record.checklist(),
            record.item()
        ),
        (None, None) => record.who().to_string(),
    }
}

pub fn signoff(
    config_path: Option<&Path>,
    color: ColorChoice,
    args: SignoffArgs,
) -> Result<u8, CliError> {
    let (config, checklist, item) = load_item(config_path, color, &args.which)?;
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
    let mut record = SignOff {
        checklist: checklist.name.clone(),
        item: item.id.clone(),
        target: args.which.target.clone(),
        by: String::new(),
        at: now,
        until: item.every().map(|e| now.plus(e)),
        note: args.note.filter(|n| !n.trim().is_empty()),
        requested_by: args.signing.requested_by.clone(),
        approved_by: None,
        signature: None,
    };
    let by = signed(
        &mut record,
        &config,
        &item,
        &args.signing,
        args.by.as_deref(),
    )?;
    let validity = match record.until {
        Some(until) => format!("valid until {until}"),
        None => "valid for the next run only (the item has no `every`)".into(),
    };
    signoffs::record(&config.state_dir, vec![record]).map_err(|e| state_error(&e))?;
    println!(
        "signed off {} by {by}, {validity}\nrecorded in {} (commit it so CI runs count it)",
        which(&item, &checklist, args.which.target.as_deref()),
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
    let (config, checklist, item) = load_item(config_path, color, &args.which)?;
    if args.risk.is_none() && (args.signing.key.is_some() || args.signing.requested_by.is_some()) {
        return Err(CliError::usage(
            "a signed or requested waiver needs --risk",
            Some("say what is at stake while the item is waived: `--risk low|medium|high`"),
        ));
    }
    let mut waiver = Waiver {
        checklist: checklist.name.clone(),
        item: item.id.clone(),
        target: args.which.target.clone(),
        by: String::new(),
        at: now,
        until,
        reason: args.reason.trim().to_string(),
        risk: args.risk,
        requested_by: args.signing.requested_by.clone(),
        approved_by: None,
        signature: None,
    };
    let by = signed(
        &mut waiver,
        &config,
        &item,
        &args.signing,
        args.by.as_deref(),
    )?;
    waivers::record(&config.state_dir, waiver).map_err(|e| state_error(&e))?;
    println!(
        "waived {} by {by} until {until} (end of day, UTC); after that it fails again\nrecorded in {} (commit it)",
        which(&item, &checklist, args.which.target.as_deref()),
        waivers::path(&config.state_dir).display()
    );
    Ok(exit_code::OK)
}
