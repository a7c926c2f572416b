//! `prodcheck.yaml`: environments and their variables, fleet targets, where local checklists
//! live, where state is kept. Optional; parsed with the same node tree so errors point at the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

use std::sync::Arc;

use crate::checklist::node::{self, Node, Value, from_node};
use crate::checklist::tailor::{self, Tailoring};
use crate::checklist::{Diagnostic, Source};
use crate::fleet::Target;

pub const FILE_NAME: &str = "prodcheck.yaml";

/// The resolved project settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file was found (`None`: no file, defaults apply).
    pub path: Option<PathBuf>,
    /// Directory of local checklists overriding the shipped ones.
    pub checklists_dir: PathBuf,
    /// Directory for sign-offs and history.
    pub state_dir: PathBuf,
    pub environments: BTreeMap<String, BTreeMap<String, Node>>,
    /// Named services (`targets:`), in file order.
    pub targets: Vec<Target>,
    /// Per environment: `not_applicable:` and `overrides:`.
    pub env_tailoring: BTreeMap<String, Tailoring>,
    /// Item ids and tags of every known checklist, read once (a fleet asks per target).
    known: std::sync::OnceLock<Arc<std::collections::BTreeSet<String>>>,
}

impl Config {
    /// The target called `name`.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// What prodcheck.yaml changes for `env`, and over it for `target` (its own environment
    /// replacing `env`), with the ids and tags of every known checklist to tell a typo from
    /// a name that belongs to another checklist.
    pub fn tailoring(&self, env: Option<&str>, target: Option<&Target>) -> Tailoring {
        let env = target.and_then(|t| t.env.as_deref()).or(env);
        let mut out = env
            .and_then(|e| self.env_tailoring.get(e))
            .cloned()
            .unwrap_or_default();
        if let Some(t) = target {
            out = out.then(&t.tailoring);
        }
        if !out.is_empty() {
            out.known = Some(
                self.known
                    .get_or_init(|| Arc::new(known_names(&self.checklists_dir)))
                    .clone(),
            );
        }
        out
    }
}

/// Every item id and tag of the shipped and local checklists (read as node trees only). The
/// shipped ones count even when a local file of the same name replaces (or extends) them.
fn known_names(dir: &Path) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut texts: Vec<String> = crate::catalog::SHIPPED
        .iter()
        .map(|(_, text)| text.to_string())
        .collect();
    texts.extend(
        crate::catalog::list(dir)
            .into_iter()
            .filter(|e| e.origin != "builtin")
            .filter_map(|e| crate::catalog::resolve(&e.name, dir).ok())
            .map(|s| s.text),
    );
    for text in texts {
        let Ok(doc) = node::parse(&text) else {
            continue;
        };
        let sections = doc.get("sections").map(|s| &s.value);
        let Some(Value::Seq(sections)) = sections else {
            continue;
        };
        for item in sections
            .iter()
            .filter_map(|s| match s.get("items").map(|i| &i.value) {
                Some(Value::Seq(items)) => Some(items),
                _ => None,
            })
            .flatten()
        {
            out.extend(item.get("id").and_then(Node::scalar_text));
            if let Some(Value::Seq(tags)) = item.get("tags").map(|t| &t.value) {
                out.extend(tags.iter().filter_map(Node::scalar_text));
            }
        }
    }
    out
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            checklists_dir: PathBuf::from("checklists"),
            state_dir: PathBuf::from(".prodcheck"),
            environments: BTreeMap::new(),
            targets: Vec::new(),
            env_tailoring: BTreeMap::new(),
            known: Default::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    checklists: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "read from the node tree; declared so unknown keys are rejected"
    )]
    environments: Option<IgnoredAny>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "read from the node tree; declared so unknown keys are rejected"
    )]
    targets: Option<IgnoredAny>,
}

/// Loads `path` if given, else `./prodcheck.yaml` if present, else defaults.
pub fn load(path: Option<&Path>) -> Result<Config, Vec<Diagnostic>> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(FILE_NAME), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Config::default());
        }
        Err(e) => {
            let file = path.display().to_string();
            return Err(vec![
                Diagnostic::new(
                    &file,
                    "",
                    node::Pos {
                        line: 1,
                        col: 1,
                        src: 0,
                    },
                    format!("cannot read config: {e}"),
                )
                .hint("check the path given to --config"),
            ]);
        }
    };
    parse(&path, text)
}

/// Parses the file's `text` (kept once, shared by every diagnostic and tailoring that points
/// into it: a fleet's file can be megabytes).
fn parse(path: &Path, text: String) -> Result<Config, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let source = Arc::new(Source { file, text });
    let (file, text) = (source.file.as_str(), source.text.as_str());
    let diag = |pos, msg: String| Diagnostic::new(file, text, pos, msg);
    let (doc, targets) = node::parse_streamed::<crate::fleet::read::TargetsRead>(text)
        .map_err(|e| vec![diag(e.pos, format!("invalid YAML: {}", e.message))])?;
    if matches!(doc.value, Value::Null) {
        return Ok(Config {
            path: Some(path.to_path_buf()),
            ..Config::default()
        });
    }
    let raw: RawConfig = from_node(&doc).map_err(|e| {
        vec![
            diag(e.pos.unwrap_or(doc.pos), e.message.clone())
                .maybe_hint(crate::checklist::hints::hint_for(&e.message)),
        ]
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut config = Config {
        path: Some(path.to_path_buf()),
        checklists_dir: base.join(raw.checklists.as_deref().unwrap_or("checklists")),
        state_dir: base.join(raw.state.as_deref().unwrap_or(".prodcheck")),
        environments: BTreeMap::new(),
        targets: Vec::new(),
        env_tailoring: BTreeMap::new(),
        known: Default::default(),
    };
    let mut errors = Vec::new();
    if let Some(Node {
        value: Value::Map(envs),
        ..
    }) = doc.get("environments")
    {
        for (name, env) in envs {
            let name = name.scalar_text().unwrap_or_default();
            let mut vars = BTreeMap::new();
            match env.get("vars").map(|v| &v.value) {
                Some(Value::Map(entries)) => {
                    for (k, v) in entries {
                        vars.insert(k.scalar_text().unwrap_or_default(), v.clone());
                    }
                }
                None | Some(Value::Null) => {}
                Some(_) => errors.push(diag(
                    env.pos,
                    format!("environment `{name}`: `vars` must be a mapping"),
                )),
            }
            let mut tailoring = Tailoring {
                source: Some(source.clone()),
                ..Tailoring::default()
            };
            if let Value::Map(keys) = &env.value {
                for (k, v) in keys.iter().filter(|(k, _)| k.as_str() != Some("vars")) {
                    match k.as_str() {
                        Some(key @ ("not_applicable" | "overrides")) => tailor::parse_entry(
                            key,
                            v,
                            &format!("environment `{name}`"),
                            &mut tailoring,
                            &diag,
                            &mut errors,
                        ),
                        _ => errors.push(
                            diag(
                                k.pos,
                                format!(
                                    "unknown field `{}` in environment `{name}`",
                                    k.scalar_text().unwrap_or_default()
                                ),
                            )
                            .hint("an environment has `vars:`, `not_applicable:` and `overrides:`"),
                        ),
                    }
                }
            }
            config.env_tailoring.insert(name.clone(), tailoring);
            config.environments.insert(name, vars);
        }
    } else if let Some(other) = doc
        .get("environments")
        .filter(|n| !matches!(n.value, Value::Null))
    {
        errors.push(diag(
            other.pos,
            "`environments` must be a mapping of names to `{ vars: … }`".into(),
        ));
    }
    drop(doc);
    if let Some((pos, targets)) = targets {
        config.targets = targets.finish(pos, &config.environments, &diag, &mut errors);
        for target in &mut config.targets {
            target.tailoring.source = Some(source.clone());
        }
    }
    // An unknown metric convention is reported here, at its line in prodcheck.yaml.
    let name = crate::checklist::conventions::VARIABLE;
    let conventions = config
        .environments
        .values()
        .map(|vars| vars.get(name))
        .chain(config.targets.iter().map(|t| t.var(name)));
    for node in conventions.flatten() {
        if let Some((message, hint)) = crate::checklist::conventions::unknown(node) {
            errors.push(diag(node.pos, message).hint(hint));
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_and_dirs_resolve_relative_to_the_file() {
        let c = parse(Path::new("proj/prodcheck.yaml"), "checklists: lists\nenvironments:\n  staging:\n    vars: { base_url: https://s.test }\n".into())
            .expect("valid");
        assert_eq!(c.checklists_dir, PathBuf::from("proj/lists"));
        assert_eq!(c.state_dir, PathBuf::from("proj/.prodcheck"));
        assert!(c.environments["staging"].contains_key("base_url"));
    }

    #[test]
    fn unknown_fields_are_diagnosed() {
        let errs = parse(
            Path::new("p.yaml"),
            "environments:\n  prod:\n    varz: {}\n".into(),
        )
        .expect_err("bad");
        assert_eq!(errs[0].pos.line, 3);
    }

    #[test]
    fn targets_keep_file_order_and_unknown_environments_point_at_the_line() {
        let c = parse(Path::new("p.yaml"), "environments:\n  prod: { vars: { a: 1 } }\ntargets:\n  web: { env: prod }\n  api: { vars: { b: 2 } }\n".into())
        .expect("valid");
        let names: Vec<&str> = c.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["web", "api"]);
        assert_eq!(c.target("web").and_then(|t| t.env.as_deref()), Some("prod"));
        let errs = parse(
            Path::new("p.yaml"),
            "environments:\n  prod: {}\ntargets:\n  web:\n    env: staging\n".into(),
        )
        .expect_err("unknown env");
        assert_eq!((errs[0].pos.line, errs[0].pos.col), (5, 10));
        assert_eq!(
            errs[0].message,
            "target `web`: unknown environment `staging`"
        );
    }

    #[test]
    fn an_unknown_metric_convention_points_at_its_line_and_lists_the_known_ones() {
        let errs = parse(Path::new("p.yaml"), "environments:\n  prod:\n    vars:\n      metrics_convention: otle\ntargets:\n  web: { vars: { metrics_convention: istio } }\n".into())
        .expect_err("unknown convention");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!((errs[0].pos.line, errs[0].pos.col), (4, 27));
        assert_eq!(errs[0].message, "unknown metrics convention `otle`");
        let hint = errs[0].hint.as_deref().unwrap_or_default();
        assert!(hint.contains("did you mean `otel`?"), "{hint}");
        assert!(hint.contains("istio"), "{hint}");
    }

    #[test]
    fn targets_may_come_before_the_environments_they_name() {
        let c = parse(Path::new("p.yaml"), "targets:\n  web: { env: prod, vars: { port: 1 } }\nenvironments:\n  prod: { vars: { a: 1 } }\n".into())
            .expect("valid");
        assert_eq!(c.target("web").and_then(|t| t.env.as_deref()), Some("prod"));
        assert_eq!(
            c.target("web")
                .and_then(|t| t.var("port"))
                .and_then(Node::scalar_text)
                .as_deref(),
            Some("1")
        );
        let errs = parse(
            Path::new("p.yaml"),
            "targets:\n  web: { env: stage }\n  bad/name: {}\nenvironments:\n  prod: {}\n".into(),
        )
        .expect_err("unknown env and bad name");
        let found: Vec<(u32, u32, &str)> = errs
            .iter()
            .map(|e| (e.pos.line, e.pos.col, e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (2, 15, "target `web`: unknown environment `stage`"),
                (3, 3, "target name `bad/name` is not a plain name")
            ]
        );
        assert_eq!(errs[0].file, "p.yaml");
        assert_eq!(errs[1].source_line.as_deref(), Some("  bad/name: {}"));
    }

    #[test]
    fn targets_that_are_not_a_mapping_point_at_their_value() {
        let errs = parse(
            Path::new("p.yaml"),
            "state: s\ntargets:\n  - web\n  - api\n".into(),
        )
        .expect_err("a list");
        assert_eq!((errs[0].pos.line, errs[0].pos.col), (3, 3));
        assert_eq!(
            errs[0].message,
            "`targets` must be a mapping of names to `{ vars: …, env: … }`, not a list"
        );
        let empty = parse(Path::new("p.yaml"), "targets:\n".into()).expect("empty targets");
        assert!(empty.targets.is_empty());
    }
}
