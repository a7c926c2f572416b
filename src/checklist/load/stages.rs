//! The rollout parts of a checklist: its `stages:`, and on each item `stages`, `for:` (a
//! trigger of `watch`) and `wait:`, checked where they are written.

use super::{Loader, MAX_TIMEOUT, is_kebab};
use crate::checklist::model::Stage;
use crate::checklist::node::{Node, Pos, Value};
use crate::checklist::raw::{RawChecklist, RawItem};

/// The checklist's `stages:`, each name kebab-case and declared once.
pub(super) fn load(l: &mut Loader, doc: &Node, raw: Option<&RawChecklist>) -> Vec<Stage> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let nodes: Vec<&Node> = match doc.get("stages").map(|n| &n.value) {
        Some(Value::Seq(list)) => list.iter().collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<Stage> = Vec::new();
    for (i, stage) in raw.stages.iter().enumerate() {
        let pos = nodes
            .get(i)
            .and_then(|n| n.get("name"))
            .map(|n| n.pos)
            .unwrap_or(doc.pos);
        if !is_kebab(&stage.name) {
            l.at(
                pos,
                format!("stage name `{}` is not kebab-case", stage.name),
                Some(
                    "use lowercase letters, digits and dashes, like `canary` or `rollout-10`"
                        .into(),
                ),
            );
        }
        if out.iter().any(|s| s.name == stage.name) {
            l.at(
                pos,
                format!("stage `{}` is declared twice", stage.name),
                Some("stage names are unique; rename or remove one".into()),
            );
            continue;
        }
        out.push(Stage {
            name: stage.name.clone(),
            title: stage.title.clone(),
            watch: stage.watch.map(|d| d.0),
            every: stage.every.map(|d| d.0),
        });
    }
    out
}

/// Checks each name of a `stages:` list against the declared stages.
pub(super) fn check_names(
    l: &mut Loader,
    node: Option<&Node>,
    names: &[String],
    declared: &[String],
) {
    let Some(node) = node else { return };
    let positions: Vec<Pos> = match &node.value {
        Value::Seq(list) => list.iter().map(|n| n.pos).collect(),
        _ => Vec::new(),
    };
    for (i, name) in names.iter().enumerate() {
        if declared.contains(name) {
            continue;
        }
        let hint = if declared.is_empty() {
            "declare the rollout's stages at the top of the checklist: `stages: [{ name: canary }, …]`".to_string()
        } else {
            format!("declared stages: {}", declared.join(", "))
        };
        l.at(
            positions.get(i).copied().unwrap_or(node.pos),
            format!("unknown stage `{name}`"),
            Some(hint),
        );
    }
}

/// An item's `stages`, `for:` and `wait:`: known stages, no trigger or wait on a manual item,
/// a wait without retries and within range.
pub(super) fn check_item(
    l: &mut Loader,
    item_node: &Node,
    fallback: Pos,
    raw: &RawItem,
    declared: &[String],
) {
    let pos_of = |key: &str| item_node.get(key).map(|n| n.pos).unwrap_or(fallback);
    if let Some(names) = &raw.stages {
        check_names(l, item_node.get("stages"), names, declared);
    }
    let is_manual = raw.manual.is_some();
    if raw.sustain.is_some() && is_manual {
        l.at(
            pos_of("for"),
            "`for` makes an automated item a trigger of `prodcheck watch`; a manual item cannot be one",
            Some("remove `for`, or give the item a `check`".into()),
        );
    }
    if let Some(w) = raw.wait {
        if is_manual {
            l.at(
                pos_of("wait"),
                "`wait` retries a check until it passes; a manual item has none",
                Some("remove `wait`".into()),
            );
        }
        if raw.retries.is_some_and(|r| r > 0) {
            l.at(
                pos_of("wait"),
                "an item either waits (`wait`) or retries (`retries`), not both",
                Some("`wait` tries until the check passes; `retries` mark a pass after a failure as flaky: keep one".into()),
            );
        }
        if w.within().is_zero() || w.within() > MAX_TIMEOUT || w.every().is_zero() {
            l.at(
                pos_of("wait"),
                format!(
                    "`wait` of {} every {} is out of range",
                    humantime::format_duration(w.within()),
                    humantime::format_duration(w.every())
                ),
                Some("wait between 1s and 1h, trying at least every few seconds".into()),
            );
        }
    }
}
