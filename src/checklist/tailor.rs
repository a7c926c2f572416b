//! What `prodcheck.yaml` changes about a checklist for one environment or target, without
//! forking it: `not_applicable:` (items that do not apply, with a reason) and `overrides:`
//! (severity, thresholds, probe parameters). The loader applies both at the node layer.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::diagnostic::Diagnostic;
use super::node::{Node, Pos, Value};
use super::source::Source;

/// The file index of `prodcheck.yaml` nodes in a composed checklist ([`Pos::src`]).
pub const CONFIG_SRC: u8 = 2;

/// One environment's or target's changes, with the file they come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tailoring {
    /// `prodcheck.yaml` (positions of the nodes below have `src` [`CONFIG_SRC`]).
    pub source: Option<Arc<Source>>,
    pub not_applicable: Vec<NotApplicable>,
    pub overrides: Vec<Override>,
    /// Every item id and tag of the checklists the project knows: a name found there but not
    /// in the checklist being loaded belongs to another checklist and is not a typo. Set only
    /// when there is something to apply (a fleet's 10,000 targets would each allocate one).
    pub known: Option<Arc<BTreeSet<String>>>,
}

/// `not_applicable: { item-or-tag: reason }`.
#[derive(Debug, Clone, PartialEq)]
pub struct NotApplicable {
    pub selector: String,
    pub reason: String,
    pub pos: Pos,
    /// `environment `staging``, `target `api-eu``.
    pub owner: String,
}

/// `overrides: { item-id: { severity: …, check: { param: … } } }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub item: String,
    /// The item id's key node.
    pub pos: Pos,
    pub body: Node,
    pub owner: String,
}

impl Tailoring {
    /// This tailoring with `other`'s entries after its own (a target's over its environment's).
    pub fn then(mut self, other: &Tailoring) -> Tailoring {
        self.source = other.source.clone().or(self.source);
        self.not_applicable
            .extend(other.not_applicable.iter().cloned());
        self.overrides.extend(other.overrides.iter().cloned());
        if self.known.is_none() {
            self.known = other.known.clone();
        }
        self
    }

    /// Whether `name` is an item id or tag of any checklist the project knows.
    pub fn knows(&self, name: &str) -> bool {
        self.known.as_ref().is_some_and(|k| k.contains(name))
    }

    pub fn is_empty(&self) -> bool {
        self.not_applicable.is_empty() && self.overrides.is_empty()
    }

    /// `prodcheck.yaml:12` for a position in the config file.
    pub fn place(&self, pos: Pos) -> String {
        let file = self
            .source
            .as_ref()
            .map(|s| s.file.as_str())
            .unwrap_or("prodcheck.yaml");
        format!("{file}:{}", pos.line)
    }
}

/// Reads `not_applicable:` and `overrides:` of one environment or target (`owner` names it
/// in messages). Problems go to `errors`; a bad entry is left out.
pub fn parse_entry(
    key: &str,
    value: &Node,
    owner: &str,
    tailoring: &mut Tailoring,
    diag: &dyn Fn(Pos, String) -> Diagnostic,
    errors: &mut Vec<Diagnostic>,
) {
    let entries = match &value.value {
        Value::Map(entries) => entries.as_slice(),
        Value::Null => &[],
        _ => {
            let shape = if key == "not_applicable" {
                "a mapping of item ids or tags to reasons (`websocket: no WebSocket endpoint`)"
            } else {
                "a mapping of item ids to the fields they change (`tls-certificate: { severity: warning }`)"
            };
            errors.push(diag(
                value.pos,
                format!(
                    "{owner}: `{key}` must be {shape}, not {}",
                    value.type_name()
                ),
            ));
            return;
        }
    };
    for (k, v) in entries {
        let name = k.scalar_text().unwrap_or_default();
        let pos = Pos {
            src: CONFIG_SRC,
            ..k.pos
        };
        if key == "not_applicable" {
            match v.scalar_text().filter(|r| !r.trim().is_empty()) {
                Some(reason) => tailoring.not_applicable.push(NotApplicable {
                    selector: name,
                    reason: reason.trim().to_string(),
                    pos,
                    owner: owner.to_string(),
                }),
                None => errors.push(
                    diag(
                        v.pos,
                        format!("{owner}: `not_applicable` entry `{name}` needs a reason"),
                    )
                    .hint(format!(
                        "say why it does not apply, so every report can show it: `{name}: no WebSocket endpoint on this service`"
                    )),
                ),
            }
        } else if matches!(v.value, Value::Map(_)) {
            tailoring.overrides.push(Override {
                item: name,
                pos,
                body: v.clone().in_source(CONFIG_SRC),
                owner: owner.to_string(),
            });
        } else {
            errors.push(
                diag(
                    v.pos,
                    format!(
                        "{owner}: the override of `{name}` must be a mapping of item fields, not {}",
                        v.type_name()
                    ),
                )
                .hint("write `overrides: { ITEM: { severity: warning, check: { PARAM: VALUE } } }`"),
            );
        }
    }
}
