//! `capture:` and `${capture:NAME}`: each declaration checked where it is written, and each
//! use checked against the items it (transitively) `needs` — the value exists only after they ran.

use std::collections::{BTreeMap, HashMap, HashSet};

use checks::capture::Capture;

use super::Loader;
use crate::checklist::model::{Flow, ItemBody, Section};
use crate::checklist::node::{Node, Pos, Value};

/// One item's captures and uses as written, checked once every item is loaded.
pub(super) struct Written {
    pub id: String,
    pub declared: Vec<(String, Pos)>,
    pub uses: Vec<(String, Pos)>,
}

/// Checks an item's `capture:` block, puts it and the item's uses into its check's [`Flow`],
/// and returns them for [`resolve`].
pub(super) fn declare(
    l: &mut Loader,
    id: &str,
    item: &Node,
    capture: Option<&BTreeMap<String, Capture>>,
    uses: Vec<(String, Pos)>,
    body: Option<&mut ItemBody>,
) -> Option<Written> {
    let block = item.entry("capture");
    let mut declared = Vec::new();
    let mut captures = Vec::new();
    if let (Some(map), Some((key, node))) = (capture, block) {
        let entries: &[(Node, Node)] = match &node.value {
            Value::Map(entries) => entries,
            _ => &[],
        };
        let pos_of = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .map(|(k, _)| k.pos)
                .unwrap_or(node.pos)
        };
        match &body {
            Some(ItemBody::Check(c)) if c.kind != "http" => l.at(
                key.pos,
                format!(
                    "`capture` reads an HTTP answer; a `{}` item has none",
                    c.kind
                ),
                Some("capture from an `http` item (a login request, say) and `need` it".into()),
            ),
            Some(ItemBody::Manual(_)) => l.at(
                key.pos,
                "`capture` on a manual item: there is no answer to capture from",
                Some("capture from an `http` item and `need` it".into()),
            ),
            _ => {}
        }
        if map.is_empty() {
            l.at(
                node.pos,
                "`capture` names no value",
                Some("write `capture: { token: { json: /token } }`, or drop it".into()),
            );
        }
        for (name, spec) in map {
            let pos = pos_of(name);
            if !valid_name(name) {
                l.at(
                    pos,
                    format!("capture name `{name}` is not a plain name"),
                    Some("use letters, digits, `_` and `-`, like `token`".into()),
                );
            }
            if let Err(why) = spec.check() {
                l.at(
                    pos,
                    format!("capture `{name}`: {why}"),
                    Some("write one of `{ json: /token }`, `{ header: X-Session }`, `{ regex: 'token=(\\w+)' }`, `{ cookie: sid }`".into()),
                );
            }
            declared.push((name.clone(), pos));
            captures.push((name.clone(), spec.clone()));
        }
    }
    if let Some(ItemBody::Check(check)) = body {
        let mut names: Vec<String> = Vec::new();
        for (name, _) in &uses {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        check.flow = Flow {
            captures,
            uses: names,
        };
    }
    if declared.is_empty() && uses.is_empty() {
        return None;
    }
    Some(Written {
        id: id.to_string(),
        declared,
        uses,
    })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks every `${capture:NAME}` against what is captured and what its item needs. An item
/// using a value whose capturing item is unconfigured is unconfigured too, for the same
/// variables (there will be no value to send).
pub(super) fn resolve(l: &mut Loader, sections: &mut [Section], written: &[Written]) {
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for w in written {
        for (name, pos) in &w.declared {
            match owner.get(name.as_str()) {
                Some(first) if *first != w.id => l.at(
                    *pos,
                    format!("capture `{name}` is already captured by `{first}`"),
                    Some("capture names are unique in a checklist: rename one of them".into()),
                ),
                _ => {
                    owner.insert(name, &w.id);
                }
            }
        }
    }
    let deps: HashMap<String, Vec<String>> = sections
        .iter()
        .flat_map(|s| s.items.iter())
        .map(|i| (i.id.clone(), i.depends_on.clone()))
        .collect();
    let unset: HashMap<String, Vec<(String, Pos)>> = sections
        .iter()
        .flat_map(|s| s.items.iter())
        .filter_map(|i| match &i.body {
            ItemBody::Check(c) if !c.needs.is_empty() => Some((i.id.clone(), c.needs.clone())),
            _ => None,
        })
        .collect();
    let mut inherited: HashMap<String, Vec<(String, Pos)>> = HashMap::new();
    for w in written.iter().filter(|w| !w.uses.is_empty()) {
        let reach = reachable(&w.id, &deps);
        for (name, pos) in &w.uses {
            let Some(from) = owner.get(name.as_str()) else {
                let mut known: Vec<&str> = owner.keys().copied().collect();
                known.sort_unstable();
                let hint = if known.is_empty() {
                    "no item declares `capture:`; add one to the item whose answer holds the value"
                        .to_string()
                } else {
                    format!("captured in this checklist: {}", known.join(", "))
                };
                l.at(*pos, format!("unknown capture `{name}`"), Some(hint));
                continue;
            };
            if *from == w.id {
                l.at(
                    *pos,
                    format!("`{}` uses `{name}`, which it captures itself", w.id),
                    Some("a captured value exists only after its item ran: use it in an item that needs this one".into()),
                );
            } else if !reach.contains(*from) {
                l.at(
                    *pos,
                    format!(
                        "capture `{name}` comes from `{from}`, which `{}` does not need",
                        w.id
                    ),
                    Some(format!(
                        "add `needs: [{from}]` to `{}`: it then runs after `{from}`, and only when it passed",
                        w.id
                    )),
                );
            } else if let Some(vars) = unset.get(*from) {
                let list = inherited.entry(w.id.clone()).or_default();
                for (var, _) in vars {
                    if !list.iter().any(|(v, _)| v == var) {
                        list.push((var.clone(), *pos));
                    }
                }
            }
        }
    }
    for item in sections.iter_mut().flat_map(|s| s.items.iter_mut()) {
        if let (Some(vars), ItemBody::Check(check)) = (inherited.remove(&item.id), &mut item.body) {
            for (var, pos) in vars {
                if !check.needs.iter().any(|(v, _)| *v == var) {
                    check.needs.push((var, pos));
                }
            }
        }
    }
}

/// Every item `id` needs, directly or through others.
fn reachable<'a>(id: &str, deps: &'a HashMap<String, Vec<String>>) -> HashSet<&'a str> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = deps
        .get(id)
        .map(|d| d.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(next) = stack.pop() {
        if seen.insert(next)
            && let Some(more) = deps.get(next)
        {
            stack.extend(more.iter().map(String::as_str));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use crate::checklist::load::{Source, load};
    use crate::checklist::vars::VarSources;
    use crate::checklist::{Checklist, Diagnostic, ItemBody};

    fn load_text(text: &str, lenient: bool) -> Result<Checklist, Vec<Diagnostic>> {
        let source = Source {
            file: "t.yaml".into(),
            text: text.into(),
        };
        let sources = VarSources {
            lenient_unset: lenient,
            ..Default::default()
        };
        load(&source, &sources, &|_| None)
    }

    const CHAIN: &str = "name: t\nvars: { login_url: ~ }\nsections:\n  - name: S\n    items:\n      - id: login\n        title: L\n        check: { http: { url: \"${login_url}\", method: POST } }\n        capture: { token: { json: /token } }\n      - id: mid\n        title: M\n        needs: [login]\n        check: { tcp: { host: 127.0.0.1, port: 1 } }\n      - id: api\n        title: A\n        needs: [mid]\n        check: { http: { url: \"http://127.0.0.1:1/?t=${capture:token}\" } }\n";

    #[test]
    fn a_value_reaches_an_item_through_a_chain_of_needs_and_an_unset_login_unconfigures_it() {
        let c = load_text(CHAIN, true).expect("valid");
        let check = |id: &str| match c.item(id).map(|i| &i.body) {
            Some(ItemBody::Check(check)) => check.clone(),
            other => panic!("{id}: {other:?}"),
        };
        assert_eq!(check("login").flow.captures.len(), 1);
        assert_eq!(check("api").flow.uses, ["token"]);
        let vars: Vec<String> = check("api").needs.into_iter().map(|(v, _)| v).collect();
        assert_eq!(vars, ["login_url"], "no login, no token to send");
        assert!(check("mid").needs.is_empty());
    }

    #[test]
    fn an_item_cannot_use_what_it_captures_itself() {
        let text = "name: t\nsections:\n  - name: S\n    items:\n      - id: login\n        title: L\n        check: { http: { url: \"http://127.0.0.1:1/?t=${capture:token}\" } }\n        capture: { token: { header: X-Token } }\n";
        let errs = load_text(text, false).expect_err("self use");
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert_eq!(
            errs[0].message,
            "`login` uses `token`, which it captures itself"
        );
    }
}
