//! `capture:`: values an item takes from its answer (a JSON pointer into the body, a header, a
//! regex's first group, a cookie) for the items that need it — a login feeding a token to API checks.
//! Probes only keep the [`Answer`] when asked ([`crate::ProbeContext::keep_answer`]); the runner extracts.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a probe received, kept for `capture:`: the response headers and the body as read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    /// (lowercased name, value) in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Where one captured value comes from: exactly one of `json`, `header`, `regex` or `cookie`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    /// A JSON pointer into the body (`/token`, `/data/0/id`); a number or boolean is taken as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<String>,
    /// A response header's first value (the name is case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// A regular expression on the body; its first group is the value (`csrf" value="([^"]+)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// A cookie the answer sets (`Set-Cookie`), by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
}

impl Capture {
    /// What is wrong with the declaration (none of the sources, two of them, a bad regex or
    /// pointer), for a load-time diagnostic.
    pub fn check(&self) -> Result<(), String> {
        let set = [
            self.json.is_some(),
            self.header.is_some(),
            self.regex.is_some(),
            self.cookie.is_some(),
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if set != 1 {
            return Err(format!(
                "a capture takes its value from exactly one of `json`, `header`, `regex` or `cookie` ({set} given)"
            ));
        }
        if let Some(p) = &self.json
            && !p.is_empty()
            && !p.starts_with('/')
        {
            return Err(format!(
                "`{p}` is not a JSON pointer: write `/{p}` (pointers start with `/`)"
            ));
        }
        if let Some(r) = &self.regex {
            let re = compile(r)?;
            if re.captures_len() < 2 {
                return Err(format!(
                    "the regex `{r}` has no group: the value is its first group, like `token=(\\w+)`"
                ));
            }
        }
        Ok(())
    }

    /// What is looked for, in words (`the JSON pointer `/token``), for messages.
    pub fn describe(&self) -> String {
        match (&self.json, &self.header, &self.regex, &self.cookie) {
            (Some(p), ..) => format!("the JSON pointer `{p}` in the body"),
            (_, Some(h), ..) => format!("the header `{h}`"),
            (_, _, Some(r), _) => format!("a match of the regex `{r}` in the body"),
            (.., Some(c)) => format!("the cookie `{c}`"),
            _ => "nothing".to_string(),
        }
    }

    /// The value in `answer`, or what was looked for and not found.
    pub fn extract(&self, answer: &Answer) -> Result<String, String> {
        let missing = || format!("{} was not found", self.describe());
        if let Some(p) = &self.json {
            let doc: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| {
                format!(
                    "{} was looked for, but the body is not JSON ({e})",
                    self.describe()
                )
            })?;
            return match doc.pointer(p) {
                Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    Ok(v.to_string())
                }
                Some(v) => Err(format!(
                    "{} is {}, not a text, number or boolean",
                    self.describe(),
                    kind_of(v)
                )),
                None => Err(missing()),
            };
        }
        if let Some(h) = &self.header {
            let name = h.to_ascii_lowercase();
            return answer
                .headers
                .iter()
                .find(|(n, v)| *n == name && !v.is_empty())
                .map(|(_, v)| v.clone())
                .ok_or_else(missing);
        }
        if let Some(r) = &self.regex {
            let re = compile(r)?;
            let text = String::from_utf8_lossy(&answer.body);
            return re
                .captures(&text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(missing);
        }
        if let Some(c) = &self.cookie {
            return answer
                .headers
                .iter()
                .filter(|(n, _)| n == "set-cookie")
                .filter_map(|(_, v)| v.split(';').next())
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, value)| name.trim() == c && !value.trim().is_empty())
                .map(|(_, value)| value.trim().trim_matches('"').to_string())
                .ok_or_else(missing);
        }
        Err(missing())
    }
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
        serde_json::Value::String(_) => "empty",
        _ => "a scalar",
    }
}

/// The capture regex, or why it does not compile (first line of the library's message).
fn compile(regex: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(regex).map_err(|e| {
        format!(
            "invalid regex `{regex}`: {}",
            crate::assert::regex_error_line(&e)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> Answer {
        Answer {
            headers: vec![
                ("x-request-token".into(), "hdr-123".into()),
                ("set-cookie".into(), "theme=dark; Path=/".into()),
                ("set-cookie".into(), "sid=abc123; HttpOnly; Secure".into()),
            ],
            body:
                br#"{"token":"tok-9","user":{"id":42},"list":[],"csrf":"<input value=\"c5rf\">"}"#
                    .to_vec(),
        }
    }

    fn of(json: &str) -> Capture {
        serde_json::from_str(json).expect("capture")
    }

    #[test]
    fn each_source_extracts_its_value() {
        let a = answer();
        assert_eq!(of(r#"{"json":"/token"}"#).extract(&a), Ok("tok-9".into()));
        assert_eq!(of(r#"{"json":"/user/id"}"#).extract(&a), Ok("42".into()));
        assert_eq!(
            of(r#"{"header":"X-Request-Token"}"#).extract(&a),
            Ok("hdr-123".into())
        );
        assert_eq!(
            of(r#"{"regex":"value=\\\\\"(\\w+)"}"#).extract(&a),
            Ok("c5rf".into())
        );
        assert_eq!(of(r#"{"cookie":"sid"}"#).extract(&a), Ok("abc123".into()));
    }

    #[test]
    fn a_miss_says_what_was_looked_for() {
        let a = answer();
        assert_eq!(
            of(r#"{"json":"/missing"}"#).extract(&a),
            Err("the JSON pointer `/missing` in the body was not found".into())
        );
        assert_eq!(
            of(r#"{"json":"/list"}"#).extract(&a),
            Err(
                "the JSON pointer `/list` in the body is a list, not a text, number or boolean"
                    .into()
            )
        );
        assert_eq!(
            of(r#"{"cookie":"session"}"#).extract(&a),
            Err("the cookie `session` was not found".into())
        );
        let text = Answer {
            headers: Vec::new(),
            body: b"<html>".to_vec(),
        };
        let err = of(r#"{"json":"/token"}"#)
            .extract(&text)
            .expect_err("an error");
        assert!(err.contains("the body is not JSON"), "{err}");
    }

    #[test]
    fn declarations_are_checked() {
        assert!(
            of(r#"{}"#)
                .check()
                .expect_err("an error")
                .contains("(0 given)")
        );
        assert!(
            of(r#"{"json":"/a","cookie":"b"}"#)
                .check()
                .expect_err("an error")
                .contains("(2 given)")
        );
        assert!(
            of(r#"{"json":"token"}"#)
                .check()
                .expect_err("an error")
                .contains("write `/token`")
        );
        assert!(
            of(r#"{"regex":"tok\\w+"}"#)
                .check()
                .expect_err("an error")
                .contains("has no group")
        );
        assert!(
            of(r#"{"regex":"("}"#)
                .check()
                .expect_err("an error")
                .contains("invalid regex")
        );
        assert_eq!(of(r#"{"header":"X-Token"}"#).check(), Ok(()));
    }
}
