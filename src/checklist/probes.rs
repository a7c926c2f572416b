//! Turns a `check: { KIND: { params } }` block into a probe from the registry, with a
//! positioned problem for an unknown kind, a bad parameter or an unacceptable value.

use std::sync::Arc;

use checks::registry::{self, BuildError};

use super::hints::{closest, hint_for, tidy};
use super::model::Check;
use super::node::{Node, NodeDe, Pos, Value};

/// Builds the probe of a `check:` block, reporting unknown kinds and bad parameters.
pub fn build_check_node(check: &Node) -> Result<Check, Vec<(Pos, String, Option<String>)>> {
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
    match registry::build(&kind, NodeDe(params_node)) {
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
        }),
        Some(Err(BuildError::Params(e))) => {
            let hint = hint_for(&e.message);
            Err(vec![(
                e.pos.unwrap_or(params.pos),
                format!("`{kind}` probe: {}", tidy(&e.message)),
                hint,
            )])
        }
        Some(Err(BuildError::Invalid(issues))) => Err(issues
            .into_iter()
            .map(|i| {
                let pos = params_node
                    .get(i.field)
                    .map(|n| n.pos)
                    .unwrap_or(params.pos);
                (pos, format!("`{kind}` probe: {}", i.message), i.hint)
            })
            .collect()),
    }
}
