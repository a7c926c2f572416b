//! One target of `prodcheck.yaml`: a name, its variables, an optional environment whose
//! variables it inherits, and labels carried into reports. Parsed from the node tree.

use std::collections::BTreeMap;

use crate::checklist::Diagnostic;
use crate::checklist::node::{Node, Pos, Value};

/// A named service the same checklist runs against.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    /// The environment whose variables apply first (the target's own override them).
    pub env: Option<String>,
    /// Its own variables, in the order written (a list: a fleet of 10,000 targets with a
    /// variable or two each would spend 8 MB on map nodes).
    pub vars: Vec<(String, Node)>,
    /// Extra labels for reports and metrics (`team: payments`).
    pub labels: BTreeMap<String, String>,
    /// Where the target is defined (for messages).
    pub pos: Pos,
    /// Its own `not_applicable:` and `overrides:` (after its environment's).
    pub tailoring: crate::checklist::tailor::Tailoring,
}

impl Target {
    /// Its own variable `name` (not its environment's).
    pub fn var(&self, name: &str) -> Option<&Node> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The variables a checklist sees for this target: its environment's, then its own.
    pub fn variables(
        &self,
        environments: &BTreeMap<String, BTreeMap<String, Node>>,
        fallback_env: Option<&str>,
    ) -> BTreeMap<String, Node> {
        let mut vars = self
            .environment(fallback_env)
            .and_then(|e| environments.get(e))
            .cloned()
            .unwrap_or_default();
        vars.extend(self.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        vars
    }

    /// The target's environment: its own `env:`, else `fallback` (`--env`).
    pub fn environment<'a>(&'a self, fallback: Option<&'a str>) -> Option<&'a str> {
        self.env.as_deref().or(fallback)
    }
}

/// A target name: used in file names, query strings and metric labels, so letters, digits,
/// `-`, `_` and `.` (not first), at most 128 bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Labels a target may not set: prodcheck's own and Prometheus' reserved ones.
const RESERVED_LABELS: &[&str] = &[
    "checklist",
    "env",
    "target",
    "item",
    "severity",
    "status",
    "quantile",
    "job",
    "instance",
    "le",
];

fn valid_label(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// Reads one entry of `targets:` (a name and its `{ vars, env, labels, … }`), consuming the
/// nodes so its name and variables move into the target. Problems go to `errors`; the
/// environment it names is checked later ([`check_env`]: `environments:` may come after
/// `targets:`), so its position is returned with the target.
pub fn read_entry(
    key: Node,
    body: Node,
    diag: &dyn Fn(Pos, String) -> Diagnostic,
    errors: &mut Vec<Diagnostic>,
) -> Option<(Target, Option<Pos>)> {
    {
        let pos = key.pos;
        let name = key.into_text().unwrap_or_default();
        if !valid_name(&name) {
            errors.push(
                diag(pos, format!("target name `{name}` is not a plain name"))
                    .hint("use letters, digits, `-`, `_` and `.` (it names files, query parameters and metric labels)"),
            );
            return None;
        }
        let mut env_pos = None;
        let mut target = Target {
            name: name.clone(),
            env: None,
            vars: Vec::new(),
            labels: BTreeMap::new(),
            pos,
            tailoring: Default::default(),
        };
        let (body_pos, body_type) = (body.pos, body.type_name());
        let fields = match body.value {
            Value::Map(fields) => fields,
            Value::Null => Vec::new(),
            _ => {
                errors.push(diag(
                    body_pos,
                    format!(
                        "target `{name}` must be a mapping with `vars`, `env` or `labels`, not {body_type}"
                    ),
                ));
                return None;
            }
        };
        for (k, v) in fields {
            match k.as_str() {
                Some("vars") => match v.value {
                    Value::Map(vars) => {
                        target.vars.reserve_exact(vars.len());
                        for (var, value) in vars {
                            let name = var.into_text().unwrap_or_default();
                            target.vars.retain(|(n, _)| *n != name);
                            target.vars.push((name, value));
                        }
                        target.vars.shrink_to_fit();
                    }
                    Value::Null => {}
                    _ => errors.push(diag(
                        v.pos,
                        format!("target `{name}`: `vars` must be a mapping"),
                    )),
                },
                Some("env") => match v.value {
                    Value::Str(env) => {
                        target.env = Some(env);
                        env_pos = Some(v.pos);
                    }
                    _ => errors.push(diag(
                        v.pos,
                        format!(
                            "target `{name}`: `env` must name an environment, not {}",
                            v.type_name()
                        ),
                    )),
                },
                Some("labels") => parse_labels(&name, &v, &mut target.labels, diag, errors),
                Some(key @ ("not_applicable" | "overrides")) => {
                    crate::checklist::tailor::parse_entry(
                        key,
                        &v,
                        &format!("target `{name}`"),
                        &mut target.tailoring,
                        diag,
                        errors,
                    )
                }
                _ => errors.push(
                    diag(
                        k.pos,
                        format!(
                            "unknown field `{}` in target `{name}`",
                            k.scalar_text().unwrap_or_default()
                        ),
                    )
                    .hint("a target has `vars`, `env`, `labels`, `not_applicable` and `overrides`"),
                ),
            }
        }
        Some((target, env_pos))
    }
}

/// Checks that the environment `target` names (its `env:` at `pos`) is defined; if not, the
/// target keeps none and the problem is returned.
pub fn check_env(
    target: &mut Target,
    pos: Pos,
    environments: &BTreeMap<String, BTreeMap<String, Node>>,
    diag: &dyn Fn(Pos, String) -> Diagnostic,
) -> Option<Diagnostic> {
    let env = target.env.take()?;
    if environments.contains_key(&env) {
        target.env = Some(env);
        return None;
    }
    let known: Vec<&str> = environments.keys().map(String::as_str).collect();
    let hint = if known.is_empty() {
        "define it under `environments:` in this file".to_string()
    } else {
        format!("known environments: {}", known.join(", "))
    };
    let message = format!("target `{}`: unknown environment `{env}`", target.name);
    Some(diag(pos, message).hint(hint))
}

fn parse_labels(
    name: &str,
    node: &Node,
    labels: &mut BTreeMap<String, String>,
    diag: &dyn Fn(Pos, String) -> Diagnostic,
    errors: &mut Vec<Diagnostic>,
) {
    let entries = match &node.value {
        Value::Map(entries) => entries,
        Value::Null => return,
        _ => {
            errors.push(diag(
                node.pos,
                format!("target `{name}`: `labels` must be a mapping of label names to values"),
            ));
            return;
        }
    };
    for (k, v) in entries {
        let label = k.scalar_text().unwrap_or_default();
        if !valid_label(&label) || RESERVED_LABELS.contains(&label.as_str()) {
            errors.push(
                diag(k.pos, format!("target `{name}`: `{label}` cannot be a label name"))
                    .hint(format!(
                        "use a Prometheus label name (letters, digits, `_`; not starting with `__`) other than {}",
                        RESERVED_LABELS.join(", ")
                    )),
            );
            continue;
        }
        match v.scalar_text() {
            Some(value) => {
                labels.insert(label, value);
            }
            None => errors.push(diag(
                v.pos,
                format!(
                    "target `{name}`: label `{label}` must be a text value, not {}",
                    v.type_name()
                ),
            )),
        }
    }
}

/// The same diagnostic for many targets is printed once, naming them.
pub fn by_target(diags: Vec<(String, Vec<Diagnostic>)>) -> Vec<Diagnostic> {
    let mut merged: Vec<(Diagnostic, Vec<String>)> = Vec::new();
    for (target, list) in diags {
        for d in list {
            match merged.iter_mut().find(|(m, _)| *m == d) {
                Some((_, names)) => names.push(target.clone()),
                None => merged.push((d, vec![target.clone()])),
            }
        }
    }
    merged
        .into_iter()
        .map(|(mut d, names)| {
            let word = if names.len() == 1 {
                "target"
            } else {
                "targets"
            };
            d.message = format!(
                "{} ({word} {})",
                d.message,
                super::select::shorten(&names, 5)
            );
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::node;

    /// `text` read as the body of `targets:`, as `prodcheck.yaml`'s parser reads it.
    fn parse_text(text: &str) -> (Vec<Target>, Vec<Diagnostic>) {
        let read: crate::fleet::read::TargetsRead = serde_saphyr::from_str(text).expect("yaml");
        let mut envs = BTreeMap::new();
        envs.insert(
            "production".to_string(),
            BTreeMap::from([(
                "base_url".to_string(),
                node::Node::new(Pos::default(), Value::Str("https://prod".into())),
            )]),
        );
        let diag = |pos, msg: String| Diagnostic::new("p.yaml", text, pos, msg);
        let mut errors = Vec::new();
        let targets = read.finish(Pos::default(), &envs, &diag, &mut errors);
        (targets, errors)
    }

    #[test]
    fn a_targets_vars_override_its_environments() {
        let (targets, errors) = parse_text(
            "api:\n  env: production\n  vars: { region: eu }\n  labels: { team: payments }\nweb:\n  vars: { base_url: https://web }\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let mut envs = BTreeMap::new();
        envs.insert(
            "production".to_string(),
            BTreeMap::from([(
                "base_url".to_string(),
                node::Node::new(Pos::default(), Value::Str("https://prod".into())),
            )]),
        );
        let api = targets[0].variables(&envs, None);
        assert_eq!(api["base_url"].as_str(), Some("https://prod"));
        assert_eq!(api["region"].as_str(), Some("eu"));
        assert_eq!(targets[0].labels["team"], "payments");
        let web = targets[1].variables(&envs, Some("production"));
        assert_eq!(
            web["base_url"].as_str(),
            Some("https://web"),
            "own vars win"
        );
        assert_eq!(
            targets[1].environment(Some("production")),
            Some("production")
        );
    }

    #[test]
    fn bad_targets_are_diagnosed_where_they_are() {
        let (_, errors) = parse_text(
            "api:\n  env: prod\nweb/1: {}\ndb:\n  varz: {}\nq:\n  labels: { status: x, ok_label: [1] }\n",
        );
        let found: Vec<(u32, &str)> = errors
            .iter()
            .map(|e| (e.pos.line, e.message.as_str()))
            .collect();
        assert_eq!(found.len(), 5, "{found:?}");
        assert_eq!(found[0], (2, "target `api`: unknown environment `prod`"));
        assert_eq!(
            errors[0].hint.as_deref(),
            Some("known environments: production")
        );
        assert_eq!(found[1].0, 3);
        assert_eq!(found[2], (5, "unknown field `varz` in target `db`"));
        assert!(found[3].1.contains("`status` cannot be a label name"));
        assert!(found[4].1.contains("label `ok_label` must be a text value"));
    }
}
