//! `targets:` read while `prodcheck.yaml` is parsed: each entry becomes a [`Target`] as soon as
//! it is read, so a fleet's file is never held as one node tree (10,000 targets: ~5 MB).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Target;
use super::target::{check_env, read_entry};
use crate::checklist::Diagnostic;
use crate::checklist::node::{Node, ParsedNode, Pos, Streamed};

/// `targets:` as read: the targets, the problems found (not yet placed in the file: the
/// reader has no file name or text), and where each target names its environment.
pub enum TargetsRead {
    Read {
        targets: Vec<Target>,
        problems: Vec<Diagnostic>,
        envs: Vec<(usize, Pos)>,
    },
    /// Not a mapping: what it is instead ("a list").
    NotAMapping(&'static str),
}

impl Streamed for TargetsRead {
    const KEY: &'static str = "targets";
}

impl TargetsRead {
    /// The targets, with every problem placed in `file` (`text`, for the source line) and
    /// every environment checked against `environments`.
    pub fn finish(
        self,
        pos: Pos,
        environments: &BTreeMap<String, BTreeMap<String, Node>>,
        diag: &dyn Fn(Pos, String) -> Diagnostic,
        errors: &mut Vec<Diagnostic>,
    ) -> Vec<Target> {
        match self {
            TargetsRead::NotAMapping(type_name) => {
                errors.push(
                    diag(
                        pos,
                        format!("`targets` must be a mapping of names to `{{ vars: …, env: … }}`, not {type_name}"),
                    )
                    .hint("targets:\n    api-eu: { env: production, vars: { base_url: https://eu.api.example } }"),
                );
                Vec::new()
            }
            TargetsRead::Read {
                mut targets,
                problems,
                envs,
            } => {
                let mut found: Vec<Diagnostic> = problems
                    .into_iter()
                    .map(|d| {
                        let hint = d.hint;
                        diag(d.pos, d.message).maybe_hint(hint)
                    })
                    .collect();
                for (index, pos) in envs {
                    found.extend(check_env(&mut targets[index], pos, environments, diag));
                }
                // In the file's order, as if each target had been checked whole in turn.
                found.sort_by_key(|d| (d.pos.line, d.pos.col));
                errors.extend(found);
                targets.shrink_to_fit();
                targets
            }
        }
    }
}

impl<'de> de::Deserialize<'de> for TargetsRead {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TargetsVisitor)
    }
}

struct TargetsVisitor;

/// A problem before the file is known: placed by [`TargetsRead::finish`].
fn unplaced(pos: Pos, message: String) -> Diagnostic {
    Diagnostic::new("", "", pos, message)
}

impl<'de> Visitor<'de> for TargetsVisitor {
    type Value = TargetsRead;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping of target names")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TargetsRead, A::Error> {
        let mut targets = Vec::new();
        let mut problems = Vec::new();
        let mut envs = Vec::new();
        while let Some(ParsedNode(key)) = map.next_key()? {
            let ParsedNode(body) = map.next_value()?;
            if let Some((target, env)) = read_entry(key, body, &unplaced, &mut problems) {
                envs.extend(env.map(|pos| (targets.len(), pos)));
                targets.push(target);
            }
        }
        Ok(TargetsRead::Read {
            targets,
            problems,
            envs,
        })
    }
    fn visit_unit<E: de::Error>(self) -> Result<TargetsRead, E> {
        Ok(TargetsRead::Read {
            targets: Vec::new(),
            problems: Vec::new(),
            envs: Vec::new(),
        })
    }
    fn visit_none<E: de::Error>(self) -> Result<TargetsRead, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<TargetsRead, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TargetsRead, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TargetsRead::NotAMapping("a list"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TargetsRead, E> {
        Ok(TargetsRead::NotAMapping("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TargetsRead, E> {
        Ok(TargetsRead::NotAMapping("an integer"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TargetsRead, E> {
        Ok(TargetsRead::NotAMapping("an integer"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TargetsRead, E> {
        Ok(TargetsRead::NotAMapping("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<TargetsRead, E> {
        Ok(TargetsRead::NotAMapping("a string"))
    }
}
