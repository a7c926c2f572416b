//! Flows at run time: an item that `capture:`s takes its values from the answer once it passed;
//! an item that uses `${capture:NAME}` gets its probe rebuilt with them just before it runs.
//! Its needs have passed by then (the needs queue), so every value it uses exists.

use std::collections::HashMap;
use std::sync::Arc;

use checks::Probe;
use checks::capture::Capture;
use checks::registry::{self, BuildError};
use serde_json::Value;

use crate::checklist::Check;
use crate::run::verdict::ProbeRun;

/// The probe to run for `check`: its own, or, when its parameters use captured values, one
/// built from them with `values` filled in. `Err` says why the filled-in parameters do not hold.
pub fn probe_with(
    check: &Check,
    values: &HashMap<String, String>,
) -> Result<Arc<dyn Probe>, String> {
    if check.flow.uses.is_empty() {
        return Ok(check.probe.clone());
    }
    let mut params = check.params.clone();
    fill(&mut params, values);
    let keys = registry::net_keys(&check.kind);
    let (own, net): (
        serde_json::Map<String, Value>,
        serde_json::Map<String, Value>,
    ) = match params {
        Value::Object(map) => map
            .into_iter()
            .partition(|(k, _)| !keys.contains(&k.as_str())),
        _ => Default::default(),
    };
    match registry::build(&check.kind, Value::Object(own), Value::Object(net)) {
        Some(Ok(probe)) => Ok(Arc::from(probe)),
        Some(Err(BuildError::Params(e))) => Err(format!(
            "the `{}` parameters with the captured values filled in do not hold: {e}",
            check.kind
        )),
        Some(Err(BuildError::Invalid(issues))) => Err(format!(
            "the `{}` parameters with the captured values filled in do not hold: {}",
            check.kind,
            issues
                .iter()
                .map(|i| i.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )),
        None => Err(format!("unknown probe kind `{}`", check.kind)),
    }
}

/// The run of an item whose parameters did not hold once the captured values were filled in.
pub fn not_built(why: String) -> ProbeRun {
    ProbeRun {
        outcome: checks::Outcome::error(why),
        duration: std::time::Duration::ZERO,
        attempts: 0,
        flaky: false,
    }
}

/// Replaces every `${capture:NAME}` in the strings of `value` (keys too) by its value.
fn fill(value: &mut Value, values: &HashMap<String, String>) {
    match value {
        Value::String(s) => *s = filled(s, values),
        Value::Array(items) => items.iter_mut().for_each(|v| fill(v, values)),
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (k, mut v) in old {
                fill(&mut v, values);
                map.insert(filled(&k, values), v);
            }
        }
        _ => {}
    }
}

/// `text` with `${capture:NAME}` replaced by the value as it is and `${capture:NAME|json}` by
/// the value as a JSON string literal (quoted and escaped).
fn filled(text: &str, values: &HashMap<String, String>) -> String {
    if !text.contains("${capture:") {
        return text.to_string();
    }
    let mut out = text.to_string();
    for (name, value) in values {
        out = out.replace(&format!("${{capture:{name}}}"), value);
        let json = Value::String(value.clone()).to_string();
        out = out.replace(&format!("${{capture:{name}|json}}"), &json);
    }
    out
}

/// The forms of a captured value to redact: the value, and its escaped form inside a JSON
/// string when that differs (a token with `"` or `\` sent through `|json`).
pub fn secret_forms(value: &str) -> Vec<String> {
    let quoted = Value::String(value.to_string()).to_string();
    let inner = &quoted[1..quoted.len() - 1];
    let mut forms = vec![value.to_string()];
    if inner != value {
        forms.push(inner.to_string());
    }
    forms
}

/// Takes the `captures` of a run that passed (or warned) from its answer, and drops the
/// answer. A capture that finds nothing fails the item, saying what it looked for; the
/// values found are returned (name, value) and never enter the outcome.
pub fn take(run: &mut ProbeRun, captures: &[(String, Capture)]) -> Vec<(String, String)> {
    let answer = run.outcome.answer.take();
    if captures.is_empty()
        || !matches!(
            run.outcome.status,
            checks::Status::Pass | checks::Status::Warn
        )
    {
        return Vec::new();
    }
    let Some(answer) = answer else {
        run.outcome.status = checks::Status::Fail;
        run.outcome.message = format!(
            "{}; but it kept no answer to capture {} from",
            run.outcome.message,
            names(captures)
        );
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut missed = Vec::new();
    for (name, capture) in captures {
        match capture.extract(&answer) {
            Ok(value) => found.push((name.clone(), value)),
            Err(why) => missed.push(format!("capture `{name}`: {why}")),
        }
    }
    let evidence: serde_json::Map<String, Value> = captures
        .iter()
        .map(|(name, c)| {
            let got = found.iter().any(|(n, _)| n == name);
            let what = if got { "captured" } else { "not found" };
            (
                name.clone(),
                Value::String(format!("{what} ({})", c.describe())),
            )
        })
        .collect();
    run.outcome
        .evidence
        .insert("captures".into(), Value::Object(evidence));
    if !missed.is_empty() {
        run.outcome.status = checks::Status::Fail;
        run.outcome.message = format!("{}; {}", run.outcome.message, missed.join("; "));
        // The items that need this one are skipped: none of its values is handed on.
        return Vec::new();
    }
    found
}

fn names(captures: &[(String, Capture)]) -> String {
    captures
        .iter()
        .map(|(n, _)| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_captured_value_is_filled_in_as_it_is_or_as_a_json_literal() {
        let values = HashMap::from([("token".to_string(), r#"t"o\k"#.to_string())]);
        assert_eq!(
            filled(
                r#"Bearer ${capture:token} / {"token": ${capture:token|json}}"#,
                &values
            ),
            r#"Bearer t"o\k / {"token": "t\"o\\k"}"#
        );
    }

    #[test]
    fn a_captured_value_is_redacted_in_its_escaped_form_too() {
        assert_eq!(secret_forms("plain"), ["plain"]);
        assert_eq!(secret_forms(r#"t"o\k"#), [r#"t"o\k"#, r#"t\"o\\k"#]);
    }
}
