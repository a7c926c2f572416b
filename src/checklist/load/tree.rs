//! The node-tree edits composition needs: items by id, setting and merging mapping keys,
//! joining sections. Positions are kept as they are, so each node still names its own file.

use super::super::node::{Node, Pos, Value};

/// Local sections: items of a section named like a base section join it; others are added.
pub(super) fn add_sections(doc: &mut Node, local: &Node) {
    let Value::Seq(local_sections) = &local.value else {
        set(doc, key_node("sections", local.pos), local.clone());
        return;
    };
    let Some(Node {
        value: Value::Seq(sections),
        ..
    }) = get_mut(doc, "sections")
    else {
        return;
    };
    for section in local_sections {
        let name = section.get("name").and_then(Node::scalar_text);
        let existing = sections
            .iter_mut()
            .find(|s| name.is_some() && s.get("name").and_then(Node::scalar_text) == name);
        match (existing, section.get("items")) {
            (
                Some(base),
                Some(Node {
                    value: Value::Seq(added),
                    ..
                }),
            ) => {
                if let Some(Node {
                    value: Value::Seq(items),
                    ..
                }) = get_mut(base, "items")
                {
                    items.extend(added.iter().cloned());
                }
            }
            _ => sections.push(section.clone()),
        }
    }
}

/// `vars:` of the file over the base's, name by name.
pub(super) fn merge_map(doc: &mut Node, key: &Node, local: &Node) {
    let Value::Map(entries) = &local.value else {
        set(doc, key.clone(), local.clone());
        return;
    };
    match get_mut(doc, "vars") {
        Some(
            base @ Node {
                value: Value::Map(_),
                ..
            },
        ) => {
            for (k, v) in entries {
                set(base, k.clone(), v.clone());
            }
        }
        _ => set(doc, key.clone(), local.clone()),
    }
}

pub(super) fn key_node(name: &str, pos: Pos) -> Node {
    Node::new(pos, Value::Str(name.to_string()))
}

/// Sets `key` in a mapping: replaces the value (keeping the entry's place) or appends it.
pub(super) fn set(map: &mut Node, key: Node, value: Node) {
    let Value::Map(entries) = &mut map.value else {
        return;
    };
    let name = key.scalar_text();
    match entries.iter_mut().find(|(k, _)| k.scalar_text() == name) {
        Some(entry) => *entry = (key, value),
        None => entries.push((key, value)),
    }
}

pub(super) fn get_mut<'n>(node: &'n mut Node, key: &str) -> Option<&'n mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

pub(super) fn item_id(item: &Node) -> Option<String> {
    item.get("id").and_then(Node::scalar_text)
}

pub(super) fn tags(item: &Node) -> Vec<String> {
    match item.get("tags").map(|t| &t.value) {
        Some(Value::Seq(tags)) => tags.iter().filter_map(Node::scalar_text).collect(),
        _ => Vec::new(),
    }
}

/// Every item node, in order.
pub(super) fn items(doc: &Node) -> impl Iterator<Item = &Node> {
    let sections = match doc.get("sections").map(|s| &s.value) {
        Some(Value::Seq(sections)) => sections.as_slice(),
        _ => &[],
    };
    sections
        .iter()
        .filter_map(|s| match s.get("items").map(|i| &i.value) {
            Some(Value::Seq(items)) => Some(items.iter()),
            _ => None,
        })
        .flatten()
}

pub(super) fn items_mut(doc: &mut Node) -> Vec<&mut Node> {
    let Some(Node {
        value: Value::Seq(sections),
        ..
    }) = get_mut(doc, "sections")
    else {
        return Vec::new();
    };
    sections
        .iter_mut()
        .filter_map(|s| match get_mut(s, "items") {
            Some(Node {
                value: Value::Seq(items),
                ..
            }) => Some(items.iter_mut()),
            _ => None,
        })
        .flatten()
        .collect()
}
