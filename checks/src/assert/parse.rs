//! The assertion grammar: `SELECTOR OPERATOR [VALUE] [warn VALUE]`, parsed once at load time
//! so that a bad pointer, regex or unit is a positioned diagnostic and never a run-time error.

use std::fmt;

use regex::Regex;

use crate::params::{parse_duration, parse_size};

/// What an assertion looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// A JSON pointer into the document (`/checks/db/latency_ms`); `.` (empty) is all of it.
    Pointer(String),
    /// The HTTP status code.
    Status,
    /// A response header (first value), by case-insensitive name.
    Header(String),
    /// The body as text.
    Body,
    /// How long the answer took.
    Time,
}

impl Selector {
    /// The selector's name in messages and `ParamIssue`s (`status`, `header`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Selector::Pointer(_) => "pointer",
            Selector::Status => "status",
            Selector::Header(_) => "header",
            Selector::Body => "body",
            Selector::Time => "time",
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Pointer(p) if p.is_empty() => f.write_str("."),
            Selector::Pointer(p) => f.write_str(p),
            Selector::Status => f.write_str("status"),
            Selector::Header(h) => write!(f, "header {h}"),
            Selector::Body => f.write_str("body"),
            Selector::Time => f.write_str("time"),
        }
    }
}

/// An ordering or equality operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
    pub fn ordering(self) -> bool {
        matches!(self, Cmp::Lt | Cmp::Le | Cmp::Gt | Cmp::Ge)
    }
    pub fn holds(self, found: f64, want: f64) -> bool {
        match self {
            Cmp::Eq => found == want,
            Cmp::Ne => found != want,
            Cmp::Lt => found < want,
            Cmp::Le => found <= want,
            Cmp::Gt => found > want,
            Cmp::Ge => found >= want,
        }
    }
}

/// A number as written, in its unit's base (seconds for durations, bytes for sizes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    Plain,
    Seconds,
    Bytes,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number {
        value: f64,
        unit: Unit,
        text: String,
    },
    Text(String),
    Bool(bool),
    Null,
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Number { text, .. } => f.write_str(text),
            Operand::Text(t) => f.write_str(t),
            Operand::Bool(b) => write!(f, "{b}"),
            Operand::Null => f.write_str("null"),
        }
    }
}

/// What is asserted about the selected value.
#[derive(Debug, Clone)]
pub enum Test {
    Compare {
        cmp: Cmp,
        want: Operand,
        /// A stricter level of the same comparison: crossing it warns, crossing `want` fails.
        warn: Option<Operand>,
    },
    Matches(Regex),
    Contains(String),
    Exists,
    Absent,
    Every(Box<Assertion>),
    Any(Box<Assertion>),
}

/// One parsed assertion, with the text it came from.
#[derive(Debug, Clone)]
pub struct Assertion {
    pub text: String,
    pub selector: Selector,
    pub test: Test,
}

const OPERATORS: &str = "==, !=, <, <=, >, >=, matches, contains, exists, absent, every, any";

/// Parses one assertion; `Err` says what is wrong in words.
pub fn parse(text: &str) -> Result<Assertion, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the assertion is empty".into());
    }
    let (selector, rest) = selector(t)?;
    let rest = rest.trim_start();
    let (op, value) = match rest.split_once(char::is_whitespace) {
        Some((op, value)) => (op, value.trim()),
        None => (rest, ""),
    };
    if op.is_empty() {
        return Err(format!(
            "`{t}` has no operator after `{selector}`: use one of {OPERATORS}"
        ));
    }
    let no_value = |name: &str| -> Result<(), String> {
        if value.is_empty() {
            Ok(())
        } else {
            Err(format!("`{name}` takes no value, found `{value}`"))
        }
    };
    let needs_value = |name: &str| -> Result<(), String> {
        if value.is_empty() {
            Err(format!("`{name}` needs a value after it"))
        } else {
            Ok(())
        }
    };
    let test = match op {
        "exists" => no_value(op).map(|_| Test::Exists)?,
        "absent" => no_value(op).map(|_| Test::Absent)?,
        "matches" => {
            needs_value(op)?;
            let re = Regex::new(unquote(value))
                .map_err(|e| format!("invalid regular expression `{value}`: {}", first_line(&e)))?;
            Test::Matches(re)
        }
        "contains" => {
            needs_value(op)?;
            Test::Contains(unquote(value).to_string())
        }
        "every" | "any" => {
            needs_value(op)?;
            let inner = parse(value).map_err(|e| format!("in `{op} {value}`: {e}"))?;
            if !matches!(inner.selector, Selector::Pointer(_)) {
                return Err(format!(
                    "`{op}` looks into each element with a JSON pointer (`/status`) or `.`, found `{}`",
                    inner.selector
                ));
            }
            if op == "every" {
                Test::Every(Box::new(inner))
            } else {
                Test::Any(Box::new(inner))
            }
        }
        _ => {
            let cmp = match op {
                "==" | "=" => Cmp::Eq,
                "!=" => Cmp::Ne,
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                ">=" => Cmp::Ge,
                other => {
                    return Err(format!(
                        "unknown operator `{other}` in `{t}`: use one of {OPERATORS}"
                    ));
                }
            };
            needs_value(op)?;
            compare(cmp, value)?
        }
    };
    Ok(Assertion {
        text: t.to_string(),
        selector,
        test,
    })
}

/// The regex crate's message without its drawing of the pattern: the line after `error:`.
pub(crate) fn first_line(e: &regex::Error) -> String {
    let s = e.to_string();
    s.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_string())
        .unwrap_or(s)
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

fn compare(cmp: Cmp, value: &str) -> Result<Test, String> {
    let (want, warn) = match value.split_once(" warn ") {
        Some((w, level)) => (w.trim(), Some(level.trim())),
        None => (value, None),
    };
    let want = operand(want);
    if cmp.ordering() && !matches!(want, Operand::Number { .. }) {
        return Err(format!(
            "`{}` needs a number (with a unit such as `50ms` or `10KiB` if you like), found `{want}`",
            cmp.as_str()
        ));
    }
    let warn = match warn {
        None => None,
        Some(level) => {
            let level = operand(level);
            let (
                Operand::Number {
                    value: w, unit: wu, ..
                },
                Operand::Number {
                    value: f, unit: fu, ..
                },
            ) = (&level, &want)
            else {
                return Err(format!(
                    "`warn` levels go with `<`, `<=`, `>` or `>=` and a number, found `{} {want} warn {level}`",
                    cmp.as_str()
                ));
            };
            if !cmp.ordering() {
                return Err(format!(
                    "`warn` levels go with `<`, `<=`, `>` or `>=`, not `{}`",
                    cmp.as_str()
                ));
            }
            if wu != fu {
                return Err(format!(
                    "the warn level `{level}` and the failing level `{want}` have different units"
                ));
            }
            let stricter = match cmp {
                Cmp::Lt | Cmp::Le => w <= f,
                _ => w >= f,
            };
            if !stricter {
                return Err(format!(
                    "the warn level `{level}` is past the failing level `{want}`: it would never fire first"
                ));
            }
            Some(level)
        }
    };
    Ok(Test::Compare { cmp, want, warn })
}

/// A value as written: a number (with an optional duration or size unit), `true`, `false`,
/// `null`, or text (quotes optional).
pub fn operand(v: &str) -> Operand {
    let v = v.trim();
    if v.starts_with('"') || v.starts_with('\'') {
        return Operand::Text(unquote(v).to_string());
    }
    match v {
        "true" => return Operand::Bool(true),
        "false" => return Operand::Bool(false),
        "null" => return Operand::Null,
        _ => {}
    }
    let number = |value: f64, unit| Operand::Number {
        value,
        unit,
        text: v.to_string(),
    };
    if let Ok(n) = v.parse::<f64>()
        && n.is_finite()
    {
        return number(n, Unit::Plain);
    }
    if v.starts_with(|c: char| c.is_ascii_digit()) {
        if let Ok(d) = parse_duration(v) {
            return number(d.as_secs_f64(), Unit::Seconds);
        }
        if let Ok(b) = parse_size(v) {
            return number(b as f64, Unit::Bytes);
        }
    }
    Operand::Text(v.to_string())
}

/// The selector at the start of `t`, and what follows it.
fn selector(t: &str) -> Result<(Selector, &str), String> {
    let (first, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
    let sel = match first {
        "status" => Selector::Status,
        "body" => Selector::Body,
        "time" => Selector::Time,
        "." | "$" => Selector::Pointer(String::new()),
        "header" => {
            let rest = rest.trim_start();
            let (name, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid {
                return Err(format!(
                    "`header` needs a header name after it (`header Server absent`), found `{name}`"
                ));
            }
            return Ok((Selector::Header(name.to_string()), after));
        }
        p if p.starts_with('/') => Selector::Pointer(pointer(p)?),
        p if p.starts_with("$.") || p.starts_with("$[") => Selector::Pointer(json_path(p)?),
        other => {
            return Err(format!(
                "`{other}` is not a selector: start with a JSON pointer (`/status`), a JSONPath (`$.status`), `.`, `status`, `header NAME`, `body` or `time`"
            ));
        }
    };
    Ok((sel, rest))
}

/// Checks a JSON pointer's escapes (`~0`, `~1` only).
fn pointer(p: &str) -> Result<String, String> {
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!(
                "`{p}` is not a valid JSON pointer: `~` must be followed by `0` (for `~`) or `1` (for `/`)"
            ));
        }
    }
    Ok(p.to_string())
}

/// The JSONPath subset `$.a.b[0]['c d']` as a JSON pointer.
fn json_path(p: &str) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "`{p}` is not a JSONPath prodcheck reads ({why}); use `$.name`, `$.list[0]`, `$['odd name']` or a JSON pointer"
        )
    };
    let escape = |s: &str| s.replace('~', "~0").replace('/', "~1");
    let mut out = String::new();
    let mut rest = &p[1..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name == "*" {
                return Err(bad("empty name or wildcard"));
            }
            out.push('/');
            out.push_str(&escape(name));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| bad("unclosed `[`"))?;
            let inside = r[..end].trim();
            let key = if let Ok(i) = inside.parse::<usize>() {
                i.to_string()
            } else if inside.len() >= 2 && (inside.starts_with('\'') || inside.starts_with('"')) {
                escape(unquote(inside))
            } else {
                return Err(bad(
                    "filters and wildcards are not supported; use `every` or `any`",
                ));
            };
            out.push('/');
            out.push_str(&key);
            rest = &r[end + 1..];
        } else {
            return Err(bad("expected `.` or `[`"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_operators_parse() {
        let a = parse("/checks/db/latency_ms < 50 warn 40").expect("parses");
        assert_eq!(
            a.selector,
            Selector::Pointer("/checks/db/latency_ms".into())
        );
        assert!(matches!(
            a.test,
            Test::Compare {
                cmp: Cmp::Lt,
                warn: Some(_),
                ..
            }
        ));
        let h = parse("header Server absent").expect("parses");
        assert_eq!(h.selector, Selector::Header("Server".into()));
        let e = parse("/services every /status == up").expect("parses");
        assert!(matches!(e.test, Test::Every(_)));
        let j = parse("$.items[0]['a/b'] exists").expect("parses");
        assert_eq!(j.selector, Selector::Pointer("/items/0/a~1b".into()));
        assert!(
            matches!(parse("time < 2s").map(|a| a.test), Ok(Test::Compare { want: Operand::Number { value, unit: Unit::Seconds, .. }, .. }) if value == 2.0)
        );
        assert!(
            matches!(operand("10KiB"), Operand::Number { value, unit: Unit::Bytes, .. } if value == 10240.0)
        );
    }

    #[test]
    fn mistakes_are_refused_with_words() {
        let err = |t: &str| parse(t).err().unwrap_or_default();
        assert!(err("/version matches ^(2").contains("invalid regular expression"));
        assert!(err("/a~2 exists").contains("not a valid JSON pointer"));
        assert!(err("/a =~ x").contains("unknown operator `=~`"));
        assert!(err("/a < lots").contains("needs a number"));
        assert!(err("/a < 10 warn 20").contains("past the failing level"));
        assert!(err("/a exists 3").contains("takes no value"));
        assert!(err("version == 2").contains("is not a selector"));
        assert!(err("$.a[?(@.x)] exists").contains("filters"));
        assert!(err("/s every header X exists").contains("each element"));
    }
}
