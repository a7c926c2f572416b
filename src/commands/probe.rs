//! `prodcheck probe KIND key=value…`: one probe ad hoc, with the YAML parameter names.

use std::time::Duration;

use crate::checklist::node::{self, Node, Pos, Value};
use crate::checklist::probes::build_check_node;
use crate::checklist::vars::Scope;
use crate::checklist::{Checklist, Item, ItemBody, Section, VarSources};
use crate::cli::args::{FailOn, ProbeArgs};
use crate::error::CliError;
use crate::run::plan::RunOptions;
use crate::run::{Plan, PlanPart, report, terminal};
use crate::state::{State, Timestamp};

/// Builds `{ KIND: { params } }`, nesting dotted keys (`expect.status=200`).
fn check_node(kind: &str, params: &[(String, String)]) -> Result<Node, String> {
    let pos = Pos {
        line: 1,
        col: 1,
        src: 0,
    };
    let key = |k: &str| Node::new(pos, Value::Str(k.to_string()));
    let mut root: Vec<(Node, Node)> = Vec::new();
    for (k, v) in params {
        let path: Vec<&str> = k.split('.').collect();
        let mut map = &mut root;
        for (depth, part) in path.iter().enumerate() {
            let last = depth + 1 == path.len();
            let idx = match map.iter().position(|(n, _)| n.as_str() == Some(part)) {
                Some(_) if last => return Err(format!("parameter `{k}` is given twice")),
                Some(i) => i,
                None => {
                    let value = if last {
                        node::from_cli(v)
                    } else {
                        Node::new(pos, Value::Map(Vec::new()))
                    };
                    map.push((key(part), value));
                    map.len() - 1
                }
            };
            if last {
                break;
            }
            match &mut map[idx].1.value {
                Value::Map(inner) => map = inner,
                _ => return Err(format!("parameter `{k}`: `{part}` already has a value")),
            }
        }
    }
    Ok(Node::new(
        pos,
        Value::Map(vec![(key(kind), Node::new(pos, Value::Map(root)))]),
    ))
}

pub async fn probe(args: ProbeArgs) -> Result<u8, CliError> {
    let node = check_node(&args.kind, &args.params).map_err(|e| CliError::usage(e, None))?;
    // `${env:NAME}` works as in a checklist: read from the environment, redacted everywhere.
    let env = |name: &str| std::env::var(name).ok();
    let mut scope = Scope::new(Default::default(), &VarSources::default(), &env);
    let mut errors = Vec::new();
    let node = scope.substitute(&node, &mut errors);
    if let Some(e) = errors.first() {
        return Err(CliError::usage(e.message.clone(), Some(&e.hint)));
    }
    let secrets: Vec<String> = scope.secrets.iter().cloned().collect();
    let check = build_check_node(&node).map_err(|problems| {
        CliError::Several(
            problems
                .into_iter()
                .map(|(_, message, hint)| CliError::usage(message, hint.as_deref()))
                .collect(),
        )
    })?;
    let item = Item {
        timeout: args.timeout.max(Duration::from_millis(1)),
        ..Item::new(
            &args.kind.replace('_', "-"),
            &format!("ad hoc `{}` probe", args.kind),
            ItemBody::Check(check),
        )
    };
    let checklist = Checklist {
        name: "probe".into(),
        title: None,
        description: None,
        file: "command line".into(),
        sections: vec![Section {
            name: args.kind.clone(),
            items: vec![item],
        }],
        stages: Vec::new(),
        secrets,
        tailored: Vec::new(),
        composed_from: Vec::new(),
    };
    let part = PlanPart {
        target: None,
        environment: None,
        checklist,
        state: State::default(),
        opts: RunOptions {
            concurrency: 1,
            ..RunOptions::default()
        },
    };
    let plan = Plan::one(
        part,
        args.output.fail_on == FailOn::Warning,
        Timestamp::now(),
    );
    let report = terminal::execute(&plan).await;
    report::finish(&report, &args.output.reports, args.output.verbose.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_nest() {
        let n = check_node(
            "http",
            &[
                ("url".into(), "http://x".into()),
                ("expect.status".into(), "[200, 204]".into()),
            ],
        )
        .expect("ok");
        let expect = n
            .get("http")
            .and_then(|h| h.get("expect"))
            .and_then(|e| e.get("status"));
        assert!(matches!(expect.map(|e| &e.value), Some(Value::Seq(s)) if s.len() == 2));
        assert!(
            check_node(
                "http",
                &[("a".into(), "1".into()), ("a".into(), "2".into())]
            )
            .is_err()
        );
    }
}
