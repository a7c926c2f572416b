//! One item of a section: its raw fields checked, variables substituted, `needs:`, `capture:`,
//! `wait:` and sign-off settings read, and its probe built from the parameter block.

use std::collections::{BTreeMap, HashMap};

use crate::checklist::model::{Approval, Check, Item, ItemBody, Manual, Severity, Wait};
use crate::checklist::node::{Node, Pos, Value, from_node};
use crate::checklist::probes::build_item_check;
use crate::checklist::raw::RawItem;
use crate::checklist::vars::{Scope, UnsetParam};

use super::{DEFAULT_TIMEOUT, Loader, MAX_RETRIES, MAX_TIMEOUT, SectionCtx, is_kebab};
use super::{captures, compose, needs, stages};

pub(super) fn load_item(
    l: &mut Loader,
    node: &Node,
    ctx: &SectionCtx,
    scope: &mut Scope,
    seen: &mut HashMap<String, u32>,
) -> Option<Item> {
    let defaults = ctx.defaults;
    if !matches!(node.value, Value::Map(_)) {
        l.at(
            node.pos,
            format!("an item must be a mapping, found {}", node.type_name()),
            Some("write `- id: …` followed by `title:` and `check:` or `manual:`".into()),
        );
        return None;
    }
    // Substitute variables everywhere in the item except its id.
    scope.take_captures();
    let mut var_errors = Vec::new();
    let item_node = match &node.value {
        Value::Map(entries) => Node::new(
            node.pos,
            Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        if k.as_str() == Some("id") {
                            (k.clone(), v.clone())
                        } else {
                            (k.clone(), scope.substitute(v, &mut var_errors))
                        }
                    })
                    .collect(),
            ),
        ),
        _ => node.clone(),
    };
    let vars_ok = var_errors.is_empty();
    for e in var_errors {
        l.at(e.pos, e.message, Some(e.hint));
    }
    let (unset_params, needed) = scope.take_unset();
    let capture_uses = scope.take_captures();

    let raw = match from_node::<RawItem>(&item_node) {
        Ok(raw) => Some(raw),
        Err(e) => {
            l.de_error(node.pos, e);
            None
        }
    };

    if let Some((_, id_node)) = item_node.entry("id")
        && let Some(id) = id_node.scalar_text()
    {
        if !is_kebab(&id) {
            l.at(
                id_node.pos,
                format!("item id `{id}` is not kebab-case"),
                Some(
                    "use lowercase letters, digits and single dashes, like `tls-certificate`"
                        .into(),
                ),
            );
        }
        if let Some(first) = seen.get(&id) {
            let hint = if l.base.is_some() {
                format!(
                    "ids are unique in a checklist; `{id}` is already an item (line {first} of its file): change it with `overrides:`, or `remove:` it and add your own"
                )
            } else {
                format!("ids are unique in a checklist; `{id}` is first used on line {first}")
            };
            l.at(id_node.pos, format!("duplicate item id `{id}`"), Some(hint));
        } else {
            seen.insert(id, id_node.pos.line);
        }
    }

    let check_node = item_node.entry("check");
    let manual_node = item_node.entry("manual");
    let body = match (check_node, manual_node) {
        (Some(_), Some((mk, _))) => {
            l.at(
                mk.pos,
                "an item has either `check` or `manual`, not both",
                Some("split it into two items, or drop one of them".into()),
            );
            None
        }
        (None, None) => {
            l.at(node.pos, "item has neither `check` nor `manual`", Some("add `check: { KIND: { … } }` for a probe or `manual: { how: … }` for a human confirmation".into()));
            None
        }
        // Parameters with unresolved variables would only produce follow-on errors.
        (Some(_), None) if !vars_ok => None,
        (Some((_, check)), None) => {
            build_check(l, check, &unset_params, &needed, scope.lenient_unset())
                .map(ItemBody::Check)
        }
        (None, Some(_)) => raw.as_ref().and_then(|r| r.manual.as_ref()).map(|m| {
            ItemBody::Manual(Manual {
                how: m.how.trim().to_string(),
                every: m.every.map(|d| d.0),
            })
        }),
    };

    let raw = raw?;
    let mut body = body;
    if let Some(w) = captures::declare(
        l,
        &raw.id,
        &item_node,
        raw.capture.as_ref(),
        capture_uses,
        body.as_mut(),
    ) {
        l.captures.push(w);
    }
    if raw.every.is_some() && raw.manual.as_ref().is_some_and(|m| m.every.is_some()) {
        l.at(
            pos_of_key(&item_node, "every", node.pos),
            "`every` is given twice: on the item and under `manual:`",
            Some("keep one of them".into()),
        );
    }
    if let Some(docs) = &raw.docs
        && !(docs.starts_with("https://") || docs.starts_with("http://"))
    {
        l.at(
            pos_of_key(&item_node, "docs", node.pos),
            format!("`docs` must be a URL, found `{docs}`"),
            Some("write the full address, like `https://wiki.example/runbooks/tls`".into()),
        );
    }
    let timeout = raw
        .timeout
        .or(defaults.and_then(|d| d.timeout))
        .map(|d| d.0)
        .unwrap_or(DEFAULT_TIMEOUT);
    let retries = if raw.wait.is_some() {
        0
    } else {
        raw.retries
            .or(defaults.and_then(|d| d.retries))
            .unwrap_or(0)
    };
    let pos_of = |key: &str| item_node.get(key).map(|n| n.pos).unwrap_or(node.pos);
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        l.at(
            pos_of("timeout"),
            format!(
                "timeout {} is out of range",
                humantime::format_duration(timeout)
            ),
            Some("use a timeout between 1ms and 1h".into()),
        );
    }
    stages::check_item(l, &item_node, node.pos, &raw, ctx.stages);
    if let Some(w) = needs::written(&raw.id, &item_node, &raw.needs, node.pos) {
        l.needs.push(w);
    }
    if retries > MAX_RETRIES {
        l.at(
            pos_of("retries"),
            format!("{retries} retries is too many"),
            Some(format!("use at most {MAX_RETRIES} retries")),
        );
    }
    Some(Item {
        id: raw.id,
        title: raw.title,
        severity: raw
            .severity
            .or(defaults.and_then(|d| d.severity))
            .unwrap_or(Severity::Critical),
        tags: raw.tags,
        timeout,
        retries,
        retry_delay: raw.retry_delay.map(|d| d.0),
        // An item of the base reports at the `extends:` line that brought it in: reports locate
        // items in this checklist's own file.
        line: match (node.pos.src, l.extends_line) {
            (compose::BASE_SRC, Some(line)) => line,
            _ => node.pos.line,
        },
        fix: raw.fix.map(|f| f.trim().to_string()),
        docs: raw.docs,
        every: raw.every.map(|d| d.0),
        stages: raw.stages.unwrap_or_default(),
        sustain: raw.sustain.map(|d| d.0),
        wait: raw.wait.map(|w| Wait {
            within: w.within(),
            every: w.every(),
        }),
        depends_on: Vec::new(),
        body: body?,
        overridden: Vec::new(),
        not_applicable: None,
        approval: Approval {
            approvers: raw.approvers.unwrap_or_default(),
            four_eyes: raw.four_eyes.unwrap_or(false),
        },
    })
}

/// Where `key` of an item is, or the item itself.
fn pos_of_key(item: &Node, key: &str, fallback: Pos) -> Pos {
    item.get(key).map(|n| n.pos).unwrap_or(fallback)
}

fn build_check(
    l: &mut Loader,
    check: &Node,
    unset: &[UnsetParam],
    needed: &BTreeMap<String, Pos>,
    lenient: bool,
) -> Option<Check> {
    match build_item_check(check, unset, needed, lenient) {
        Ok(c) => Some(c),
        Err(problems) => {
            for (pos, message, hint) in problems {
                l.at(pos, message, hint);
            }
            None
        }
    }
}
