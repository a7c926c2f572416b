//! `needs:` between items: each name resolved to item ids (an id first, else a tag), checked
//! where it is written — unknown names, manual items and cycles are diagnostics.

use std::collections::HashMap;

use super::Loader;
use crate::checklist::model::{ItemBody, Section};
use crate::checklist::node::{Node, Pos, Value};

/// One item's `needs:` as written: each name and where.
pub(super) struct Written {
    pub id: String,
    pub names: Vec<(String, Pos)>,
}

/// The names of an item's `needs:` list and their positions (`fallback` when not a list).
pub(super) fn written(id: &str, item: &Node, names: &[String], fallback: Pos) -> Option<Written> {
    if names.is_empty() {
        return None;
    }
    let positions: Vec<Pos> = match item.get("needs").map(|n| &n.value) {
        Some(Value::Seq(list)) => list.iter().map(|n| n.pos).collect(),
        _ => Vec::new(),
    };
    Some(Written {
        id: id.to_string(),
        names: names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), positions.get(i).copied().unwrap_or(fallback)))
            .collect(),
    })
}

/// Resolves every item's `needs:` into [`Item::depends_on`](crate::checklist::Item), then
/// reports cycles once each, at the name that closes them.
pub(super) fn resolve(l: &mut Loader, sections: &mut [Section], written: &[Written]) {
    let items: Vec<(String, Vec<String>, bool)> = sections
        .iter()
        .flat_map(|s| s.items.iter())
        .map(|i| {
            let manual = matches!(i.body, ItemBody::Manual(_));
            (i.id.clone(), i.tags.clone(), manual)
        })
        .collect();
    let mut resolved: HashMap<String, Vec<(String, Pos)>> = HashMap::new();
    for w in written {
        let mut ids: Vec<(String, Pos)> = Vec::new();
        for (name, pos) in &w.names {
            let matched: Vec<&(String, Vec<String>, bool)> =
                match items.iter().find(|(id, ..)| id == name) {
                    Some(one) => vec![one],
                    None => items
                        .iter()
                        .filter(|(id, tags, _)| id != &w.id && tags.contains(name))
                        .collect(),
                };
            if matched.is_empty() {
                l.at(
                    *pos,
                    format!("`needs`: no item or tag `{name}`"),
                    Some("`needs` names the ids or tags of other items in this checklist".into()),
                );
                continue;
            }
            for (id, _, manual) in matched {
                if *manual {
                    l.at(
                        *pos,
                        format!("`needs`: `{id}` is a manual item"),
                        Some("an item can only need automated items: they run first, manual items are asked last".into()),
                    );
                } else if !ids.iter().any(|(have, _)| have == id) {
                    ids.push((id.clone(), *pos));
                }
            }
        }
        resolved.insert(w.id.clone(), ids);
    }
    report_cycles(l, &items, &resolved);
    for item in sections.iter_mut().flat_map(|s| s.items.iter_mut()) {
        if let Some(ids) = resolved.get(&item.id) {
            item.depends_on = ids.iter().map(|(id, _)| id.clone()).collect();
        }
    }
}

/// A depth-first walk in checklist order; each back edge is one cycle, reported at the `needs`
/// entry that closes it (`a → b → a`).
fn report_cycles(
    l: &mut Loader,
    items: &[(String, Vec<String>, bool)],
    edges: &HashMap<String, Vec<(String, Pos)>>,
) {
    // 0 unvisited, 1 on the current path, 2 done.
    let mut mark: HashMap<&str, u8> = HashMap::new();
    for (start, ..) in items {
        if mark.get(start.as_str()).copied().unwrap_or(0) != 0 {
            continue;
        }
        // An explicit stack of (node, next edge index) keeps a long chain from overflowing.
        let mut path: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        mark.insert(start.as_str(), 1);
        while let Some((node, next)) = path.last().copied() {
            let out = edges.get(node).map(Vec::as_slice).unwrap_or(&[]);
            let Some((to, pos)) = out.get(next) else {
                mark.insert(node, 2);
                path.pop();
                continue;
            };
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            match mark.get(to.as_str()).copied().unwrap_or(0) {
                0 => {
                    mark.insert(to.as_str(), 1);
                    path.push((to.as_str(), 0));
                }
                1 => {
                    let from = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                    let mut chain: Vec<&str> = path[from..].iter().map(|(n, _)| *n).collect();
                    chain.push(to);
                    l.at(
                        *pos,
                        format!("`needs` cycle: {}", chain.join(" → ")),
                        Some(
                            "items that need each other can never run; drop one of these `needs`"
                                .into(),
                        ),
                    );
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checklist::load::load_text;

    #[test]
    fn needs_resolve_ids_and_tags_and_a_section_lends_its_needs() {
        let c = load_text(
            "name: t\nsections:\n  - name: Edge\n    items:\n      - id: dns\n        title: D\n        tags: [edge]\n        check: { tcp: { host: 127.0.0.1, port: 1 } }\n      - id: gateway\n        title: G\n        tags: [edge]\n        needs: [edge]\n        check: { tcp: { host: 127.0.0.1, port: 2 } }\n  - name: API\n    needs: [gateway]\n    items:\n      - id: users\n        title: U\n        check: { tcp: { host: 127.0.0.1, port: 3 } }\n      - id: own\n        title: O\n        needs: [dns, edge]\n        check: { tcp: { host: 127.0.0.1, port: 4 } }\n",
        )
        .expect("valid");
        let deps = |id: &str| c.item(id).map(|i| i.depends_on.clone()).unwrap_or_default();
        assert!(deps("dns").is_empty());
        // A tag the item itself carries names the others, not the item.
        assert_eq!(deps("gateway"), ["dns"]);
        assert_eq!(deps("users"), ["gateway"]);
        assert_eq!(
            deps("own"),
            ["dns", "gateway"],
            "each once, in checklist order"
        );
    }

    #[test]
    fn a_section_needing_one_of_its_own_items_is_a_cycle() {
        let errs = load_text(
            "name: t\nsections:\n  - name: S\n    needs: [a]\n    items:\n      - id: a\n        title: A\n        check: { tcp: { host: 127.0.0.1, port: 1 } }\n",
        )
        .expect_err("a needs itself");
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert_eq!(errs[0].message, "`needs` cycle: a → a");
        assert_eq!((errs[0].pos.line, errs[0].pos.col), (4, 13));
    }
}
