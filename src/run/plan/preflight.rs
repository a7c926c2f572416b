//! The checks a run makes before anything is sent: every target's load problems, the
//! selectors and `--stage` against the checklist, the proxy setting, unset variables.

use checks::net::http::proxy::ProxySetting;

use super::RunOptions;
use crate::checklist::load::collapse_unset;
use crate::checklist::vars::unset_hint;
use crate::checklist::{Checklist, Diagnostic, ItemBody, Source, VarSources};
use crate::error::CliError;
use crate::fleet;
use crate::run::request::RunRequest;

/// Problems found per target: none is `Ok`; a fleet names the target of each.
pub fn diagnostics(
    problems: Vec<(String, Vec<Diagnostic>)>,
    fleet: bool,
    request: &RunRequest,
) -> Result<(), CliError> {
    if problems.is_empty() {
        return Ok(());
    }
    let diagnostics = if fleet {
        fleet::by_target(problems)
    } else {
        problems.into_iter().flat_map(|(_, d)| d).collect()
    };
    Err(CliError::invalid(diagnostics, request.color))
}

/// Every `--confirm`, `--only` and `--skip` name, and `--stage`, must exist in the checklist:
/// a typo must not silently run everything or nothing.
pub fn check_selectors(checklist: &Checklist, request: &RunRequest) -> Result<(), CliError> {
    let s = &request.selection;
    for (flag, names) in [
        ("--confirm", &s.confirm),
        ("--only", &s.only),
        ("--skip", &s.skip),
    ] {
        for name in names.iter() {
            let known = checklist
                .items()
                .any(|(_, i)| i.id == *name || (flag != "--confirm" && i.tags.contains(name)));
            if !known {
                let what = if flag == "--confirm" {
                    "item id"
                } else {
                    "item id or tag"
                };
                return Err(CliError::usage(
                    format!(
                        "{flag} `{name}`: no {what} `{name}` in checklist `{}`",
                        checklist.name
                    ),
                    Some(&format!(
                        "`prodcheck show {}` lists the items",
                        request.checklist_arg
                    )),
                ));
            }
        }
    }
    // A signed sign-off is the only confirmation of an item that names approvers.
    if let Some(item) = s
        .confirm
        .iter()
        .filter_map(|id| checklist.item(id))
        .find(|i| i.approval.requires_signature())
    {
        return Err(CliError::usage(
            format!(
                "--confirm `{}`: the item names approvers, so only a sign-off signed by one of them confirms it",
                item.id
            ),
            Some(&format!(
                "request one with `prodcheck signoff {} {} --requested-by PRINCIPAL`; an approver signs it with `prodcheck approve`",
                request.checklist_arg, item.id
            )),
        ));
    }
    if let Some(stage) = &s.stage
        && !checklist.stages.iter().any(|st| st.name == *stage)
    {
        let hint = if checklist.stages.is_empty() {
            format!(
                "checklist `{}` declares no `stages:`; run it without --stage, or add stages to it",
                checklist.name
            )
        } else {
            let names: Vec<&str> = checklist.stages.iter().map(|s| s.name.as_str()).collect();
            format!("its stages: {}", names.join(", "))
        };
        return Err(CliError::usage(
            format!(
                "--stage `{stage}`: no such stage in checklist `{}`",
                checklist.name
            ),
            Some(&hint),
        ));
    }
    Ok(())
}

/// The proxy for the run: `--proxy`, else the `proxy` variable of the environment or
/// `--var` (with `${env:…}` expanded), else the process environment's `*_PROXY`.
pub fn proxy_setting(flag: Option<&str>, sources: &VarSources) -> Result<ProxySetting, String> {
    if let Some(flag) = flag {
        return ProxySetting::parse(flag);
    }
    let Some(node) = sources
        .cli
        .get("proxy")
        .or_else(|| sources.environment.get("proxy"))
    else {
        return Ok(ProxySetting::Env);
    };
    let env = |name: &str| std::env::var(name).ok();
    let mut scope = crate::checklist::vars::Scope::new(Default::default(), sources, &env);
    let mut errors = Vec::new();
    let value = scope.substitute(node, &mut errors);
    if let Some(e) = errors.first() {
        return Err(format!("`proxy`: {}", e.message));
    }
    match value.scalar_text() {
        Some(text) => ProxySetting::parse(&text),
        None => Ok(ProxySetting::Env),
    }
}

/// One diagnostic per unset variable that a selected item needs, at its first use: the run
/// stops before anything is sent.
pub fn unset_targets(
    checklist: &Checklist,
    source: &Source,
    selection: &RunOptions,
) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = checklist
        .items()
        .filter(|(_, item)| selection.selects(item))
        .filter_map(|(_, item)| match &item.body {
            ItemBody::Check(c) => Some(&c.needs),
            ItemBody::Manual(_) => None,
        })
        .flatten()
        .map(|(var, pos)| {
            checklist
                .diagnostic_at(source, *pos, format!("variable `{var}` is not set"))
                .hint(unset_hint(var))
        })
        .collect();
    diags.sort_by_key(|d| d.pos);
    diags.dedup();
    collapse_unset(diags)
}
