//! What the service probes share: the `expect:` comparison (`< 0.05`, `== 1`, `== on`), kept as
//! text so `check_params` can point at it, and `redact_url` so messages never echo a password.

use std::fmt;

use serde::Serialize;

use crate::params::scalar::{self, Number, ScalarParam};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }
}

/// What the value is compared with: a number, or text (only with `==` / `!=`).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    Text(String),
}

/// A parsed comparison such as `< 0.05`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub op: Op,
    pub operand: Operand,
}

impl Comparison {
    /// Parses `OP VALUE`; a bare value means `== VALUE`.
    pub fn parse(text: &str) -> Result<Comparison, String> {
        let t = text.trim();
        let ops = [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("=", Op::Eq),
        ];
        let (op, rest) = ops
            .iter()
            .find_map(|(s, op)| t.strip_prefix(s).map(|rest| (*op, rest.trim())))
            .unwrap_or((Op::Eq, t));
        if rest.is_empty() {
            return Err(format!("`{text}` has no value to compare with"));
        }
        let operand = match rest.parse::<f64>() {
            Ok(n) if n.is_finite() => Operand::Number(n),
            _ if matches!(op, Op::Eq | Op::Ne) => Operand::Text(rest.to_string()),
            _ => {
                return Err(format!(
                    "`{text}`: `{}` needs a number, found `{rest}`",
                    op.as_str()
                ));
            }
        };
        Ok(Comparison { op, operand })
    }

    /// Whether `found` (a number, or text when compared with text) satisfies the comparison.
    /// `Err` when a numeric comparison meets a value that is not a number.
    pub fn holds(&self, found: &str) -> Result<bool, String> {
        match &self.operand {
            Operand::Text(want) => Ok((found.trim() == want) == (self.op == Op::Eq)),
            Operand::Number(want) => {
                let f: f64 = found
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{found}` is not a number"))?;
                Ok(self.holds_number(f, *want))
            }
        }
    }

    fn holds_number(&self, f: f64, want: f64) -> bool {
        match self.op {
            Op::Lt => f < want,
            Op::Le => f <= want,
            Op::Eq => f == want,
            Op::Ne => f != want,
            Op::Ge => f >= want,
            Op::Gt => f > want,
        }
    }
}

impl Comparison {
    /// Load-time check of a `warn` level beside the failing one: both are numeric orderings
    /// in the same direction, and the warn level fires first.
    pub fn check_levels(fail: &Comparison, warn: &Comparison) -> Result<(), String> {
        let (Operand::Number(f), Operand::Number(w)) = (&fail.operand, &warn.operand) else {
            return Err("`warn` and `fail` levels compare numbers".into());
        };
        let ceiling = |op| matches!(op, Op::Lt | Op::Le);
        let floor = |op| matches!(op, Op::Gt | Op::Ge);
        let stricter = if ceiling(fail.op) && ceiling(warn.op) {
            w <= f
        } else if floor(fail.op) && floor(warn.op) {
            w >= f
        } else {
            return Err(format!(
                "the warn level `{warn}` and the failing level `{fail}` must both be `<`/`<=` or both `>`/`>=`"
            ));
        };
        if stricter {
            Ok(())
        } else {
            Err(format!(
                "the warn level `{warn}` is past the failing level `{fail}`: it would never fire first"
            ))
        }
    }

    /// How close `found` is to this (failing) level: "0.04, 80% of the 0.05 limit".
    pub fn closeness(&self, found: f64) -> String {
        let Operand::Number(limit) = self.operand else {
            return crate::limit::show_number(found);
        };
        crate::limit::closeness(
            found,
            limit,
            matches!(self.op, Op::Lt | Op::Le),
            crate::limit::show_number,
        )
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.operand {
            Operand::Number(n) => write!(f, "{} {n}", self.op.as_str()),
            Operand::Text(t) => write!(f, "{} {t}", self.op.as_str()),
        }
    }
}

/// `expect:` as written: a string such as `"< 0.05"`, or a bare number meaning `== N`.
/// Kept as text so that `check_params` can point at it with a helpful message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareParam(pub String);

impl CompareParam {
    pub fn parse(&self) -> Result<Comparison, String> {
        Comparison::parse(&self.0)
    }
}

impl ScalarParam for CompareParam {
    const EXPECTING: &'static str = "a comparison such as `< 0.05`, `== 1` or `>= 3`";
    fn from_text(text: &str) -> Result<Self, String> {
        Ok(CompareParam(text.to_string()))
    }
    fn from_number(number: Number) -> Option<Result<Self, String>> {
        Some(Ok(CompareParam(format!("== {number}"))))
    }
    fn from_bool(value: bool) -> Option<Result<Self, String>> {
        Some(Ok(CompareParam(format!("== {value}"))))
    }
}

scalar::impl_serde_and_schema!(CompareParam, "Comparison", {
    "description": "A comparison: `< 0.05`, `<= 10`, `== 1`, `!= 0`, `>= 3`, `> 0`, or `== text`; a bare number means `== N`.",
    "type": ["string", "number", "boolean"]
});

/// Prints a URL with its password replaced by `***` (and nothing else changed).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparsable: drop anything that could be userinfo rather than risk printing it.
        Err(_) => match url.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(expect: &str, found: &str) -> Result<bool, String> {
        Comparison::parse(expect)?.holds(found)
    }

    #[test]
    fn comparisons_parse_and_evaluate() {
        assert_eq!(holds("< 0.05", "0.01"), Ok(true));
        assert_eq!(holds("< 0.05", "0.05"), Ok(false));
        assert_eq!(holds("<= 0.05", "0.05"), Ok(true));
        assert_eq!(holds("== 1", "1"), Ok(true));
        assert_eq!(holds(">=3", "2"), Ok(false));
        assert_eq!(holds("!= 0", "4"), Ok(true));
        assert_eq!(holds("1", "1.0"), Ok(true));
        assert_eq!(holds("== on", "on"), Ok(true));
        assert_eq!(holds("!= on", "off"), Ok(true));
        assert!(holds("< 1", "NaN").is_ok_and(|h| !h));
        assert!(holds("< 1", "abc").is_err());
    }

    #[test]
    fn bad_comparisons_are_refused() {
        assert!(Comparison::parse("<").is_err());
        assert!(Comparison::parse("< lots").is_err());
        assert!(Comparison::parse("").is_err());
    }

    #[test]
    fn urls_lose_their_password_only() {
        assert_eq!(
            redact_url("redis://:hunter2@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("postgres://app:s3cret@db/app"),
            "postgres://app:***@db/app"
        );
        assert_eq!(redact_url("ws://host/x"), "ws://host/x");
    }
}
