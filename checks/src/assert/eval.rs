//! Evaluates parsed assertions against what a probe saw (a [`Subject`]): each gives a status,
//! the actual value it found (for the evidence) and, when it does not pass, a message showing it.

use std::time::Duration;

use serde_json::{Value, json};

use super::parse::{Assertion, Cmp, Operand, Selector, Test, Unit};
use crate::limit::{closeness, show_bytes, show_number, show_seconds};
use crate::outcome::Status;
use crate::params::{parse_duration, parse_size};

/// What the assertions of one run look at. Fields a probe does not have stay `None`.
#[derive(Debug, Default, Clone)]
pub struct Subject {
    pub status: Option<u16>,
    /// Header names lower-cased, in arrival order.
    pub headers: Option<Vec<(String, String)>>,
    pub body: Option<String>,
    /// The document pointers select in, or why there is none ("body is not JSON").
    pub doc: Option<Result<Value, String>>,
    pub time: Option<Duration>,
}

/// One assertion's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub status: Status,
    /// The value the selector found (`null` when nothing was there), as the evidence shows it.
    pub actual: Value,
    /// For anything but a pass: what was expected and what was found.
    pub message: Option<String>,
}

/// What a selector found.
enum Found {
    Json(Value),
    Time(Duration),
    Missing(String),
}

impl Found {
    fn actual(&self) -> Value {
        match self {
            Found::Json(v) => v.clone(),
            Found::Time(d) => json!(show_seconds(d.as_secs_f64())),
            Found::Missing(_) => Value::Null,
        }
    }
    fn shown(&self) -> String {
        match self {
            Found::Json(Value::String(s)) => format!("{s:?}"),
            Found::Json(v) => {
                let t = v.to_string();
                if t.chars().count() > 120 {
                    format!("{}…", t.chars().take(120).collect::<String>())
                } else {
                    t
                }
            }
            Found::Time(d) => show_seconds(d.as_secs_f64()),
            Found::Missing(why) => why.clone(),
        }
    }
    fn text(&self) -> Option<String> {
        match self {
            Found::Json(Value::String(s)) => Some(s.clone()),
            Found::Json(v) => Some(v.to_string()),
            Found::Time(d) => Some(show_seconds(d.as_secs_f64())),
            Found::Missing(_) => None,
        }
    }
}

/// Why nothing could be selected: the probe lacks the selector (`error`), or its answer has
/// no document to point into (`fail`: a health endpoint answering HTML is a failed check).
type NoSelection = (Status, String);

fn select(sel: &Selector, s: &Subject) -> Result<Found, NoSelection> {
    let lacks = |what: &str| (Status::Error, format!("this probe has no {what}"));
    Ok(match sel {
        Selector::Status => match s.status {
            Some(c) => Found::Json(json!(c)),
            None => return Err(lacks("status")),
        },
        Selector::Time => match s.time {
            Some(t) => Found::Time(t),
            None => return Err(lacks("time")),
        },
        Selector::Body => match &s.body {
            Some(b) => Found::Json(Value::String(b.clone())),
            None => return Err(lacks("body")),
        },
        Selector::Header(name) => {
            let Some(headers) = &s.headers else {
                return Err(lacks("headers"));
            };
            let lower = name.to_ascii_lowercase();
            match headers.iter().find(|(k, _)| *k == lower) {
                Some((_, v)) => Found::Json(Value::String(v.clone())),
                None => Found::Missing(format!("header `{name}` is not there")),
            }
        }
        Selector::Pointer(p) => match &s.doc {
            None => return Err(lacks("document to point into")),
            Some(Err(why)) => return Err((Status::Fail, why.clone())),
            Some(Ok(doc)) => match doc.pointer(p) {
                Some(v) => Found::Json(v.clone()),
                None => Found::Missing(format!("`{}` is not there", sel)),
            },
        },
    })
}

/// Evaluates one assertion.
pub fn judge(a: &Assertion, s: &Subject) -> Judged {
    let found = match select(&a.selector, s) {
        Ok(f) => f,
        Err((status, why)) => {
            return Judged {
                status,
                actual: Value::Null,
                message: Some(match status {
                    Status::Error => format!("`{}`: cannot be evaluated: {why}", a.text),
                    _ => format!("`{}`: {why}", a.text),
                }),
            };
        }
    };
    let actual = found.actual();
    let done = |status: Status, message: Option<String>| Judged {
        status,
        actual: actual.clone(),
        message,
    };
    let failed = |why: String| done(Status::Fail, Some(format!("`{}`: {why}", a.text)));
    let shown = found.shown();
    let missing = matches!(found, Found::Missing(_));
    match &a.test {
        Test::Exists if missing => failed(shown),
        Test::Exists => done(Status::Pass, None),
        Test::Absent if missing => done(Status::Pass, None),
        Test::Absent => failed(format!("found {shown}")),
        _ if missing => failed(shown),
        Test::Matches(re) => match found.text() {
            Some(t) if re.is_match(&t) => done(Status::Pass, None),
            _ => failed(format!("found {shown}, which does not match")),
        },
        Test::Contains(needle) => {
            let holds = match &found {
                Found::Json(Value::Array(items)) => {
                    let want = super::parse::operand(needle);
                    items.iter().any(|i| equal(i, &want).unwrap_or(false))
                }
                Found::Json(Value::Object(map)) => map.contains_key(needle),
                other => other.text().is_some_and(|t| t.contains(needle.as_str())),
            };
            if holds {
                done(Status::Pass, None)
            } else {
                failed(format!("found {shown}, which does not contain `{needle}`"))
            }
        }
        Test::Every(inner) | Test::Any(inner) => {
            let every = matches!(a.test, Test::Every(_));
            let items: Vec<Value> = match &found {
                Found::Json(Value::Array(items)) => items.clone(),
                Found::Json(Value::Object(map)) => map.values().cloned().collect(),
                _ => return failed(format!("found {shown}, not a list")),
            };
            if items.is_empty() {
                return failed(format!("`{}` is an empty list", a.selector));
            }
            let results: Vec<Judged> = items
                .iter()
                .map(|item| {
                    let sub = Subject {
                        doc: Some(Ok(item.clone())),
                        ..Subject::default()
                    };
                    judge(inner, &sub)
                })
                .collect();
            let bad: Vec<(usize, &Judged)> = results
                .iter()
                .enumerate()
                .filter(|(_, j)| j.status != Status::Pass)
                .collect();
            let element_values =
                json!(results.iter().map(|j| j.actual.clone()).collect::<Vec<_>>());
            let judged = |status, message| Judged {
                status,
                actual: element_values.clone(),
                message,
            };
            if every {
                match bad.first() {
                    None => judged(Status::Pass, None),
                    Some((i, j)) => {
                        let worst = bad.iter().fold(Status::Pass, |w, (_, j)| w.worst(j.status));
                        judged(
                            worst,
                            Some(format!(
                                "`{}`: {} of {} elements do not hold; element {i}: {}",
                                a.text,
                                bad.len(),
                                items.len(),
                                j.message.clone().unwrap_or_default()
                            )),
                        )
                    }
                }
            } else if bad.len() < items.len() {
                judged(Status::Pass, None)
            } else {
                let actual_list: Vec<String> = results
                    .iter()
                    .take(5)
                    .map(|j| j.actual.to_string())
                    .collect();
                judged(
                    Status::Fail,
                    Some(format!(
                        "`{}`: none of {} elements holds (found {})",
                        a.text,
                        items.len(),
                        actual_list.join(", ")
                    )),
                )
            }
        }
        Test::Compare { cmp, want, warn } => {
            let Some(value) = number(&found, want) else {
                if cmp.ordering() {
                    return done(
                        Status::Error,
                        Some(format!("`{}`: found {shown}, not a number", a.text)),
                    );
                }
                let eq = match &found {
                    Found::Json(v) => equal(v, want).unwrap_or(false),
                    other => other.text().is_some_and(|t| t == want.to_string()),
                };
                return if eq == (*cmp == Cmp::Eq) {
                    done(Status::Pass, None)
                } else {
                    failed(format!("found {shown}"))
                };
            };
            let Operand::Number {
                value: limit, unit, ..
            } = want
            else {
                return if *cmp == Cmp::Ne {
                    done(Status::Pass, None)
                } else {
                    failed(format!("found {shown}"))
                };
            };
            let show = |v: f64| match unit {
                Unit::Seconds => show_seconds(v),
                Unit::Bytes => show_bytes(v),
                Unit::Plain => show_number(v),
            };
            if !cmp.holds(value, *limit) {
                return failed(format!("found {}", show(value)));
            }
            if let Some(Operand::Number { value: level, .. }) = warn
                && !cmp.holds(value, *level)
            {
                let ceiling = matches!(cmp, Cmp::Lt | Cmp::Le);
                return done(
                    Status::Warn,
                    Some(format!(
                        "`{}`: {} (warn level {})",
                        a.text,
                        closeness(value, *limit, ceiling, show),
                        show(*level)
                    )),
                );
            }
            done(Status::Pass, None)
        }
    }
}

/// `found` as a number in the unit of `want`, when `want` is a number and `found` reads as one.
fn number(found: &Found, want: &Operand) -> Option<f64> {
    let Operand::Number { unit, .. } = want else {
        return None;
    };
    match found {
        Found::Time(d) => Some(match unit {
            Unit::Plain => d.as_secs_f64() * 1000.0,
            _ => d.as_secs_f64(),
        }),
        Found::Json(Value::Number(n)) => n.as_f64(),
        Found::Json(Value::String(s)) => {
            let t = s.trim();
            t.parse::<f64>().ok().or(match unit {
                Unit::Seconds => parse_duration(t).ok().map(|d| d.as_secs_f64()),
                Unit::Bytes => parse_size(t).ok().map(|b| b as f64),
                Unit::Plain => None,
            })
        }
        _ => None,
    }
}

/// Loose equality: numbers by value, text against strings, `true`/`false`/`null` literally.
fn equal(v: &Value, want: &Operand) -> Option<bool> {
    Some(match (v, want) {
        (Value::Number(n), Operand::Number { value, .. }) => n.as_f64()? == *value,
        (Value::String(s), Operand::Number { value, text, .. }) => {
            s == text || s.trim().parse::<f64>().ok() == Some(*value)
        }
        (Value::String(s), Operand::Text(t)) => s == t,
        (Value::Bool(b), Operand::Bool(w)) => b == w,
        (Value::String(s), Operand::Bool(w)) => s == &w.to_string(),
        (Value::Null, Operand::Null) => true,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    fn run(expr: &str, doc: Value) -> Judged {
        let s = Subject {
            status: Some(200),
            headers: Some(vec![("server".into(), "nginx/1.25".into())]),
            body: Some("hello".into()),
            doc: Some(Ok(doc)),
            time: Some(Duration::from_millis(1800)),
        };
        judge(&parse(expr).expect("parses"), &s)
    }

    #[test]
    fn operators_hold_and_fail_with_the_actual_value() {
        let doc = json!({"db": {"latency_ms": 42}, "version": "2.4.1", "services": [{"status": "up"}, {"status": "down"}], "tags": ["a", "b"]});
        assert_eq!(run("/db/latency_ms < 50", doc.clone()).status, Status::Pass);
        let f = run("/db/latency_ms < 40", doc.clone());
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.message.as_deref(),
            Some("`/db/latency_ms < 40`: found 42")
        );
        let w = run("/db/latency_ms < 50 warn 40", doc.clone());
        assert_eq!(w.status, Status::Warn);
        assert!(
            w.message
                .unwrap_or_default()
                .contains("42, 84% of the 50 limit")
        );
        assert_eq!(
            run("/version matches ^2\\.", doc.clone()).status,
            Status::Pass
        );
        assert_eq!(run("/version == 2.4.1", doc.clone()).status, Status::Pass);
        assert_eq!(run("/tags contains b", doc.clone()).status, Status::Pass);
        assert_eq!(run("/missing absent", doc.clone()).status, Status::Pass);
        assert_eq!(
            run("header Server absent", doc.clone()).status,
            Status::Fail
        );
        assert_eq!(
            run("header X-Nope absent", doc.clone()).status,
            Status::Pass
        );
        assert_eq!(run("status == 200", doc.clone()).status, Status::Pass);
        assert_eq!(run("body contains ell", doc.clone()).status, Status::Pass);
        let t = run("time < 2s warn 1500ms", doc.clone());
        assert_eq!(t.status, Status::Warn);
        assert!(
            t.message
                .unwrap_or_default()
                .contains("1.8 s, 90% of the 2 s limit")
        );
        let every = run("/services every /status == up", doc.clone());
        assert_eq!(every.status, Status::Fail);
        assert!(
            every
                .message
                .unwrap_or_default()
                .contains("element 1: `/status == up`: found \"down\"")
        );
        assert_eq!(
            run("/services any /status == up", doc.clone()).status,
            Status::Pass
        );
        assert_eq!(run("/nope every . exists", doc).status, Status::Fail);
    }
}
