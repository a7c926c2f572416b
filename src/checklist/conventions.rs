//! Metric conventions as data: `checklists/conventions/metrics.yaml` names what each common
//! HTTP instrumentation calls its series, so `metrics_convention: otel` sets every PromQL variable.
//!
//! The table is a YAML file (embedded) rather than Rust so that users read it next to the
//! checklists it configures, and `docs`/discovery can show it; a unit test keeps it complete.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::node::{self, Node, Pos, Value};

/// The variable naming the convention.
pub const VARIABLE: &str = "metrics_convention";

/// Every variable a convention sets (and the only ones it may set).
pub const SETS: &[&str] = &[
    "requests_metric",
    "status_label",
    "latency_histogram",
    "latency_unit_seconds",
    "version_metric",
    "version_label",
    "service_matcher",
];

const TABLE: &str = include_str!("../../checklists/conventions/metrics.yaml");

/// One named convention and the variables it sets.
#[derive(Debug, Clone)]
pub struct Convention {
    pub name: String,
    pub title: String,
    pub vars: BTreeMap<String, Node>,
}

/// Every convention, in file order.
pub fn all() -> &'static [Convention] {
    static ALL: OnceLock<Vec<Convention>> = OnceLock::new();
    ALL.get_or_init(|| parse_table(TABLE).unwrap_or_default())
}

/// The convention called `name`.
pub fn get(name: &str) -> Option<&'static Convention> {
    all().iter().find(|c| c.name == name)
}

/// The known names, for messages.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|c| c.name.as_str()).collect()
}

fn parse_table(text: &str) -> Result<Vec<Convention>, String> {
    let doc = node::parse(text).map_err(|e| e.message)?;
    let Value::Map(entries) = doc.value else {
        return Err("the table is not a mapping".into());
    };
    let mut out = Vec::new();
    for (name, body) in entries {
        let name = name.scalar_text().ok_or("a convention name is not text")?;
        let title = body
            .get("title")
            .and_then(Node::scalar_text)
            .ok_or(format!("`{name}` has no title"))?;
        let Some(Node {
            value: Value::Map(vars),
            ..
        }) = body.get("vars")
        else {
            return Err(format!("`{name}` has no `vars:` mapping"));
        };
        let vars: BTreeMap<String, Node> = vars
            .iter()
            .filter_map(|(k, v)| k.scalar_text().map(|k| (k, v.clone())))
            .collect();
        let keys: Vec<&str> = vars.keys().map(String::as_str).collect();
        let mut expected = SETS.to_vec();
        expected.sort_unstable();
        if keys != expected {
            return Err(format!("`{name}` sets {keys:?}, not {expected:?}"));
        }
        out.push(Convention { name, title, vars });
    }
    Ok(out)
}

/// The node choosing the convention, by precedence: `--var`, then the environment or
/// target, then the checklist's own `vars:`. `None` or a null value: no convention.
pub fn chosen<'a>(
    checklist: &'a BTreeMap<String, Node>,
    environment: &'a BTreeMap<String, Node>,
    cli: &'a BTreeMap<String, Node>,
) -> Option<(&'a Node, Origin)> {
    cli.get(VARIABLE)
        .map(|n| (n, Origin::Cli))
        .or_else(|| environment.get(VARIABLE).map(|n| (n, Origin::Environment)))
        .or_else(|| checklist.get(VARIABLE).map(|n| (n, Origin::Checklist)))
        .filter(|(n, _)| n.value != Value::Null)
}

/// Where the chosen name was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cli,
    Environment,
    Checklist,
}

/// The variables the chosen convention sets (not its `~` ones), placed where the name was chosen;
/// empty when none is chosen or the name is unknown (see [`unknown`]).
pub fn layer(node: Option<&Node>) -> BTreeMap<String, Node> {
    let Some(conv) = node.and_then(Node::scalar_text).and_then(|n| get(n.trim())) else {
        return BTreeMap::new();
    };
    let pos = node.map(|n| n.pos).unwrap_or_default();
    // `~` in the table sets nothing: a checklist's own default stays.
    conv.vars
        .iter()
        .filter(|(_, v)| v.value != Value::Null)
        .map(|(k, v)| (k.clone(), relocate(v, pos)))
        .collect()
}

fn relocate(node: &Node, pos: Pos) -> Node {
    Node::new(pos, node.value.clone())
}

/// The message and hint for a `metrics_convention` value that names no convention.
pub fn unknown(node: &Node) -> Option<(String, String)> {
    let name = match node.scalar_text() {
        Some(n) if get(n.trim()).is_some() => return None,
        Some(n) => n,
        None if node.value == Value::Null => return None,
        None => node.type_name().to_string(),
    };
    let suggestion = super::hints::closest(&name, &names())
        .map(|n| format!("did you mean `{n}`? "))
        .unwrap_or_default();
    Some((
        format!("unknown metrics convention `{name}`"),
        format!(
            "{suggestion}known conventions: {} (checklists/conventions/metrics.yaml); or leave `{VARIABLE}` unset and set the metric variables one by one",
            names().join(", ")
        ),
    ))
}

/// A `metrics_convention` naming no convention, as a positioned problem of the checklist
/// being loaded: at its own place when the checklist sets it; set in `prodcheck.yaml` (whose
/// check reports it at its line there) or by `--var`, at the checklist's `vars:` entry,
/// saying where the name came from.
pub fn misnamed(
    checklist: &BTreeMap<String, Node>,
    environment: &BTreeMap<String, Node>,
    cli: &BTreeMap<String, Node>,
) -> Option<(Pos, String, String)> {
    let (node, origin) = chosen(checklist, environment, cli)?;
    let (message, hint) = unknown(node)?;
    let declared = checklist.get(VARIABLE).map(|n| n.pos).unwrap_or_default();
    let (pos, from) = match origin {
        Origin::Checklist => (node.pos, String::new()),
        Origin::Environment => (declared, " (set in prodcheck.yaml)".to_string()),
        Origin::Cli => (declared, format!(" (set by `--var {VARIABLE}=…`)")),
    };
    let pos = if pos == Pos::default() {
        Pos {
            line: 1,
            col: 1,
            src: 0,
        }
    } else {
        pos
    };
    Some((pos, format!("{message}{from}"), hint))
}

#[cfg(test)]
mod tests {
    use super::super::load::{Source, load, load_text};
    use super::super::vars::{Scope, VarSources};
    use super::*;

    /// `yaml`'s top-level mapping as variables.
    fn vars(yaml: &str) -> BTreeMap<String, Node> {
        match node::parse(yaml).map(|d| d.value) {
            Ok(Value::Map(entries)) => entries
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|s| (s.to_string(), v)))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// `${name}` resolved in `scope`.
    fn value(scope: &mut Scope, name: &str) -> Value {
        let mut errors = Vec::new();
        let text = Node::new(Pos::default(), Value::Str(format!("${{{name}}}")));
        scope.substitute(&text, &mut errors).value
    }

    #[test]
    fn a_convention_sits_between_the_checklist_and_the_environment() {
        let env = |_: &str| None;
        let checklist = vars(
            "metrics_convention: prometheus\nrequests_metric: ~\nstatus_label: ~\napi_job: api\nversion_label: ~\n",
        );
        let sources = VarSources {
            environment: vars(
                "metrics_convention: otel\nstatus_label: code\nversion_label: ~\napi_job: shop\n",
            ),
            cli: vars("api_job: web\n"),
            ..VarSources::default()
        };
        let text = |s: &str| Value::Str(s.into());
        let mut s = Scope::new(checklist.clone(), &sources, &env);
        // The environment's convention wins over the checklist's; its own value over both.
        assert_eq!(
            value(&mut s, "requests_metric"),
            text("http_server_request_duration_seconds_count")
        );
        assert_eq!(value(&mut s, "status_label"), text("code"));
        // `~` in the environment (as `init` writes) does not hide the convention's value.
        assert_eq!(value(&mut s, "version_label"), text("service_version"));
        // The convention's values resolve against the final variables (`--var` wins).
        assert_eq!(value(&mut s, "service_matcher"), text("job=\"web\""));
        assert_eq!(value(&mut s, "metrics_convention"), text("otel"));
        // `--var` picks another convention over the environment's.
        let cli = VarSources {
            cli: vars("metrics_convention: istio\n"),
            ..sources.clone()
        };
        let mut s = Scope::new(checklist.clone(), &cli, &env);
        assert_eq!(
            value(&mut s, "requests_metric"),
            text("istio_requests_total")
        );
        // No convention: the checklist's defaults, and the name reads `custom`.
        let none = VarSources {
            environment: vars("metrics_convention: ~\n"),
            ..VarSources::default()
        };
        let mut s = Scope::new(checklist, &none, &env);
        assert_eq!(value(&mut s, "requests_metric"), Value::Null);
        assert_eq!(value(&mut s, "metrics_convention"), text("custom"));
    }

    #[test]
    fn an_unknown_metric_convention_is_a_diagnostic_naming_the_known_ones() {
        let text = "name: t\nvars:\n  metrics_convention: otle\nsections:\n  - name: S\n    items:\n      - id: a\n        title: A\n        manual: { how: x }\n";
        let errs = load_text(text).expect_err("unknown convention");
        assert_eq!((errs[0].pos.line, errs[0].pos.col), (3, 23));
        assert_eq!(errs[0].message, "unknown metrics convention `otle`");
        assert!(
            errs[0].hint.as_deref().unwrap_or_default().contains("otel"),
            "{errs:?}"
        );
        let source = Source {
            file: "t.yaml".into(),
            text: text.replace("otle", "otel"),
        };
        let cli = VarSources {
            cli: BTreeMap::from([(
                "metrics_convention".to_string(),
                Node::new(Pos::default(), Value::Str("nope".into())),
            )]),
            ..VarSources::default()
        };
        let errs = load(&source, &cli, &|_| None).expect_err("unknown via --var");
        assert_eq!(errs[0].pos.line, 3);
        assert_eq!(
            errs[0].message,
            "unknown metrics convention `nope` (set by `--var metrics_convention=…`)"
        );
        assert!(load(&source, &VarSources::default(), &|_| None).is_ok());
    }

    fn text(c: &Convention, var: &str) -> Option<String> {
        c.vars.get(var).and_then(Node::scalar_text)
    }

    #[test]
    fn the_table_parses_and_every_convention_sets_every_variable() {
        let table = parse_table(TABLE).expect("the embedded table is valid");
        assert_eq!(table.len(), all().len());
        for name in [
            "prometheus",
            "prometheus-code",
            "otel",
            "otel-legacy",
            "micrometer",
            "ingress-nginx",
            "istio",
        ] {
            assert!(get(name).is_some(), "{name} missing");
        }
        let otel = get("otel").expect("otel");
        assert_eq!(
            text(otel, "requests_metric").as_deref(),
            Some("http_server_request_duration_seconds_count")
        );
        assert_eq!(
            text(otel, "status_label").as_deref(),
            Some("http_response_status_code")
        );
        assert_eq!(text(otel, "version_metric").as_deref(), Some("target_info"));
        let legacy = get("otel-legacy").expect("legacy");
        assert_eq!(
            legacy.vars["latency_unit_seconds"].value,
            Value::Float(0.001)
        );
        let code = get("prometheus-code").expect("code");
        assert_eq!(text(code, "status_label").as_deref(), Some("code"));
        let istio = get("istio").expect("istio");
        assert_eq!(
            text(istio, "version_label").as_deref(),
            Some("destination_version")
        );
        assert_eq!(
            text(istio, "version_metric"),
            text(istio, "requests_metric")
        );
        assert_eq!(
            get("micrometer").expect("micrometer").vars["version_metric"].value,
            Value::Null
        );
    }

    #[test]
    fn a_table_missing_a_variable_is_refused() {
        let err = parse_table("x:\n  title: X\n  vars: { requests_metric: a }\n")
            .expect_err("incomplete");
        assert!(err.contains("`x` sets"), "{err}");
    }

    #[test]
    fn the_cli_wins_over_the_environment_over_the_checklist() {
        let at = |line, v: &str| {
            Node::new(
                Pos {
                    line,
                    col: 1,
                    src: 0,
                },
                Value::Str(v.into()),
            )
        };
        let one = |n: Node| BTreeMap::from([(VARIABLE.to_string(), n)]);
        let (checklist, env, cli) = (
            one(at(1, "prometheus")),
            one(at(2, "otel")),
            one(at(3, "istio")),
        );
        let none = BTreeMap::new();
        assert_eq!(
            chosen(&checklist, &env, &cli).map(|c| c.1),
            Some(Origin::Cli)
        );
        assert_eq!(
            chosen(&checklist, &env, &none).map(|c| c.1),
            Some(Origin::Environment)
        );
        let (node, origin) = chosen(&checklist, &none, &none).expect("checklist");
        assert_eq!((node.pos.line, origin), (1, Origin::Checklist));
        let unset = one(Node::new(Pos::default(), Value::Null));
        assert!(chosen(&checklist, &unset, &none).is_none());
        let layer = layer(Some(&at(2, "otel")));
        assert_eq!(layer["status_label"].pos.line, 2);
        assert_eq!(layer.len(), SETS.len());
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let (message, hint) =
            unknown(&Node::new(Pos::default(), Value::Str("otle".into()))).expect("unknown");
        assert_eq!(message, "unknown metrics convention `otle`");
        assert!(hint.contains("did you mean `otel`?"), "{hint}");
        assert!(hint.contains("prometheus, prometheus-code, otel"), "{hint}");
        assert!(unknown(&Node::new(Pos::default(), Value::Str("istio".into()))).is_none());
    }
}
