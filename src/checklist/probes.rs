//! Turns a `check: { KIND: { params } }` block into a probe from the registry, with a
//! positioned problem for an unknown kind, a bad parameter or an unacceptable value. The
//! network keys a kind takes are split off the block here, on the positioned nodes.

use std::collections::BTreeMap;
use std::sync::Arc;

use checks::registry::{self, BuildError};

use super::hints::{closest, hint_for, tidy};
use super::model::Check;
use super::node::{Node, NodeDe, Pos, Value};
use super::vars::{UnsetParam, unset_hint};

/// A positioned problem: where, what, and what to do.
pub type Problem = (Pos, String, Option<String>);

/// Builds the probe of a `check:` block, reporting unknown kinds and bad parameters.
pub fn build_check_node(check: &Node) -> Result<Check, Vec<Problem>> {
    let entries = match &check.value {
        Value::Map(entries) if entries.len() == 1 => entries,
        Value::Map(entries) if entries.len() > 1 => {
            let kinds: Vec<String> = entries
                .iter()
                .filter_map(|(k, _)| k.scalar_text())
                .collect();
            return Err(vec![(
                entries[1].0.pos,
                format!(
                    "`check` names {} probe kinds ({}); an item runs exactly one",
                    kinds.len(),
                    kinds.join(", ")
                ),
                Some("split it into one item per probe".into()),
            )]);
        }
        _ => {
            return Err(vec![(
                check.pos,
                format!(
                    "`check` must be a mapping with one probe kind, found {}",
                    check.type_name()
                ),
                Some(format!(
                    "write `check: {{ KIND: {{ … }} }}` with KIND one of: {}",
                    registry::KINDS.join(", ")
                )),
            )]);
        }
    };
    let (kind_node, params) = &entries[0];
    let kind = kind_node.scalar_text().unwrap_or_default();
    let empty = Node::new(params.pos, Value::Map(Vec::new()));
    let params_node = if matches!(params.value, Value::Null) {
        &empty
    } else {
        params
    };
    let net_keys = registry::net_keys(&kind);
    let (own, net) = split_off(params_node, net_keys);
    match registry::build(&kind, NodeDe(&own), NodeDe(&net)) {
        None => {
            let suggestion = closest(&kind, registry::KINDS)
                .map(|k| format!("did you mean `{k}`? "))
                .unwrap_or_default();
            Err(vec![(
                kind_node.pos,
                format!("unknown probe kind `{kind}`"),
                Some(format!(
                    "{suggestion}valid kinds: {}",
                    registry::KINDS.join(", ")
                )),
            )])
        }
        Some(Ok(probe)) => Ok(Check {
            kind,
            probe: Arc::from(probe),
            needs: Vec::new(),
            params: params_node.to_json(),
            flow: Default::default(),
        }),
        Some(Err(BuildError::Params(e))) => {
            let top_level = |pos| match &own.value {
                Value::Map(entries) => entries.iter().any(|(k, _)| k.pos == pos),
                _ => false,
            };
            let message = match e.pos {
                Some(pos) if top_level(pos) => with_net_keys(&e.message, net_keys),
                _ => e.message.clone(),
            };
            let hint = hint_for(&message);
            Err(vec![(
                e.pos.unwrap_or(params.pos),
                format!("`{kind}` probe: {}", tidy(&message)),
                hint,
            )])
        }
        Some(Err(BuildError::Invalid(issues))) => Err(issues
            .into_iter()
            .map(|i| {
                let field = params_node.get(i.field);
                let element = match (field.map(|f| &f.value), i.index) {
                    (Some(Value::Seq(items)), Some(n)) => items.get(n),
                    _ => None,
                };
                let pos = element.or(field).map(|n| n.pos).unwrap_or(params.pos);
                (pos, format!("`{kind}` probe: {}", i.message), i.hint)
            })
            .collect()),
    }
}

/// `params` split in two mappings, its positions kept: the entries whose key is not in
/// `keys` (the probe's own), and those whose key is (the network parameters).
fn split_off(params: &Node, keys: &[&str]) -> (Node, Node) {
    let empty = || Node::new(params.pos, Value::Map(Vec::new()));
    let Value::Map(entries) = &params.value else {
        return (params.clone(), empty());
    };
    let (net, own): (Vec<_>, Vec<_>) = entries
        .iter()
        .cloned()
        .partition(|(k, _)| k.as_str().is_some_and(|k| keys.contains(&k)));
    (
        Node::new(params.pos, Value::Map(own)),
        Node::new(params.pos, Value::Map(net)),
    )
}

/// serde's "unknown field …, expected one of …" names only the probe's own fields: the network
/// keys split off before belong in the list too, after `ca_file` where they have always stood.
fn with_net_keys(message: &str, keys: &[&str]) -> String {
    if keys.is_empty() || !message.starts_with("unknown field ") {
        return message.to_string();
    }
    let listed: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    let listed = listed.join(", ");
    match message.split_once("`ca_file`") {
        Some((head, tail)) => format!("{head}`ca_file`, {listed}{tail}"),
        None => format!("{message}, {listed}"),
    }
}

/// Builds an item's probe. A required parameter left out because its variable is unset is
/// reported as that variable (not as a missing field); in lenient mode (`validate`, `show`)
/// such an item gets a stand-in probe that names the variables it needs.
pub fn build_item_check(
    check: &Node,
    unset: &[UnsetParam],
    needed: &BTreeMap<String, Pos>,
    lenient: bool,
) -> Result<Check, Vec<Problem>> {
    let kind = || match &check.value {
        Value::Map(entries) => entries
            .first()
            .and_then(|(k, _)| k.scalar_text())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let params = || match &check.value {
        Value::Map(entries) => entries
            .first()
            .map(|(_, p)| p.to_json())
            .unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    };
    let unset_field = |message: &str| {
        unset
            .iter()
            // A dropped parameter cannot be badly valued: any problem that names it
            // ("missing field `url`", "neither `command` nor `shell` is set") is about its
            // absence.
            .find(|u| message.contains(&format!("`{}`", u.key)))
    };
    let built = build_check_node(check);
    if lenient && !needed.is_empty() {
        // Every unset variable the item cannot do without, in the order they appear: those
        // inside text, and a whole parameter (`url: ${prometheus_url}`) the probe requires.
        let mut vars: Vec<(String, Pos)> = needed.iter().map(|(v, p)| (v.clone(), *p)).collect();
        if let Err(problems) = &built {
            for u in problems.iter().filter_map(|(_, m, _)| unset_field(m)) {
                if !vars.iter().any(|(v, _)| *v == u.var) {
                    vars.push((u.var.clone(), u.pos));
                }
            }
        }
        vars.sort_by_key(|(_, p)| *p);
        return Ok(NeedsVars::check(kind(), vars, params()));
    }
    match built {
        Ok(c) => Ok(c),
        Err(problems) => {
            if lenient {
                let vars: Vec<(String, Pos)> = problems
                    .iter()
                    .filter_map(|(_, m, _)| unset_field(m).map(|u| (u.var.clone(), u.pos)))
                    .collect();
                if !vars.is_empty() {
                    return Ok(NeedsVars::check(kind(), vars, params()));
                }
            }
            Err(problems
                .into_iter()
                .map(|(pos, message, hint)| match unset_field(&message) {
                    Some(u) => (
                        u.pos,
                        format!("variable `{}` is not set", u.var),
                        Some(unset_hint(&u.var)),
                    ),
                    None => (pos, message, hint),
                })
                .collect())
        }
    }
}

/// The stand-in probe of an item whose target variables are unset, for commands that load a
/// checklist without running it. Running it would be a bug; it says what is missing.
#[derive(Debug)]
pub struct NeedsVars {
    pub vars: Vec<String>,
}

impl NeedsVars {
    fn check(kind: String, needs: Vec<(String, Pos)>, params: serde_json::Value) -> Check {
        let vars = needs.iter().map(|(v, _)| v.clone()).collect();
        Check {
            kind,
            probe: Arc::new(NeedsVars { vars }),
            needs,
            params,
            flow: Default::default(),
        }
    }
}

#[async_trait::async_trait]
impl checks::Probe for NeedsVars {
    async fn run(&self, _ctx: &checks::ProbeContext) -> checks::Outcome {
        checks::Outcome::error(format!(
            "not run: variables not set: {}",
            self.vars.join(", ")
        ))
    }
}
