//! `prodcheck approve` and the signing behind `signoff --key` / `waive --key`: the approver
//! signs a record with their SSH key, and it is checked at once as every run will check it.

use std::path::Path;

use crate::checklist::{Approval, Item};
use crate::cli::args::{ApproveArgs, ColorChoice, RequestKind};
use crate::error::CliError;
use crate::exit_code;
use crate::run::approval::{self, Record, Trust};
use crate::state::{Timestamp, signature, signoffs, waivers};

use super::lookup::{load_item, state_error};

/// A record that can be signed.
pub(super) trait Signable: Record {
    fn set_approval(&mut self, approver: Option<String>, signature: Option<String>);
    /// An unsigned record's author (`--by`).
    fn set_author(&mut self, by: String);
    /// The requester, when none was named: the approver asked themself.
    fn set_requester_default(&mut self, approver: &str);
}

/// Sign-offs and waivers carry the same approval fields (`by`, `requested_by`, `approved_by`,
/// `signature`).
macro_rules! signable {
    ($record:ty) => {
        impl Signable for $record {
            fn set_approval(&mut self, approver: Option<String>, signature: Option<String>) {
                self.approved_by = approver;
                self.signature = signature;
                self.by.clear();
            }
            fn set_author(&mut self, by: String) {
                self.by = by;
            }
            fn set_requester_default(&mut self, approver: &str) {
                self.requested_by
                    .get_or_insert_with(|| approver.to_string());
            }
        }
    };
}

signable!(crate::state::SignOff);
signable!(crate::state::Waiver);

/// The approver's principal: `--by`, else git `user.email`.
pub(super) fn approver(by: Option<&str>) -> Result<String, CliError> {
    if let Some(by) = by.map(str::trim).filter(|b| !b.is_empty()) {
        return Ok(by.to_string());
    }
    crate::state::signoffs::git_config("user.email").ok_or_else(|| {
        CliError::usage(
            "--key needs the approver's principal, and git `user.email` is not set",
            Some("pass `--by PRINCIPAL`, the name your key has in .prodcheck/allowed_signers"),
        )
    })
}

/// Signs `record` with `key` as `approver`, then checks it as a run would: the signature
/// against `allowed_signers`, the approver against the item's `approvers:` and `four_eyes`.
pub(super) fn sign<R: Signable>(
    record: &mut R,
    key: &Path,
    approver: String,
    approval: &Approval,
    trust: &Trust,
) -> Result<(), CliError> {
    record.set_approval(Some(approver.clone()), None);
    let payload = signature::canonical(R::KIND, &*record);
    let sig = signature::sign(key, &payload).map_err(|e| {
        CliError::usage(
            e,
            Some("--key takes a private key file, or a public key whose private half is loaded in ssh-agent"),
        )
    })?;
    record.set_approval(Some(approver.clone()), Some(sig));
    if let Some(problem) = approval::signature_problem(record, trust) {
        return Err(CliError::usage(
            format!("the signature would not count: {problem}"),
            Some(&format!(
                "add the key to {} as `{approver} <the contents of the .pub file>` (reviewed like any change), or pass the --by that owns it",
                trust.allowed_signers.display()
            )),
        ));
    }
    if let Some(problem) = approval::approval_problem(record, approval, &trust.groups) {
        return Err(CliError::usage(
            format!("the {} would not count: {problem}", R::LABEL),
            Some("ask one of the item's approvers to approve it (`prodcheck approve`)"),
        ));
    }
    Ok(())
}

/// Warns when an unsigned record is written for an item that counts only signed ones.
pub(super) fn note_unsigned(item: &Item, label: &str) {
    if item.approval.requires_signature() {
        eprintln!(
            "note: `{}` counts only signed {label}s by its approvers; this one is recorded but does not count until signed (`--key`) or requested (`--requested-by`) and approved",
            item.id
        );
    }
}

pub fn approve(
    config_path: Option<&Path>,
    color: ColorChoice,
    args: ApproveArgs,
) -> Result<u8, CliError> {
    let (config, checklist, item) = load_item(config_path, color, &args.which)?;
    let dir = &config.state_dir;
    let trust = Trust::load(dir).map_err(|e| state_error(&e))?;
    let mine = |c: &str, i: &str, t: Option<&str>, approved: Option<&str>| {
        c == checklist.name
            && i == item.id
            && t == args.which.target.as_deref()
            && approved.is_none()
    };
    let signoff = signoffs::load(dir)
        .map_err(|e| state_error(&e))?
        .into_iter()
        .find(|s| mine(&s.checklist, &s.item, s.target(), s.approved_by()));
    let waiver = waivers::load(dir)
        .map_err(|e| state_error(&e))?
        .into_iter()
        .find(|w| mine(&w.checklist, &w.item, w.target(), w.approved_by()));
    let kind = match (args.kind, &signoff, &waiver) {
        (Some(k), _, _) => k,
        (None, Some(_), None) => RequestKind::Signoff,
        (None, None, Some(_)) => RequestKind::Waiver,
        (None, Some(_), Some(_)) => {
            return Err(CliError::usage(
                format!(
                    "`{}` has both a pending sign-off and a pending waiver",
                    item.id
                ),
                Some("say which with `--kind signoff` or `--kind waiver`"),
            ));
        }
        (None, None, None) => RequestKind::Signoff,
    };
    let approver = approver(args.by.as_deref())?;
    let now = Timestamp::now();
    let missing = || {
        CliError::usage(
            format!(
                "no pending {} request for `{}` in `{}`",
                if kind == RequestKind::Waiver {
                    "waiver"
                } else {
                    "sign-off"
                },
                item.id,
                checklist.name
            ),
            Some(
                "the requester records one with `prodcheck signoff|waive … --requested-by PRINCIPAL`",
            ),
        )
    };
    match kind {
        RequestKind::Signoff => {
            let mut s = signoff.ok_or_else(missing)?;
            s.at = now;
            s.until = item.every().map(|e| now.plus(e));
            sign(&mut s, &args.key, approver.clone(), &item.approval, &trust)?;
            signoffs::record(dir, vec![s]).map_err(|e| state_error(&e))?;
        }
        RequestKind::Waiver => {
            let mut w = waiver.ok_or_else(missing)?;
            w.at = now;
            sign(&mut w, &args.key, approver.clone(), &item.approval, &trust)?;
            waivers::record(dir, w).map_err(|e| state_error(&e))?;
        }
    }
    println!(
        "approved `{}` in `{}` as {approver}, signed with {}\nrecorded in {} (commit it to the pull request)",
        item.id,
        checklist.name,
        args.key.display(),
        dir.display()
    );
    Ok(exit_code::OK)
}
