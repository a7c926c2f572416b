//! Turns checklist text into a validated [`Checklist`], collecting *every* problem.
//!
//! Parse once into a node tree; check the top level and each section against the raw
//! structs; substitute variables per item; build each probe from its parameter block.
//! Each stage records diagnostics and carries on, so one run of `validate` shows them all.

pub use super::source::Source;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::diagnostic::Diagnostic;
use super::hints::{hint_for, tidy};
use super::model::{Checklist, Section};
use super::node::{self, DeError, Node, Pos, Value, from_node};
use super::raw::{RawChecklist, RawDefaults, RawSection};
use super::tailor::CONFIG_SRC;
use super::vars::{Scope, VarSources};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub(super) const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
const MAX_RETRIES: u32 = 10;

mod captures;
mod compose;
mod item;
mod needs;
mod stages;
mod tree;
use item::load_item;

struct Loader<'a> {
    source: &'a Source,
    /// The shipped checklist this one `extends:` (positions with `src` 1).
    base: Option<std::sync::Arc<Source>>,
    /// `prodcheck.yaml`, when it overrides items (positions with `src` 2).
    config: Option<std::sync::Arc<Source>>,
    /// This file's own `overrides:`, applied after `extends:` has built the items.
    local_overrides: Option<Vec<(Node, Node)>>,
    /// The line of `extends:` in this file.
    extends_line: Option<u32>,
    diags: Vec<Diagnostic>,
    /// Each item's `needs:` as written, resolved once every item is loaded.
    needs: Vec<needs::Written>,
    /// Each item's `capture:` and `${capture:…}` uses, checked once `needs:` are resolved.
    captures: Vec<captures::Written>,
}

impl Loader<'_> {
    fn at(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        let file = match pos.src {
            compose::BASE_SRC => self.base.as_deref(),
            CONFIG_SRC => self.config.as_deref(),
            _ => None,
        }
        .unwrap_or(self.source);
        let d = Diagnostic::new(&file.file, &file.text, pos, message).maybe_hint(hint);
        self.diags.push(d);
    }

    fn de_error(&mut self, fallback: Pos, err: DeError) {
        let hint = hint_for(&err.message);
        self.at(err.pos.unwrap_or(fallback), tidy(&err.message), hint);
    }

    /// The entries of the list `node` holds as `field`: an empty list is said at its place
    /// (`empty`: message and hint), and so is anything but a list (`how`: how to write one).
    fn entries<'n>(
        &mut self,
        node: &'n Node,
        field: &str,
        empty: (&str, &str),
        how: Option<&str>,
    ) -> &'n [Node] {
        let Value::Seq(list) = &node.value else {
            let found = format!("`{field}` must be a list, found {}", node.type_name());
            self.at(node.pos, found, how.map(str::to_string));
            return &[];
        };
        if list.is_empty() {
            self.at(node.pos, empty.0, Some(empty.1.to_string()));
        }
        list
    }
}

/// Loads and validates `source`. `env` reads the process environment (injected for tests).
pub fn load(
    source: &Source,
    sources: &VarSources,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Checklist, Vec<Diagnostic>> {
    let mut l = Loader {
        source,
        base: None,
        config: sources.tailoring.source.clone(),
        local_overrides: None,
        extends_line: None,
        diags: Vec::new(),
        needs: Vec::new(),
        captures: Vec::new(),
    };
    let doc = match node::parse(&source.text) {
        Ok(doc) => doc,
        Err(e) => {
            let hint = if e.message.contains("alias") {
                "checklists need no alias expansion this large; write the values out"
            } else {
                "fix the YAML syntax at this spot"
            };
            l.at(
                e.pos,
                format!("invalid YAML: {}", e.message),
                Some(hint.into()),
            );
            return Err(l.diags);
        }
    };
    if !matches!(doc.value, Value::Map(_)) {
        l.at(
            doc.pos,
            format!("a checklist must be a mapping, found {}", doc.type_name()),
            Some("start the file with `name:` and `sections:`".into()),
        );
        return Err(l.diags);
    }
    let extending = doc.get("extends").is_some();
    let (doc, composed) = compose::compose(&mut l, doc, &sources.tailoring);
    let raw = match from_node::<RawChecklist>(&doc) {
        Ok(raw) => Some(raw),
        Err(e) => {
            l.de_error(doc.pos, e);
            None
        }
    };
    let defaults = raw.as_ref().and_then(|r| r.defaults.as_ref());
    let stages = stages::load(&mut l, &doc, raw.as_ref());
    let stage_names: Vec<String> = stages.iter().map(|s| s.name.clone()).collect();
    let vars = mapping_entries(&mut l, doc.get("vars"), "vars");
    if let Some((pos, message, hint)) =
        super::conventions::misnamed(&vars, &sources.environment, &sources.cli)
    {
        l.at(pos, message, Some(hint));
    }
    let mut scope = Scope::new(vars, sources, env);

    let mut sections = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    match doc.get("sections") {
        Some(node) => {
            let empty = (
                "`sections` is empty: this checklist would check nothing",
                "add at least one section with items",
            );
            let how = "write `sections:` followed by `- name: …` entries";
            for section_node in l.entries(node, "sections", empty, Some(how)) {
                let ctx = SectionCtx {
                    defaults,
                    stages: &stage_names,
                };
                if let Some(s) = load_section(&mut l, section_node, &ctx, &mut scope, &mut seen) {
                    sections.push(s);
                }
            }
        }
        None if !extending => l.at(
            doc.pos,
            "missing field `sections`",
            Some("add `sections:` with items, or `extends: pre-deploy` to build on a shipped checklist".into()),
        ),
        None => {}
    }
    let written = std::mem::take(&mut l.needs);
    needs::resolve(&mut l, &mut sections, &written);
    let flows = std::mem::take(&mut l.captures);
    captures::resolve(&mut l, &mut sections, &flows);

    if !l.diags.is_empty() {
        // A substituted secret can surface in a message ("invalid type: string …").
        let redactor = crate::redact::Redactor::new(&scope.secrets);
        for d in &mut l.diags {
            d.message = redactor.redact(&d.message);
            d.hint = d.hint.as_deref().map(|h| redactor.redact(h));
        }
        l.diags.sort_by_key(|d| d.pos);
        l.diags.dedup();
        return Err(collapse_unset(l.diags));
    }
    let raw = raw.expect("no diagnostics implies the raw checklist parsed");
    let title = raw.title.map(|t| substitute_text(&mut scope, &t));
    let mut composed = composed;
    for item in sections.iter_mut().flat_map(|s| s.items.iter_mut()) {
        item.overridden = composed.notes.remove(&item.id).unwrap_or_default();
        item.not_applicable = composed.not_applicable.remove(&item.id);
    }
    Ok(Checklist {
        name: raw.name,
        title,
        description: raw.description,
        file: source.file.clone(),
        sections,
        stages,
        secrets: scope.secrets.into_iter().collect(),
        tailored: composed.tailored,
        composed_from: [
            l.base.map(|b| (compose::BASE_SRC, b)),
            l.config.map(|c| (CONFIG_SRC, c)),
        ]
        .into_iter()
        .flatten()
        .collect(),
    })
}

fn substitute_text(scope: &mut Scope, text: &str) -> String {
    let node = Node::new(Pos::default(), Value::Str(text.to_string()));
    let mut ignored = Vec::new();
    scope
        .substitute(&node, &mut ignored)
        .scalar_text()
        .unwrap_or_else(|| text.to_string())
}

fn mapping_entries(l: &mut Loader, node: Option<&Node>, what: &str) -> BTreeMap<String, Node> {
    match node {
        None
        | Some(Node {
            value: Value::Null, ..
        }) => BTreeMap::new(),
        Some(Node {
            value: Value::Map(entries),
            ..
        }) => entries
            .iter()
            .filter_map(|(k, v)| k.scalar_text().map(|name| (name, v.clone())))
            .collect(),
        Some(other) => {
            l.at(
                other.pos,
                format!(
                    "`{what}` must be a mapping of names to values, found {}",
                    other.type_name()
                ),
                None,
            );
            BTreeMap::new()
        }
    }
}

/// What a section's items inherit.
struct SectionCtx<'a> {
    defaults: Option<&'a RawDefaults>,
    /// Every stage the checklist declares.
    stages: &'a [String],
}

fn load_section(
    l: &mut Loader,
    node: &Node,
    ctx: &SectionCtx,
    scope: &mut Scope,
    seen: &mut HashMap<String, u32>,
) -> Option<Section> {
    let raw = match from_node::<RawSection>(node) {
        Ok(raw) => Some(raw),
        Err(e) => {
            l.de_error(node.pos, e);
            None
        }
    };
    let mut items = Vec::new();
    let empty = ("section has no items", "add items or remove the section");
    let list = match node.get("items") {
        Some(items_node) => l.entries(items_node, "items", empty, None),
        None => &[],
    };
    let section_stages = raw
        .as_ref()
        .and_then(|r| r.stages.clone())
        .unwrap_or_default();
    let (section_approvers, section_four_eyes) = raw
        .as_ref()
        .map(|r| (r.approvers.clone(), r.four_eyes))
        .unwrap_or_default();
    for item_node in list {
        if let Some(mut item) = load_item(l, item_node, ctx, scope, seen) {
            if item_node.get("stages").is_none() {
                item.stages = section_stages.clone();
            }
            if item_node.get("needs").is_none()
                && let Some(r) = &raw
                && let Some(w) = needs::written(&item.id, node, &r.needs, node.pos)
            {
                l.needs.push(w);
            }
            if item_node.get("approvers").is_none() {
                item.approval.approvers = section_approvers.clone().unwrap_or_default();
            }
            if item_node.get("four_eyes").is_none() {
                item.approval.four_eyes = section_four_eyes.unwrap_or(false);
            }
            items.push(item);
        }
    }
    if let Some(r) = &raw
        && let Some(names) = &r.stages
    {
        stages::check_names(l, node.get("stages"), names, ctx.stages);
    }
    Some(Section {
        name: raw?.name,
        items,
    })
}

pub(super) fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// One diagnostic per unset variable, at its first use, listing the other lines that use it:
/// an unconfigured shipped checklist would otherwise print one error per item.
pub fn collapse_unset(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut first: HashMap<String, (usize, Vec<u32>)> = HashMap::new();
    for d in diags {
        let unset = d.message.starts_with("variable `") && d.message.ends_with("` is not set");
        if unset && let Some((_, lines)) = first.get_mut(&d.message) {
            lines.push(d.pos.line);
            continue;
        }
        if unset {
            first.insert(d.message.clone(), (out.len(), Vec::new()));
        }
        out.push(d);
    }
    for (index, lines) in first.into_values() {
        if lines.is_empty() {
            continue;
        }
        let mut lines = lines;
        lines.dedup();
        let list: Vec<String> = lines.iter().map(u32::to_string).collect();
        let d = &mut out[index];
        d.message = format!("{} (also used on lines {})", d.message, list.join(", "));
    }
    out
}

/// A checklist from text, with no variables or environment: for the unit tests of every
/// module of the checklist format.
#[cfg(test)]
pub(crate) fn load_text(text: &str) -> Result<Checklist, Vec<Diagnostic>> {
    let source = Source {
        file: "t.yaml".into(),
        text: text.into(),
    };
    load(&source, &VarSources::default(), &|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::Severity;

    #[test]
    fn a_valid_checklist_loads_with_defaults() {
        let c = load_text(
            "name: t\nvars: { port: 8080 }\ndefaults: { timeout: 3s }\nsections:\n  - name: S\n    items:\n      - id: up\n        title: Up\n        check: { tcp: { host: 127.0.0.1, port: \"${port}\" } }\n      - id: docs\n        title: Docs\n        severity: info\n        manual: { how: Read them, every: 30d }\n",
        )
        .expect("valid");
        let items: Vec<_> = c.items().map(|(_, i)| i).collect();
        assert_eq!(items[0].timeout, Duration::from_secs(3));
        assert_eq!(items[0].kind(), "tcp");
        assert_eq!(items[1].severity, Severity::Info);
        assert_eq!(items[1].line, 10);
    }

    #[test]
    fn every_error_is_collected() {
        let errs = load_text(
            "name: t\ncolour: red\nsections:\n  - name: S\n    items:\n      - id: a\n        title: A\n        check: { tsl: {} }\n      - id: a\n        title: B\n        manual: { how: x }\n      - id: c\n        title: C\n      - id: d\n        title: D\n        timeout: soon\n        manual: { how: x }\n",
        )
        .expect_err("invalid");
        let messages: Vec<_> = errs
            .iter()
            .map(|d| format!("{}:{} {}", d.pos.line, d.pos.col, d.message))
            .collect();
        let expected = [
            "2:1 unknown field `colour`",
            "8:18 unknown probe kind `tsl`",
            "9:13 duplicate item id `a`",
            "neither `check` nor `manual`",
            "16:18 invalid duration",
        ];
        assert_eq!(messages.len(), expected.len(), "{messages:#?}");
        for (message, want) in messages.iter().zip(expected) {
            assert!(message.contains(want), "{want:?} in {messages:#?}");
        }
    }
}
