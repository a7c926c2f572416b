//! The `init --discover` command: reads the environment's URLs from `prodcheck.yaml` (secrets
//! through `${env:…}`), asks each configured source, decides what may be written (never over a
//! value the user set), edits the file in place and prints the summary.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::checklist::VarSources;
use crate::checklist::node::{Node, Value};
use crate::checklist::vars::Scope;
use crate::cli::ColorChoice;
use crate::error::CliError;
use crate::exit_code;

use super::finding::{Certainty, Finding, Learned};
use super::polite::{self, Pacer};
use super::table::{self, Row};
use super::yaml_edit::{self, Edit};
use super::{bundle, database, prometheus, web};

/// Variables the shipped checklists named differently before the metric conventions: the
/// found value is written under the old name too while the shipped checklists still use it.
const ALIASES: [(&str, &str); 2] = [
    ("postgres_exporter_job", "postgres_job"),
    ("latency_histogram", "latency_metric"),
];

/// What `init --discover` is pointed at.
pub struct Request<'a> {
    /// The `prodcheck.yaml` to update (it exists).
    pub config: &'a Path,
    pub env: Option<&'a str>,
    /// Where `bundle_glob`'s build output is looked for (the current directory).
    pub build_root: &'a Path,
    /// The shipped checklists' defaults: a variable still holding one was not set by the user.
    pub defaults: &'a BTreeMap<String, Node>,
    pub color: ColorChoice,
}

/// How the file's current value of a variable stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Current {
    Absent,
    /// `~`: for the metric variables, "as the convention says".
    Null,
    /// The value `init` wrote (a shipped default): discovery may replace it.
    Replaceable,
    /// Set by the user: never overwritten.
    User,
}

fn current(vars: &BTreeMap<String, Node>, defaults: &BTreeMap<String, Node>, var: &str) -> Current {
    match vars.get(var) {
        None => Current::Absent,
        Some(n) if n.value == Value::Null => Current::Null,
        Some(n)
            if defaults
                .get(var)
                .is_some_and(|d| d.to_json() == n.to_json()) =>
        {
            Current::Replaceable
        }
        Some(_) => Current::User,
    }
}

/// Runs discovery and updates the file; the exit code.
pub async fn run(req: &Request<'_>) -> Result<u8, CliError> {
    let started = Instant::now();
    let config = crate::run::project::Project::open(Some(req.config), req.color)?.config;
    let env = match pick_env(&config, req.env) {
        Ok(e) => e,
        Err(e) => return Err(e),
    };
    let vars = config.environments.get(&env).cloned().unwrap_or_default();
    let resolved = Resolved::new(req.defaults, &vars);
    let redactor = crate::redact::Redactor::new(resolved.secrets.iter());
    let ca_file = resolved.get("ca_file").ok().map(std::path::PathBuf::from);
    let pacer = match Pacer::new(ca_file.clone()) {
        Ok(p) => p,
        Err(e) => {
            return Err(CliError::usage(
                format!("cannot build the HTTP client: {e}"),
                Some("check `ca_file` in the environment"),
            ));
        }
    };
    let mut learned = Learned::default();
    let base_url = resolved.get("base_url");
    let mut routes = Vec::new();
    match resolved.get("prometheus_url") {
        Ok(prom) => {
            pacer.bound(&prom, polite::PROMETHEUS_BOUND);
            let from = prometheus::discover(&pacer, &prom, base_url.as_deref().ok()).await;
            routes = from.routes;
            learned.extend(from.learned);
        }
        Err(why) => learned.all_needed(&prometheus::VARIABLES, &why),
    }
    match &base_url {
        Ok(base) => {
            pacer.bound(base, polite::WEB_BOUND);
            learned.extend(web::discover(&pacer, base, &routes).await);
        }
        Err(why) => learned.all_needed(&web::VARIABLES, why),
    }
    learned.push(bundle::discover(req.build_root));
    match resolved.get("database_url") {
        Ok(url) => learned.extend(database::postgres(&url, ca_file.as_deref()).await),
        Err(why) => learned.push(Finding::needed("min_replicas", why)),
    }
    if let Ok(url) = resolved.get("redis_url") {
        learned.extend(database::redis(&url, ca_file.as_deref()).await);
    }
    let findings = with_aliases(learned.findings, req.defaults);
    let findings = without_secrets(findings, &resolved, &redactor);
    let (edits, mut rows) = decide(&findings, &vars, req.defaults);
    rows.extend(learned.notes.iter().map(|n| Row {
        status: "note",
        var: n.what.clone(),
        value: String::new(),
        evidence: n.evidence.clone(),
    }));
    let text = match std::fs::read_to_string(req.config) {
        Ok(t) => t,
        Err(e) => {
            return Err(CliError::usage(
                format!("cannot read `{}`: {e}", req.config.display()),
                None,
            ));
        }
    };
    let updated = match yaml_edit::apply(&text, &env, &edits) {
        Ok(t) => t,
        Err(e) => {
            let list: Vec<String> = edits
                .iter()
                .map(|e| format!("{}: {}", e.var, e.value.as_deref().unwrap_or("~")))
                .collect();
            return Err(CliError::usage(
                format!("cannot update `{}` in place: {e}", req.config.display()),
                Some(&redactor.redact(&format!(
                    "set these under environments.{env}.vars by hand: {}",
                    list.join("; ")
                ))),
            ));
        }
    };
    if let Err(e) = crate::state::atomic::write(req.config, updated.as_bytes()) {
        return Err(CliError::usage(
            format!("cannot write `{}`: {e}", req.config.display()),
            None,
        ));
    }
    print!(
        "{}",
        redactor.redact(&summary(&env, &rows, &edits, &pacer, started, req.config))
    );
    Ok(exit_code::OK)
}

/// `--env`, else the file's only environment, else `staging` when it has one.
fn pick_env(config: &crate::config::Config, asked: Option<&str>) -> Result<String, CliError> {
    let known: Vec<&String> = config.environments.keys().collect();
    if let Some(e) = asked {
        return Ok(e.to_string());
    }
    match known.as_slice() {
        [] => Ok("staging".into()),
        [one] => Ok((*one).clone()),
        _ if config.environments.contains_key("staging") => Ok("staging".into()),
        _ => Err(CliError::usage(
            "several environments and no `--env`",
            Some(&format!(
                "name one: `prodcheck init --discover --env NAME` ({})",
                known
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
    }
}

/// The environment's variables with `${…}` resolved (secrets remembered for redaction).
struct Resolved {
    values: BTreeMap<String, Result<Option<String>, String>>,
    secrets: Vec<String>,
}

impl Resolved {
    fn new(defaults: &BTreeMap<String, Node>, vars: &BTreeMap<String, Node>) -> Self {
        let sources = VarSources {
            environment: vars.clone(),
            ..Default::default()
        };
        let env = |name: &str| std::env::var(name).ok();
        let mut scope = Scope::new(defaults.clone(), &sources, &env);
        let mut values = BTreeMap::new();
        for name in [
            "base_url",
            "prometheus_url",
            "database_url",
            "redis_url",
            "ca_file",
        ] {
            let Some(node) = vars.get(name) else {
                values.insert(name.to_string(), Ok(None));
                continue;
            };
            let mut errors = Vec::new();
            let got = scope.substitute(node, &mut errors);
            let value = match errors.first() {
                Some(e) => Err(format!("{name} cannot be resolved: {}", e.message)),
                None => Ok(got.scalar_text().filter(|s| !s.trim().is_empty())),
            };
            values.insert(name.to_string(), value);
        }
        Resolved {
            values,
            secrets: scope.secrets.iter().cloned().collect(),
        }
    }

    /// The value, or why there is none (for the variables that depend on it).
    fn get(&self, name: &str) -> Result<String, String> {
        match self.values.get(name) {
            Some(Ok(Some(v))) => Ok(v.clone()),
            Some(Err(e)) => Err(e.clone()),
            _ => Err(format!(
                "{name} is not set in this environment: set it and run `prodcheck init --discover` again"
            )),
        }
    }
}

/// No secret reaches the file: a URL built on a `base_url` holding `${env:…}` is written on
/// `${base_url}`; any other value holding a secret is not written; evidence is redacted.
fn without_secrets(
    findings: Vec<Finding>,
    resolved: &Resolved,
    redactor: &crate::redact::Redactor,
) -> Vec<Finding> {
    let base = resolved
        .get("base_url")
        .ok()
        .map(|b| b.trim_end_matches('/').to_string());
    findings
        .into_iter()
        .map(|mut f| {
            f.evidence = redactor.redact(&f.evidence);
            let Some(value) = f.value.clone() else {
                return f;
            };
            if redactor.redact(&value) == value {
                return f;
            }
            let rebased = match &base {
                Some(b) if !b.is_empty() => value.replace(b.as_str(), "${base_url}"),
                _ => value,
            };
            if redactor.redact(&rebased) == rebased {
                f.value = Some(rebased);
                return f;
            }
            Finding::needed(
                &f.var,
                format!(
                    "the value found holds a secret ({}): set it by hand",
                    f.evidence
                ),
            )
        })
        .collect()
}

/// Copies of findings under the names the shipped checklists still use.
fn with_aliases(findings: Vec<Finding>, defaults: &BTreeMap<String, Node>) -> Vec<Finding> {
    let mut out = findings.clone();
    for f in &findings {
        for (name, alias) in ALIASES {
            if f.var == name && defaults.contains_key(alias) && !defaults.contains_key(name) {
                let default = defaults.get(alias).and_then(Node::scalar_text);
                let value = f.value.as_deref().map(|v| v.trim_matches('"').to_string());
                let mut copy = f.clone();
                copy.var = alias.to_string();
                copy.standard =
                    f.certainty == Certainty::Found && value.is_some() && value == default;
                out.push(copy);
            }
        }
    }
    out
}

/// The edits to make and the summary rows: a user's value is kept; a standard metric name
/// is not written unless it replaces a line `init` wrote.
fn decide(
    findings: &[Finding],
    vars: &BTreeMap<String, Node>,
    defaults: &BTreeMap<String, Node>,
) -> (Vec<Edit>, Vec<Row>) {
    let mut edits = Vec::new();
    let mut rows = Vec::new();
    for f in findings {
        let state = current(vars, defaults, &f.var);
        let value = f.value.clone().unwrap_or_else(|| "~".into());
        if state == Current::User {
            let mine = vars
                .get(&f.var)
                .map(|n| crate::checklist::node::compact_json(&n.to_json()))
                .unwrap_or_default();
            let said = match f.certainty {
                Certainty::Needed => String::new(),
                _ => format!("; discovery {} {value}", f.certainty.as_str()),
            };
            rows.push(Row {
                status: "kept",
                var: f.var.clone(),
                value: mine,
                evidence: format!("set by you, not changed{said}"),
            });
            continue;
        }
        // The convention's own name needs no line, nor replaces a `~` that defers to it.
        if f.standard && matches!(state, Current::Absent | Current::Null) {
            continue;
        }
        edits.push(Edit {
            var: f.var.clone(),
            value: f.value.clone(),
            comment: f.comment(),
        });
        rows.push(Row {
            status: f.certainty.as_str(),
            var: f.var.clone(),
            value,
            evidence: f.evidence.clone(),
        });
    }
    (edits, rows)
}

fn summary(
    env: &str,
    rows: &[Row],
    edits: &[Edit],
    pacer: &Pacer,
    started: Instant,
    path: &Path,
) -> String {
    let mut out = format!("discovery for environment `{env}`:\n");
    out.push_str(&table::render(rows));
    let sent: Vec<String> = pacer
        .sent()
        .iter()
        .map(|s| format!("{} to {} (bound {})", s.count, s.authority, s.bound))
        .collect();
    let requests = if sent.is_empty() {
        "no HTTP requests".to_string()
    } else {
        format!("HTTP requests: {}", sent.join(", "))
    };
    out.push_str(&format!(
        "{requests}; one at a time, at most {}/s per host; {:.1} s\n",
        polite::PACE_PER_SECOND,
        started.elapsed().as_secs_f64()
    ));
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    let written = edits.iter().filter(|e| e.value.is_some()).count();
    out.push_str(&format!(
        "updated {}: {written} variable(s) written ({} found, {} guessed), {} left unset with the reason, {} of yours kept\n",
        path.display(),
        count("found"),
        count("guessed"),
        count("needed"),
        count("kept"),
    ));
    out
}
