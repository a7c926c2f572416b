//! Updating one environment's `vars:` of `prodcheck.yaml` in place: lines are edited, never
//! re-serialised, so the user's comments, order and layout survive what discovery writes.
//!
//! The node tree (`checklist::node`) says where each key is; flow mappings on the way
//! (`staging: { vars: { … } }`) are first rewritten as blocks, then each variable's line is
//! replaced or appended. The result is parsed again before it is handed back.

use crate::checklist::node::{self, Node, Value};
use crate::text::affix;

mod flow;

/// One variable to write: its YAML value text (`None`: unset, `~`) and the comment after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub var: String,
    pub value: Option<String>,
    pub comment: String,
}

/// Why the file could not be edited in place (the caller says what to set by hand).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EditError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> EditError {
    EditError {
        line,
        message: message.into(),
    }
}

/// Structural steps before the values are written; each is followed by a fresh parse.
const MAX_STEPS: usize = 16;
/// Longest comment written after a value.
const MAX_COMMENT: usize = 200;

/// `text` with `edits` applied to environment `env` (created when missing).
pub fn apply(text: &str, env: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..MAX_STEPS {
        if !prepare(&mut lines, env)? {
            break;
        }
    }
    for edit in edits {
        write_var(&mut lines, env, edit)?;
    }
    let mut out = lines.join("\n");
    out.push('\n');
    verify(&out, env, edits)?;
    Ok(out)
}

fn parse(lines: &[String]) -> Result<Node, EditError> {
    let mut text = lines.join("\n");
    text.push('\n');
    node::parse(&text).map_err(|e| err(e.pos.line as usize, format!("invalid YAML: {}", e.message)))
}

/// A key of a mapping and where it is: 0-based line, its indent, whether its line starts with it.
struct Key<'a> {
    pub line: usize,
    pub indent: usize,
    pub value: &'a Node,
}

fn key_of<'a>(lines: &[String], parent: &'a Node, name: &str) -> Option<Key<'a>> {
    let (k, v) = parent.entry(name)?;
    let line = (k.pos.line as usize).checked_sub(1)?;
    let indent = (k.pos.col as usize).saturating_sub(1);
    // Only a key that starts its line can be edited line-wise; callers blockify first.
    let text = lines.get(line)?;
    let starts = text.chars().take(indent).all(|c| c == ' ');
    starts.then_some(Key {
        line,
        indent,
        value: v,
    })
}

/// One structural step: makes `environments`, `env` and `vars` block mappings that exist.
/// `Ok(true)`: something changed (parse again).
fn prepare(lines: &mut Vec<String>, env: &str) -> Result<bool, EditError> {
    let doc = parse(lines)?;
    if !matches!(doc.value, Value::Map(_) | Value::Null) {
        return Err(err(1, "the file is not a mapping"));
    }
    let Some(envs) = key_of(lines, &doc, "environments") else {
        if doc.get("environments").is_some() {
            return Err(err(1, "`environments` does not start a line"));
        }
        let at = content_end(lines, None).map_or(lines.len(), |e| e + 1);
        lines.splice(
            at..at,
            [
                "environments:".to_string(),
                format!("  {env}:"),
                "    vars:".to_string(),
            ],
        );
        return Ok(true);
    };
    if let Some(changed) = normalise(lines, &envs, "environments")? {
        return Ok(changed);
    }
    let Some(e) = key_of(lines, envs.value, env) else {
        if envs.value.get(env).is_some() {
            return Err(err(envs.line + 1, format!("`{env}` does not start a line")));
        }
        let child = child_indent(lines, &envs, envs.value);
        let at = block_end(lines, envs.line, envs.indent) + 1;
        lines.splice(
            at..at,
            [
                format!("{}{env}:", " ".repeat(child)),
                format!("{}vars:", " ".repeat(child + 2)),
            ],
        );
        return Ok(true);
    };
    if let Some(changed) = normalise(lines, &e, env)? {
        return Ok(changed);
    }
    let Some(vars) = key_of(lines, e.value, "vars") else {
        if e.value.get("vars").is_some() {
            return Err(err(e.line + 1, "`vars` does not start a line"));
        }
        let child = child_indent(lines, &e, e.value);
        let at = block_end(lines, e.line, e.indent) + 1;
        lines.insert(at, format!("{}vars:", " ".repeat(child)));
        return Ok(true);
    };
    Ok(normalise(lines, &vars, "vars")?.unwrap_or(false))
}

/// Makes the key's value a block mapping: a null value becomes an empty block, a flow mapping
/// is rewritten as block lines. `Some(true)`: changed; `None`: already a block mapping.
fn normalise(
    lines: &mut Vec<String>,
    key: &Key<'_>,
    name: &str,
) -> Result<Option<bool>, EditError> {
    let after = after_colon(&lines[key.line], key.indent, name)
        .ok_or_else(|| err(key.line + 1, format!("cannot find `{name}:` on its line")))?;
    let rest = lines[key.line][after..].to_string();
    let trimmed = rest.trim_start();
    match &key.value.value {
        Value::Null => {
            // `vars:` / `vars: ~` / `vars: null`: keep the comment, drop the null.
            let comment = comment_start(&rest).map(|c| rest[c..].to_string());
            let value = match comment {
                Some(_) => rest[..comment_start(&rest).unwrap_or(0)].trim(),
                None => rest.trim(),
            };
            if value.is_empty() {
                return Ok(None);
            }
            lines[key.line] = format!("{}{}", &lines[key.line][..after], affix(" ", comment, ""));
            Ok(Some(true))
        }
        Value::Map(_) if trimmed.starts_with('{') => {
            flow::blockify(lines, key, after)?;
            Ok(Some(true))
        }
        Value::Map(_) => Ok(None),
        _ => Err(err(
            key.line + 1,
            format!(
                "`{name}` must be a mapping, found {}",
                key.value.type_name()
            ),
        )),
    }
}

/// Byte offset just past `name:` on `line` (the key starts at `indent`).
fn after_colon(line: &str, indent: usize, name: &str) -> Option<usize> {
    let rest = line.get(indent..)?;
    for quoted in [name.to_string(), format!("\"{name}\""), format!("'{name}'")] {
        if let Some(tail) = rest.strip_prefix(&quoted) {
            let spaces = tail.len() - tail.trim_start_matches(' ').len();
            if tail[spaces..].starts_with(':') {
                return Some(indent + quoted.len() + spaces + 1);
            }
        }
    }
    None
}

/// The indent of the entries of a block mapping (`parent`'s first key), else parent + 2.
fn child_indent(lines: &[String], key: &Key<'_>, value: &Node) -> usize {
    if let Value::Map(entries) = &value.value
        && let Some((k, _)) = entries.first()
        && (k.pos.line as usize) > key.line + 1
    {
        let line = &lines[k.pos.line as usize - 1];
        return line.len() - line.trim_start().len();
    }
    key.indent + 2
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The last line of the block that starts at `start` (a key at `indent`): the last content
/// line below it that is more indented (or a `- ` item at the same indent) before anything
/// that is not. Comments and blank lines after the block's last content stay outside it.
fn block_end(lines: &[String], start: usize, indent: usize) -> usize {
    let mut end = start;
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        if !is_content(line) {
            continue;
        }
        let own = indent_of(line);
        let item = own == indent && line.trim_start().starts_with("- ") && end + 1 == i;
        if own > indent || item {
            end = i;
        } else {
            break;
        }
    }
    end
}

/// The last content line of the file (after `from`), for appending at the top level.
fn content_end(lines: &[String], from: Option<usize>) -> Option<usize> {
    (from.unwrap_or(0)..lines.len())
        .rev()
        .find(|&i| is_content(&lines[i]))
}

/// Where a comment starts in `text` (a `#` after whitespace or at the start, outside quotes).
fn comment_start(text: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '#' && prev.is_whitespace() => return Some(i),
            None if (c == '"' || c == '\'') && (prev.is_whitespace() || "[{,:".contains(prev)) => {
                quote = Some(c)
            }
            None => {}
        }
        prev = c;
    }
    None
}

/// Writes one variable: replaces its line (and a multi-line old value) or appends it.
fn write_var(lines: &mut Vec<String>, env: &str, edit: &Edit) -> Result<(), EditError> {
    let doc = parse(lines)?;
    let vars_key = doc
        .get("environments")
        .and_then(|e| key_of(lines, e, env))
        .and_then(|e| key_of(lines, e.value, "vars"))
        .ok_or_else(|| err(1, format!("environment `{env}` has no `vars:` block")))?;
    let value = edit.value.as_deref().unwrap_or("~");
    let comment = one_line(&edit.comment);
    if let Some(var) = key_of(lines, vars_key.value, &edit.var) {
        let after = after_colon(&lines[var.line], var.indent, &edit.var)
            .ok_or_else(|| err(var.line + 1, format!("cannot find `{}:`", edit.var)))?;
        let old = lines[var.line].clone();
        let column = comment_start(&old[after..]).map(|c| after + c);
        // The value starts where the old one did (`init` aligns values in a column).
        let tail = &old[after..];
        let spaces = tail.len() - tail.trim_start_matches(' ').len();
        let keep = if tail.trim().is_empty() || tail.trim_start().starts_with('#') {
            1
        } else {
            spaces.max(1)
        };
        let mut new = format!("{}{}{value}", &old[..after], " ".repeat(keep));
        pad_to(&mut new, column);
        new.push_str("# ");
        new.push_str(&comment);
        let end = block_end(lines, var.line, var.indent);
        lines.splice(var.line..=end, [new]);
        return Ok(());
    }
    if vars_key.value.get(&edit.var).is_some() {
        return Err(err(
            vars_key.line + 1,
            format!("`{}` does not start a line", edit.var),
        ));
    }
    let indent = child_indent(lines, &vars_key, vars_key.value);
    let at = block_end(lines, vars_key.line, vars_key.indent) + 1;
    let mut new = format!("{}{}: {value}", " ".repeat(indent), edit.var);
    // Align with the comment column of the line above when it has one.
    let column = lines
        .get(at.saturating_sub(1))
        .filter(|l| at > vars_key.line + 1 && indent_of(l) == indent)
        .and_then(|l| comment_start(l));
    pad_to(&mut new, column);
    new.push_str("# ");
    new.push_str(&comment);
    lines.insert(at, new);
    Ok(())
}

/// Pads `line` with spaces to `column` (at least two spaces before the comment).
fn pad_to(line: &mut String, column: Option<usize>) {
    let want = column.unwrap_or(0).max(line.len() + 2);
    while line.len() < want {
        line.push(' ');
    }
}

fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_COMMENT {
        return flat;
    }
    let cut: String = flat.chars().take(MAX_COMMENT - 1).collect();
    format!("{cut}…")
}

/// The edited file must parse and hold every written value under the environment.
fn verify(text: &str, env: &str, edits: &[Edit]) -> Result<(), EditError> {
    let doc = node::parse(text).map_err(|e| {
        err(
            e.pos.line as usize,
            format!("the edit would leave invalid YAML ({})", e.message),
        )
    })?;
    let vars = doc
        .get("environments")
        .and_then(|e| e.get(env))
        .and_then(|e| e.get("vars"));
    for edit in edits {
        let got = vars.and_then(|v| v.get(&edit.var));
        let want = node::parse(edit.value.as_deref().unwrap_or("~")).ok();
        let same = match (got, want) {
            (Some(g), Some(w)) => g.to_json() == w.to_json(),
            _ => false,
        };
        if !same {
            return Err(err(
                got.map_or(1, |g| g.pos.line as usize),
                format!("`{}` did not read back as written", edit.var),
            ));
        }
    }
    Ok(())
}

/// A string as a YAML value: plain when it reads back as the same string, else double-quoted.
pub fn render_str(s: &str) -> String {
    let plain = node::parse(&format!("k: {s}\n"))
        .ok()
        .and_then(|d| d.get("k").and_then(Node::as_str).map(|v| v == s))
        .unwrap_or(false);
    if plain && !s.contains(" #") && !s.trim().is_empty() && s.trim() == s {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
    }
}

#[cfg(test)]
#[path = "yaml_edit_tests.rs"]
mod tests;
