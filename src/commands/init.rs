//! `prodcheck init`: writes a commented `prodcheck.yaml` listing every variable the shipped
//! checklists use, for a `staging` and a `production` environment. Never overwrites.

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog;
use crate::checklist::node::{self, Node, Value};
use crate::config::FILE_NAME;
use crate::exit_code;

use super::stack::{self, Stack};
use crate::error::CliError;

/// Every variable of the shipped checklists: name → (default, checklists using it).
pub fn shipped_variables() -> BTreeMap<String, (Node, Vec<&'static str>)> {
    let mut vars: BTreeMap<String, (Node, Vec<&'static str>)> = BTreeMap::new();
    for (name, text) in catalog::SHIPPED {
        let Ok(doc) = node::parse(text) else { continue };
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = doc.get("vars")
        else {
            continue;
        };
        for (k, v) in entries {
            let Some(key) = k.scalar_text() else { continue };
            let entry = vars.entry(key).or_insert_with(|| (v.clone(), Vec::new()));
            entry.1.push(name);
        }
    }
    vars
}

fn yaml_scalar(node: &Node) -> String {
    match &node.value {
        Value::Null => "~".into(),
        Value::Str(s) if s.is_empty() => "\"\"".into(),
        Value::Str(s) => serde_json::to_string(s).unwrap_or_else(|_| s.clone()),
        // JSON is valid YAML flow style: lists and mappings keep their shape.
        Value::Seq(_) | Value::Map(_) => node.to_json().to_string(),
        other => Node::new(node.pos, other.clone())
            .scalar_text()
            .unwrap_or_else(|| "~".into()),
    }
}

/// Variables the shipped checklists cannot run without (null defaults used by some item).
fn required_variables() -> std::collections::BTreeSet<String> {
    let sources = crate::checklist::VarSources::for_reading();
    let mut out = std::collections::BTreeSet::new();
    for (name, text) in catalog::SHIPPED {
        let source = crate::checklist::Source {
            file: format!("builtin:{name}"),
            text: text.to_string(),
        };
        if let Ok(c) = crate::checklist::load(&source, &sources, &|_| None) {
            out.extend(c.needs().into_keys().map(str::to_string));
        }
    }
    out
}

/// The text `init` writes for a project of kind `stack` (`None`: not recognised).
pub fn template(stack: Option<Stack>) -> String {
    let vars = shipped_variables();
    let required = required_variables();
    let width = vars.keys().map(String::len).max().unwrap_or(0);
    let mut out = String::from(
        "# prodcheck project settings (https://github.com/prodcheck/prodcheck).\n\
         # `prodcheck run CHECKLIST --env NAME` applies an environment's variables; `--var k=v`\n\
         # overrides them. Secrets: write `${env:NAME}` inside a value (for example\n\
         # `postgres://app:${env:PGPASSWORD}@db:5432/app`); such values are shown as *** everywhere.\n\n\
         # Directory whose NAME.yaml files override the shipped checklists.\n\
         checklists: checklists\n\
         # Sign-offs (commit them) and run history.\n\
         state: .prodcheck\n\n\
         environments:\n",
    );
    for env in ["staging", "production"] {
        out.push_str(&format!("  {env}:\n    vars:\n"));
        for (name, (default, used_by)) in &vars {
            let key = format!("{name}:");
            let detected = stack.and_then(|s| s.command(name).map(|c| (s, c)));
            let (value, what) = match detected {
                Some((s, command)) => (
                    yaml_scalar(&Node::new(default.pos, Value::Str(command.into()))),
                    format!("the usual {} command ({} found)", s.name, s.marker),
                ),
                None if required.contains(name) && name.ends_with("_command") => (
                    yaml_scalar(default),
                    "REQUIRED: no command detected for this project; set it, or `--skip` its item"
                        .to_string(),
                ),
                None if required.contains(name) => (
                    yaml_scalar(default),
                    "REQUIRED: no default, set it".to_string(),
                ),
                None => (yaml_scalar(default), "default".to_string()),
            };
            out.push_str(&format!(
                "      {key:<width$} {value:<40} # {what}; used by {}\n",
                used_by.join(", "),
                width = width + 1
            ));
        }
    }
    out.push_str(
        "\n# A fleet: services that share a checklist, each with its own variables over its\n\
         # environment's. `prodcheck run maintenance --target 'shop-*'` or `--all-targets` runs them\n\
         # in one process; `prodcheck serve` answers `/probe?checklist=maintenance&target=shop-eu`.\n\
         # targets:\n\
         #   shop-eu:\n\
         #     env: production\n\
         #     vars: { base_url: https://eu.shop.example }\n\
         #     labels: { team: shop }\n",
    );
    out
}

/// `prodcheck init [--discover [--env NAME]]`: writes the file when missing, then discovers.
pub async fn init_command(
    config: Option<&Path>,
    color: crate::cli::ColorChoice,
    discover: bool,
    env: Option<&str>,
) -> Result<u8, CliError> {
    let dir = Path::new(".");
    if !discover {
        return init(dir);
    }
    let path = config.map_or_else(|| dir.join(FILE_NAME), Path::to_path_buf);
    if !path.exists() && config.is_some() {
        return Err(CliError::usage(
            format!("`{}` does not exist", path.display()),
            Some("run `prodcheck init --discover` without --config to create prodcheck.yaml here"),
        ));
    }
    if !path.exists() {
        let code = init(dir)?;
        if code != exit_code::OK {
            return Ok(code);
        }
    }
    let defaults = shipped_variables()
        .into_iter()
        .map(|(k, (v, _))| (k, v))
        .collect();
    crate::discover::run(&crate::discover::Request {
        config: &path,
        env,
        build_root: dir,
        defaults: &defaults,
        color,
    })
    .await
}

pub fn init(dir: &Path) -> Result<u8, CliError> {
    let path = dir.join(FILE_NAME);
    if path.exists() {
        return Err(CliError::usage(
            format!("`{}` already exists; not overwriting it", path.display()),
            Some("edit it, or move it away and run `prodcheck init` again"),
        ));
    }
    let stack = stack::detect(dir);
    let text = template(stack);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
    match written {
        Ok(()) => {
            let found = stack
                .map(|s| format!("{} project ({} found): its usual test, build and audit commands are filled in", s.name, s.marker))
                .unwrap_or_else(|| "no Cargo.toml, package.json, go.mod, pyproject.toml, requirements.txt, pom.xml, build.gradle or Makefile here: the command variables are left unset".into());
            println!(
                "wrote {} with `staging` and `production` environments; {found}. Set the REQUIRED variables, then `prodcheck run pre-deploy --env staging`",
                path.display()
            );
            Ok(exit_code::OK)
        }
        Err(e) => Err(CliError::usage(
            format!("cannot write `{}`: {e}", path.display()),
            None,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_a_valid_config_listing_every_shipped_variable() {
        let text = template(None);
        let doc = node::parse(&text).expect("template parses");
        let staging = doc
            .get("environments")
            .and_then(|e| e.get("staging"))
            .and_then(|s| s.get("vars"))
            .expect("staging vars");
        for name in shipped_variables().keys() {
            assert!(
                staging.get(name).is_some(),
                "`{name}` missing from the template"
            );
        }
    }
}
