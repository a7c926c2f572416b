//! Composition at the node layer, before the typed load: `extends:` (a local checklist on top
//! of a shipped one, with `remove:` and `overrides:`), then `prodcheck.yaml`'s overrides and
//! `not_applicable:`. Nodes keep their own file's positions, so every later diagnostic (an
//! unknown field, a bad probe parameter) points into the file that wrote the value.

use std::collections::BTreeMap;

use super::super::hints::closest;
use super::super::node::{self, Node, Pos, Value};
use super::super::tailor::Tailoring;
use super::tree::{add_sections, get_mut, item_id, items, items_mut, merge_map, set, tags};
use super::{Loader, Source};

/// The file index of a base checklist's nodes ([`Pos::src`]).
pub(super) const BASE_SRC: u8 = 1;

/// The document to load, and what composing it changed.
#[derive(Default)]
pub(super) struct Composed {
    /// Item id → each change and where it came from (`severity = "warning" ← prodcheck.yaml:9`).
    pub notes: BTreeMap<String, Vec<String>>,
    /// Item id → why it does not apply, and who said so.
    pub not_applicable: BTreeMap<String, String>,
    /// Checklist-level notes: what it extends and what it removes.
    pub tailored: Vec<String>,
}

/// Composes `doc` (the file being loaded) with its base and the tailoring; problems go to `l`.
pub(super) fn compose(l: &mut Loader, doc: Node, tailoring: &Tailoring) -> (Node, Composed) {
    let mut out = Composed::default();
    let file = l.source.file.clone();
    let mut doc = match doc.entry("extends") {
        Some((_, base)) => match extend(l, &doc, base, &mut out) {
            Some(merged) => merged,
            None => strip(doc),
        },
        None => {
            for key in ["remove", "overrides"] {
                if let Some((k, _)) = doc.entry(key) {
                    l.at(
                        k.pos,
                        format!("`{key}` changes a base checklist, and this one has no `extends:`"),
                        Some("add `extends: pre-deploy` (a shipped checklist), or edit the items in this file directly".into()),
                    );
                }
            }
            strip(doc)
        }
    };
    // The file's own `overrides:` (only with `extends:`), then prodcheck.yaml's.
    if let Some(local) = l.local_overrides.take() {
        for (key, body) in local {
            let id = key.scalar_text().unwrap_or_default();
            let origin = |pos: Pos| format!("{file}:{}", pos.line);
            if !override_item(l, &mut doc, &id, &body, &origin, &mut out) {
                unknown(l, &doc, key.pos, &id, "`overrides`", "this checklist");
            }
        }
    }
    for ov in &tailoring.overrides {
        let origin = |pos: Pos| format!("{} ({})", tailoring.place(pos), ov.owner);
        if !override_item(l, &mut doc, &ov.item, &ov.body, &origin, &mut out)
            && !tailoring.knows(&ov.item)
        {
            let what = format!("{}: `overrides`", ov.owner);
            unknown(l, &doc, ov.pos, &ov.item, &what, "any checklist");
        }
    }
    for na in &tailoring.not_applicable {
        let matched: Vec<String> = items(&doc)
            .filter(|item| {
                item_id(item).as_deref() == Some(na.selector.as_str())
                    || tags(item).contains(&na.selector)
            })
            .filter_map(item_id)
            .collect();
        if matched.is_empty() && !tailoring.knows(&na.selector) {
            let what = format!("{}: `not_applicable`", na.owner);
            unknown(l, &doc, na.pos, &na.selector, &what, "any checklist");
        }
        let why = format!("{} ({}, {})", na.reason, tailoring.place(na.pos), na.owner);
        // An entry naming the item itself wins over one naming its tag.
        let by_id = items(&doc).any(|i| item_id(i).as_deref() == Some(na.selector.as_str()));
        for id in matched {
            if by_id {
                out.not_applicable.insert(id, why.clone());
            } else {
                out.not_applicable.entry(id).or_insert_with(|| why.clone());
            }
        }
    }
    (doc, out)
}

/// The composition keys are consumed here; the typed load never sees them.
fn strip(mut doc: Node) -> Node {
    if let Value::Map(entries) = &mut doc.value {
        entries.retain(|(k, _)| !matches!(k.as_str(), Some("extends" | "remove" | "overrides")));
    }
    doc
}

/// `extends: NAME`: the shipped checklist NAME with this file's keys, sections, `remove:` and
/// (kept for [`compose`]) `overrides:` on top. `None` when the base is unknown.
fn extend(l: &mut Loader, local: &Node, base_node: &Node, out: &mut Composed) -> Option<Node> {
    let names: Vec<&str> = crate::catalog::SHIPPED.iter().map(|(n, _)| *n).collect();
    let name = base_node.as_str().unwrap_or_default();
    let Some((_, text)) = crate::catalog::SHIPPED.iter().find(|(n, _)| *n == name) else {
        let suggestion = closest(name, &names)
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        let found = match base_node.as_str() {
            Some(n) => format!("unknown base checklist `{n}`"),
            None => format!(
                "`extends` names a shipped checklist, found {}",
                base_node.type_name()
            ),
        };
        l.at(
            base_node.pos,
            found,
            Some(format!(
                "{suggestion}`extends` takes a shipped checklist: {}",
                names.join(", ")
            )),
        );
        return None;
    };
    let base_source = Source {
        file: format!("builtin:{name}"),
        text: (*text).to_string(),
    };
    let mut merged = node::parse(text).ok()?.in_source(BASE_SRC);
    l.base = Some(std::sync::Arc::new(base_source));
    l.extends_line = local.entry("extends").map(|(k, _)| k.pos.line);
    out.tailored.push(format!(
        "extends `{name}` (builtin:{name}): its later changes apply"
    ));
    let Value::Map(entries) = &local.value else {
        return Some(merged);
    };
    for (k, v) in entries {
        match k.as_str() {
            Some("extends") => {}
            Some("overrides") => match &v.value {
                Value::Map(list) => l.local_overrides = Some(list.clone()),
                Value::Null => {}
                _ => l.at(
                    v.pos,
                    format!(
                        "`overrides` must be a mapping of item ids to the fields they change, found {}",
                        v.type_name()
                    ),
                    Some("write `overrides: { tls-certificate: { severity: warning } }`".into()),
                ),
            },
            Some("remove") => remove(l, &mut merged, v, name, out),
            Some("vars") => merge_map(&mut merged, k, v),
            Some("sections") => add_sections(&mut merged, v),
            _ => set(&mut merged, k.clone(), v.clone()),
        }
    }
    Some(merged)
}

/// `remove: [ids]`: drops items of the base (a section left empty goes too).
fn remove(l: &mut Loader, doc: &mut Node, list: &Node, base: &str, out: &mut Composed) {
    let entries = match &list.value {
        Value::Seq(entries) => entries.clone(),
        Value::Null => return,
        _ => {
            l.at(
                list.pos,
                format!(
                    "`remove` must be a list of item ids, found {}",
                    list.type_name()
                ),
                Some("write `remove: [websocket-echo, bundle-size]`".into()),
            );
            return;
        }
    };
    for entry in entries {
        let id = entry.scalar_text().unwrap_or_default();
        let mut found = false;
        if let Some(Node {
            value: Value::Seq(sections),
            ..
        }) = get_mut(doc, "sections")
        {
            for section in sections.iter_mut() {
                if let Some(Node {
                    value: Value::Seq(items),
                    ..
                }) = get_mut(section, "items")
                {
                    let before = items.len();
                    items.retain(|i| item_id(i).as_deref() != Some(id.as_str()));
                    found |= items.len() != before;
                }
            }
            sections.retain(|s| !matches!(s.get("items").map(|i| &i.value), Some(Value::Seq(i)) if i.is_empty()));
        }
        if found {
            out.tailored.push(format!(
                "removes `{id}` ({}:{})",
                l.source.file, entry.pos.line
            ));
        } else {
            let doc_now = doc.clone();
            unknown(
                l,
                &doc_now,
                entry.pos,
                &id,
                "`remove`",
                &format!("`{base}`"),
            );
        }
    }
}

/// Applies one override to the item `id`; false when there is no such item.
fn override_item(
    l: &mut Loader,
    doc: &mut Node,
    id: &str,
    body: &Node,
    origin: &dyn Fn(Pos) -> String,
    out: &mut Composed,
) -> bool {
    let Some(item) = items_mut(doc)
        .into_iter()
        .find(|i| item_id(i).as_deref() == Some(id))
    else {
        return false;
    };
    let Value::Map(fields) = &body.value else {
        l.at(
            body.pos,
            format!(
                "the override of `{id}` must be a mapping of item fields, found {}",
                body.type_name()
            ),
            Some("write `ITEM: { severity: warning, check: { PARAM: VALUE } }`".into()),
        );
        return true;
    };
    let kind = match item.get("check").map(|c| &c.value) {
        Some(Value::Map(kinds)) => kinds
            .first()
            .and_then(|(k, _)| k.scalar_text())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let notes = out.notes.entry(id.to_string()).or_default();
    for (k, v) in fields {
        let key = k.scalar_text().unwrap_or_default();
        let shown = |name: &str, at: Pos, v: &Node| {
            format!(
                "{name} = {} ← {}",
                node::compact_json(&v.to_json()),
                origin(at)
            )
        };
        match key.as_str() {
            "id" => l.at(
                k.pos,
                format!("an override cannot change the id of `{id}`"),
                Some("remove the item with `remove:` and add a new one instead".into()),
            ),
            "check" | "manual" => {
                let Some(params) = block_params(item, &key) else {
                    let has = if key == "check" {
                        "manual"
                    } else {
                        "automated"
                    };
                    l.at(
                        k.pos,
                        format!("`{id}` is {has}: it has no `{key}` to override"),
                        Some("override the fields it has (`severity`, `title`, …)".into()),
                    );
                    continue;
                };
                // Checked by name here: the typed load of an unconfigured item (whose values
                // are placeholders) would not get as far as a misspelt parameter.
                let known = (key == "check").then(|| param_names(&kind)).flatten();
                match &v.value {
                    Value::Map(entries) => {
                        for (pk, pv) in entries {
                            let name = pk.scalar_text().unwrap_or_default();
                            if let Some(known) = known.as_ref().filter(|k| !k.contains(&name)) {
                                let refs: Vec<&str> = known.iter().map(String::as_str).collect();
                                let suggestion = closest(&name, &refs)
                                    .map(|n| format!("did you mean `{n}`? "))
                                    .unwrap_or_default();
                                l.at(
                                    pk.pos,
                                    format!("override of `{id}`: the `{kind}` probe has no parameter `{name}`"),
                                    Some(format!("{suggestion}its parameters: {}", refs.join(", "))),
                                );
                                continue;
                            }
                            notes.push(shown(&format!("{key}.{name}"), pk.pos, pv));
                            set(params, pk.clone(), pv.clone());
                        }
                    }
                    _ => l.at(
                        v.pos,
                        format!(
                            "`{key}` in an override is a mapping of the parameters it changes, found {}",
                            v.type_name()
                        ),
                        Some(format!("write `{key}: {{ PARAM: VALUE }}`")),
                    ),
                }
            }
            _ => {
                notes.push(shown(&key, k.pos, v));
                set(item, k.clone(), v.clone());
            }
        }
    }
    true
}

/// The parameter names of probe `kind` (from its JSON Schema); `None` for an unknown kind.
fn param_names(kind: &str) -> Option<Vec<String>> {
    let schema = checks::registry::schema(kind)?.to_value();
    let props = schema.get("properties")?.as_object()?;
    Some(props.keys().cloned().collect())
}

/// The parameters of an item's `check: { KIND: { … } }` (or its `manual: { … }`), made a
/// mapping if empty.
fn block_params<'n>(item: &'n mut Node, key: &str) -> Option<&'n mut Node> {
    let block = get_mut(item, key)?;
    let target = if key == "check" {
        match &mut block.value {
            Value::Map(kinds) if kinds.len() == 1 => &mut kinds[0].1,
            _ => return None,
        }
    } else {
        block
    };
    if target.value == Value::Null {
        target.value = Value::Map(Vec::new());
    }
    matches!(target.value, Value::Map(_)).then_some(target)
}

/// A name that matches nothing: a diagnostic with the closest id of the checklist.
fn unknown(l: &mut Loader, doc: &Node, pos: Pos, name: &str, what: &str, scope: &str) {
    let ids: Vec<String> = items(doc).filter_map(item_id).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let hint = match closest(name, &refs) {
        Some(id) => format!("did you mean `{id}`? `prodcheck show` lists the items"),
        None => "`prodcheck show CHECKLIST` lists the items and their tags".to_string(),
    };
    l.at(
        pos,
        format!("{what}: no item `{name}` in {scope}"),
        Some(hint),
    );
}
