//! Variable substitution: `${name}` from checklist vars < the chosen metric convention
//! (`metrics_convention`, see `conventions`) < environment or target in `prodcheck.yaml`
//! < `--var`, and `${env:NAME}` from the process environment (a secret, redacted later).
//!
//! A string that is exactly one `${name}` takes the variable's own type (`port: ${port}`
//! stays a number); inside longer text the value is interpolated as text. `$${` is a literal.
//! `${name|host}`, `|url_host`, `|port` and `|authority` take parts of a URL-valued variable,
//! so one `base_url` points a checklist at a service.
//!
//! A variable whose value is null (`base_url: ~`) is *unset*: it has no default on purpose.
//! As the whole value of a parameter it leaves that parameter out (an optional `ca_file`);
//! anywhere else (in text, through a filter, for a required parameter) the item cannot run:
//! in lenient mode it is recorded as needing the variable (`run` reports it `unconfigured`),
//! otherwise it is an error naming the variable and where it is used (`--strict-vars`).

use std::collections::{BTreeMap, BTreeSet};

use super::node::{Node, Pos, Value};

/// Where variable values come from, lowest precedence first.
#[derive(Debug, Default, Clone)]
pub struct VarSources {
    /// `prodcheck.yaml` environment vars.
    pub environment: BTreeMap<String, Node>,
    /// `--var k=v` values (already parsed as YAML scalars).
    pub cli: BTreeMap<String, Node>,
    /// Missing `${env:…}` values become a placeholder instead of an error (for `validate`).
    pub lenient_env: bool,
    /// Unset variables become a placeholder instead of an error, and the items that need them
    /// are recorded (`run` reports such items `unconfigured`; `validate`, `show` list them).
    pub lenient_unset: bool,
    /// What the environment or target changes in `prodcheck.yaml`: overrides, not-applicable.
    pub tailoring: super::tailor::Tailoring,
}

impl VarSources {
    /// For reading a checklist rather than running it (`show`, `docs`, `validate`, records):
    /// unset variables and missing `${env:…}` secrets become placeholders.
    pub fn for_reading() -> VarSources {
        VarSources {
            lenient_env: true,
            lenient_unset: true,
            ..VarSources::default()
        }
    }
}

/// A parameter left out because its whole value was an unset variable.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsetParam {
    /// The parameter's key (a required one then shows up as a missing field).
    pub key: String,
    pub var: String,
    pub pos: Pos,
}

/// A substitution problem at a node.
#[derive(Debug, Clone, PartialEq)]
pub struct VarError {
    pub pos: Pos,
    pub message: String,
    pub hint: String,
}

/// The merged variables of one checklist, and the secrets seen while substituting.
pub struct Scope<'a> {
    vars: BTreeMap<String, Node>,
    lenient_env: bool,
    lenient_unset: bool,
    env: &'a dyn Fn(&str) -> Option<String>,
    pub secrets: BTreeSet<String>,
    /// Parameters left out since the last [`Scope::take_unset`].
    unset_params: Vec<UnsetParam>,
    /// Unset variables met in lenient mode since the last [`Scope::take_unset`], at first use.
    needed: BTreeMap<String, Pos>,
    /// `${capture:NAME}` met since the last [`Scope::take_captures`]: left in place for the
    /// runner to fill in, with where each is written.
    captures: Vec<(String, Pos)>,
}

/// How deep variables may refer to variables: the length of the stack of names being expanded
/// (`stack` in the substitution functions, outermost first).
const MAX_DEPTH: usize = 16;

impl<'a> Scope<'a> {
    pub fn new(
        checklist_vars: BTreeMap<String, Node>,
        sources: &VarSources,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let convention =
            super::conventions::chosen(&checklist_vars, &sources.environment, &sources.cli)
                .map(|(node, _)| node);
        let layer = super::conventions::layer(convention);
        let custom = convention.is_none();
        let mut vars = checklist_vars;
        vars.extend(layer.clone());
        vars.extend(sources.environment.clone());
        vars.extend(sources.cli.clone());
        // `~` in prodcheck.yaml (as `init` writes every variable) is "not set here", not a
        // reason to hide the value the chosen convention gives.
        for (name, node) in layer {
            if vars.get(&name).is_some_and(|v| v.value == Value::Null) {
                vars.insert(name, node);
            }
        }
        if custom {
            // Named in `missing:` messages: no convention, the variables are set one by one.
            vars.insert(
                super::conventions::VARIABLE.to_string(),
                Node::new(Pos::default(), Value::Str("custom".into())),
            );
        }
        Scope {
            vars,
            lenient_env: sources.lenient_env,
            lenient_unset: sources.lenient_unset,
            env,
            secrets: BTreeSet::new(),
            unset_params: Vec::new(),
            needed: BTreeMap::new(),
            captures: Vec::new(),
        }
    }

    /// The `${capture:NAME}` references met since last asked, each with where it is written.
    pub fn take_captures(&mut self) -> Vec<(String, Pos)> {
        std::mem::take(&mut self.captures)
    }

    /// Whether unset variables are tolerated (commands that do not run the checklist).
    pub fn lenient_unset(&self) -> bool {
        self.lenient_unset
    }

    /// The parameters left out and (lenient mode) the unset variables needed since last asked.
    pub fn take_unset(&mut self) -> (Vec<UnsetParam>, BTreeMap<String, Pos>) {
        (
            std::mem::take(&mut self.unset_params),
            std::mem::take(&mut self.needed),
        )
    }

    fn unset_error(&mut self, pos: Pos, name: &str, errors: &mut Vec<VarError>) {
        if self.lenient_unset {
            self.needed.entry(name.to_string()).or_insert(pos);
            return;
        }
        errors.push(VarError {
            pos,
            message: format!("variable `{name}` is not set"),
            hint: unset_hint(name),
        });
    }

    /// Substitutes every string in `node`, collecting one error per bad reference.
    pub fn substitute(&mut self, node: &Node, errors: &mut Vec<VarError>) -> Node {
        self.substitute_at(node, errors, &mut Vec::new())
    }

    fn substitute_at(
        &mut self,
        node: &Node,
        errors: &mut Vec<VarError>,
        stack: &mut Vec<String>,
    ) -> Node {
        let value = match &node.value {
            Value::Str(s) => return self.substitute_str(node.pos, s, errors, stack),
            Value::Seq(items) => Value::Seq(
                items
                    .iter()
                    .map(|n| self.substitute_at(n, errors, stack))
                    .collect(),
            ),
            Value::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let value = self.substitute_at(v, errors, stack);
                    if let (Value::Null, Value::Str(text), Some(key)) =
                        (&value.value, &v.value, k.as_str())
                        && let Ok(parts) = split(text)
                        && let [Part::Var(name)] = parts.as_slice()
                        && !name.starts_with("env:")
                    {
                        self.unset_params.push(UnsetParam {
                            key: key.to_string(),
                            var: name.clone(),
                            pos: v.pos,
                        });
                        continue;
                    }
                    out.push((k.clone(), value));
                }
                Value::Map(out)
            }
            other => other.clone(),
        };
        Node::new(node.pos, value)
    }

    fn substitute_str(
        &mut self,
        pos: Pos,
        text: &str,
        errors: &mut Vec<VarError>,
        stack: &mut Vec<String>,
    ) -> Node {
        let parts = match split(text) {
            Ok(p) => p,
            Err(message) => {
                errors.push(VarError {
                    pos,
                    message,
                    hint: "write `${name}` or `${env:NAME}`; write `$${` for a literal `${`".into(),
                });
                return Node::new(pos, Value::Str(text.to_string()));
            }
        };
        if let [Part::Var(name)] = parts.as_slice() {
            if let Some(node) = self.lookup(pos, name, errors, stack) {
                return Node::new(pos, node.value);
            }
            return Node::new(pos, Value::Str(text.to_string()));
        }
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Text(t) => out.push_str(&t),
                Part::Var(name) => {
                    if let Some(node) = self.lookup(pos, &name, errors, stack) {
                        match node.scalar_text() {
                            Some(t) => out.push_str(&t),
                            None if node.value == Value::Null => {
                                self.unset_error(pos, &name, errors);
                                out.push_str(&format!("<{name}>"));
                            }
                            None => errors.push(VarError {
                                pos,
                                message: format!(
                                    "variable `{name}` is {} and cannot be placed inside text",
                                    node.type_name()
                                ),
                                hint: "use it as the whole value, or give it a scalar value".into(),
                            }),
                        }
                    }
                }
            }
        }
        Node::new(pos, Value::Str(out))
    }

    fn lookup(
        &mut self,
        pos: Pos,
        name: &str,
        errors: &mut Vec<VarError>,
        stack: &mut Vec<String>,
    ) -> Option<Node> {
        if let Some(capture) = name.strip_prefix("capture:") {
            // A value another item captures at run time: the runner substitutes it, as JSON
            // with `|json` (the only filter a value not known yet can take).
            let (capture, filter) = capture
                .split_once('|')
                .map_or((capture, None), |(c, f)| (c, Some(f)));
            if filter.is_some_and(|f| f != "json") {
                errors.push(VarError {
                    pos,
                    message: format!(
                        "`${{{name}}}`: a captured value takes only the `json` filter"
                    ),
                    hint: "write `${capture:NAME|json}` inside a JSON body, else `${capture:NAME}`"
                        .into(),
                });
                return None;
            }
            self.captures.push((capture.to_string(), pos));
            return Some(Node::new(pos, Value::Str(format!("${{{name}}}"))));
        }
        if let Some(env_name) = name.strip_prefix("env:") {
            return match (self.env)(env_name) {
                Some(v) => {
                    if !v.is_empty() {
                        self.secrets.insert(v.clone());
                    }
                    Some(Node::new(pos, Value::Str(v)))
                }
                None if self.lenient_env => {
                    Some(Node::new(pos, Value::Str(format!("<env:{env_name}>"))))
                }
                None => {
                    errors.push(VarError {
                        pos,
                        message: format!("environment variable `{env_name}` is not set"),
                        hint: format!("export {env_name}=… before running prodcheck"),
                    });
                    None
                }
            };
        }
        if let Some((base, filter)) = name.split_once('|') {
            let node = self.lookup(pos, base, errors, stack)?;
            if node.value == Value::Null {
                self.unset_error(pos, base, errors);
                return Some(Node::new(pos, Value::Str(format!("<{name}>"))));
            }
            if filter == "json" {
                return Some(Node::new(pos, Value::Str(self.json_text(&node))));
            }
            return match url_part(&node, filter) {
                Ok(value) => Some(Node::new(pos, value)),
                Err(message) => {
                    errors.push(VarError {
                        pos,
                        message: format!("`${{{name}}}`: {message}"),
                        hint: "the filters `host`, `url_host`, `port` and `authority` take parts of a URL such as `https://shop.example:8443`; `json` writes the value as a JSON literal".into(),
                    });
                    None
                }
            };
        }
        if stack.iter().any(|s| s == name) || stack.len() >= MAX_DEPTH {
            errors.push(VarError {
                pos,
                message: format!(
                    "variable `{name}` refers to itself ({} → {name})",
                    stack.join(" → ")
                ),
                hint: "break the cycle: one of these variables needs a literal value".into(),
            });
            return None;
        }
        let Some(raw) = self.vars.get(name).cloned() else {
            errors.push(VarError {
                pos,
                message: format!("undefined variable `{name}`"),
                hint: format!(
                    "define `{name}` under `vars:`, in the `prodcheck.yaml` environment, or pass `--var {name}=VALUE`"
                ),
            });
            return None;
        };
        stack.push(name.to_string());
        let mut inner = Vec::new();
        let known: BTreeSet<String> = self.needed.keys().cloned().collect();
        let resolved = self.substitute_at(&raw, &mut inner, stack);
        stack.pop();
        // Like errors, unset variables met inside a variable's value count where it is used.
        for (var, at) in self.needed.iter_mut() {
            if !known.contains(var) {
                *at = pos;
            }
        }
        // Errors inside a variable's own value are reported where the variable is used.
        let failed = !inner.is_empty();
        for e in inner {
            errors.push(VarError { pos, ..e });
        }
        (!failed).then_some(resolved)
    }
}

impl Scope<'_> {
    /// `${name|json}`: the value as a JSON literal (a string quoted and escaped, numbers and
    /// booleans as they are), for variables inside JSON bodies. A secret escaped on the way
    /// (a password with `"` or `\\`) is recorded in its escaped form too, so it is redacted
    /// wherever the body is shown.
    fn json_text(&mut self, node: &Node) -> String {
        let json = node.to_json();
        if let serde_json::Value::String(text) = &json {
            let escaped: Vec<String> = self
                .secrets
                .iter()
                .filter(|s| text.contains(s.as_str()))
                .filter_map(|s| {
                    let quoted = serde_json::Value::String(s.clone()).to_string();
                    let inner = quoted[1..quoted.len() - 1].to_string();
                    (inner != *s).then_some(inner)
                })
                .collect();
            self.secrets.extend(escaped);
        }
        json.to_string()
    }
}

/// What to do about an unset variable, in one place.
pub fn unset_hint(name: &str) -> String {
    format!(
        "it has no default on purpose (a real target), so nothing was sent: set it for an environment in prodcheck.yaml (`prodcheck init` writes one) and pass `--env NAME`, or pass `--var {name}=VALUE`"
    )
}

/// A part of a URL-valued variable: `host` (bare, `::1`), `url_host` (as in a URL, `[::1]`),
/// `port` (explicit or the scheme's default, a number) or `authority` (`url_host:port`).
fn url_part(node: &Node, filter: &str) -> Result<Value, String> {
    let text = node
        .scalar_text()
        .ok_or_else(|| format!("the variable is {}, not a URL", node.type_name()))?;
    let url = url::Url::parse(&text).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    let url_host = url
        .host_str()
        .ok_or_else(|| format!("`{text}` has no host"))?
        .to_string();
    let port = url.port_or_known_default();
    let need_port =
        || port.ok_or_else(|| format!("`{text}` has no port and its scheme has no default"));
    match filter {
        "host" => Ok(Value::Str(
            url_host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        )),
        "url_host" => Ok(Value::Str(url_host)),
        "port" => Ok(Value::Int(i64::from(need_port()?))),
        "authority" => Ok(Value::Str(format!("{url_host}:{}", need_port()?))),
        other => Err(format!("unknown filter `{other}`")),
    }
}

#[derive(Debug, PartialEq)]
enum Part {
    Text(String),
    Var(String),
}

fn split(text: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut buf = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        buf.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            buf.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else {
                return Err(format!("unterminated `${{` in `{text}`"));
            };
            let name = tail[..end].trim();
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.:|".contains(c));
            if !valid {
                return Err(format!(
                    "invalid variable reference `${{{}}}`",
                    &tail[..end]
                ));
            }
            if !buf.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut buf)));
            }
            parts.push(Part::Var(name.to_string()));
            rest = &tail[end + 1..];
        } else {
            buf.push('$');
            rest = &after[1..];
        }
    }
    buf.push_str(rest);
    if !buf.is_empty() || parts.is_empty() {
        parts.push(Part::Text(buf));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::node::parse;

    fn scope_with<'a>(yaml: &str, env: &'a dyn Fn(&str) -> Option<String>) -> Scope<'a> {
        let doc = parse(yaml).expect("vars parse");
        let vars = match doc.value {
            Value::Map(entries) => entries
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|s| (s.to_string(), v)))
                .collect(),
            _ => BTreeMap::new(),
        };
        Scope::new(vars, &VarSources::default(), env)
    }

    fn sub(scope: &mut Scope, text: &str) -> (Node, Vec<VarError>) {
        let mut errors = Vec::new();
        let node = Node::new(
            Pos {
                line: 1,
                col: 1,
                src: 0,
            },
            Value::Str(text.into()),
        );
        (scope.substitute(&node, &mut errors), errors)
    }

    #[test]
    fn whole_reference_keeps_the_type_and_text_interpolates() {
        let env = |_: &str| None;
        let mut s = scope_with(
            "port: 8443\nhost: a.test\nurl: https://${host}:${port}\n",
            &env,
        );
        assert_eq!(sub(&mut s, "${port}").0.value, Value::Int(8443));
        assert_eq!(
            sub(&mut s, "${url}/x").0.value,
            Value::Str("https://a.test:8443/x".into())
        );
        assert_eq!(
            sub(&mut s, "cost $5 $${x}").0.value,
            Value::Str("cost $5 ${x}".into())
        );
    }

    #[test]
    fn missing_and_cyclic_variables_are_errors() {
        let env = |_: &str| None;
        let mut s = scope_with("a: ${b}\nb: ${a}\n", &env);
        let (_, errors) = sub(&mut s, "${nope}");
        assert!(errors[0].message.contains("undefined variable `nope`"));
        let (_, errors) = sub(&mut s, "${a}");
        assert!(
            errors[0].message.contains("refers to itself"),
            "{:?}",
            errors
        );
        let (_, errors) = sub(&mut s, "${env:PRODCHECK_TEST_UNSET}");
        assert!(errors[0].message.contains("is not set"));
        let (_, errors) = sub(&mut s, "${oops");
        assert!(errors[0].message.contains("unterminated"));
    }

    #[test]
    fn the_json_filter_writes_a_json_literal_and_records_escaped_secrets() {
        let env = |n: &str| (n == "PW").then(|| r#"pa"ss\wd"#.to_string());
        let mut s = scope_with("user: ci \"bot\"\nretries: 3\npassword: ${env:PW}\n", &env);
        let (body, errors) = sub(
            &mut s,
            r#"{"user": ${user|json}, "n": ${retries|json}, "password": ${password|json}}"#,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Value::Str(text) = body.value else {
            panic!("a string")
        };
        assert_eq!(
            text,
            r#"{"user": "ci \"bot\"", "n": 3, "password": "pa\"ss\\wd"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed["password"], r#"pa"ss\wd"#);
        // The secret as it stands in the body is redacted too.
        assert!(s.secrets.contains(r#"pa"ss\wd"#));
        assert!(s.secrets.contains(r#"pa\"ss\\wd"#));
    }

    #[test]
    fn a_capture_keeps_its_json_filter_for_the_runner_and_refuses_others() {
        let env = |_: &str| None;
        let mut s = scope_with("{}", &env);
        let (body, errors) = sub(&mut s, r#"{"token": ${capture:token|json}}"#);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            body.value,
            Value::Str(r#"{"token": ${capture:token|json}}"#.into())
        );
        assert_eq!(s.take_captures()[0].0, "token");
        let (_, errors) = sub(&mut s, "${capture:token|host}");
        assert_eq!(
            errors[0].message,
            "`${capture:token|host}`: a captured value takes only the `json` filter"
        );
    }

    #[test]
    fn env_values_are_recorded_as_secrets() {
        let env = |n: &str| (n == "TOKEN").then(|| "s3cr3t".to_string());
        let mut s = scope_with("{}", &env);
        assert_eq!(
            sub(&mut s, "Bearer ${env:TOKEN}").0.value,
            Value::Str("Bearer s3cr3t".into())
        );
        assert!(s.secrets.contains("s3cr3t"));
    }

    #[test]
    fn url_filters_take_parts_of_base_url() {
        let env = |_: &str| None;
        let mut s = scope_with(
            "base_url: https://[::1]:8443/app\nplain: http://shop.example/\n",
            &env,
        );
        assert_eq!(
            sub(&mut s, "${base_url|host}").0.value,
            Value::Str("::1".into())
        );
        assert_eq!(sub(&mut s, "${base_url|port}").0.value, Value::Int(8443));
        assert_eq!(
            sub(&mut s, "wss://${base_url|authority}/ws").0.value,
            Value::Str("wss://[::1]:8443/ws".into())
        );
        assert_eq!(
            sub(&mut s, "http://${plain|url_host}/").0.value,
            Value::Str("http://shop.example/".into())
        );
        assert_eq!(sub(&mut s, "${plain|port}").0.value, Value::Int(80));
        let (_, errors) = sub(&mut s, "${plain|path}");
        assert!(errors[0].message.contains("unknown filter `path`"));
    }

    #[test]
    fn an_unset_variable_stops_text_and_leaves_out_a_whole_parameter() {
        let env = |_: &str| None;
        let mut s = scope_with("base_url: ~\nhost: ${base_url|host}\nca_file: ~\n", &env);
        let (_, errors) = sub(&mut s, "${base_url}/health");
        assert_eq!(errors[0].message, "variable `base_url` is not set");
        let (_, errors) = sub(&mut s, "${host}");
        assert_eq!(errors[0].message, "variable `base_url` is not set");
        let doc = parse("tls: { host: example.test, ca_file: \"${ca_file}\" }").expect("yaml");
        let mut errors = Vec::new();
        let out = s.substitute(&doc, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(out.get("tls").and_then(|t| t.get("ca_file")).is_none());
        let (left_out, _) = s.take_unset();
        assert_eq!(left_out[0].key, "ca_file");
    }
}
