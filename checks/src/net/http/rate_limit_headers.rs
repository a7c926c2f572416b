//! Parsing of the headers a rate limiter sends (`Retry-After`, `RateLimit-*`, `X-RateLimit-*`),
//! so `rate_limit` can report each one with a well-formedness verdict clients could rely on.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

/// The headers reported, in report order (lowercase names).
pub const NAMES: [&str; 9] = [
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

/// One header as found and judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub value: String,
    /// `None` when well-formed; otherwise why not.
    pub problem: Option<String>,
    /// The parsed meaning, for the evidence (seconds, a count, …).
    pub meaning: Option<Value>,
}

impl Parsed {
    pub fn well_formed(&self) -> bool {
        self.problem.is_none()
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("value".into(), json!(self.value));
        m.insert("well_formed".into(), json!(self.well_formed()));
        if let Some(p) = &self.problem {
            m.insert("problem".into(), json!(p));
        }
        if let Some(v) = &self.meaning {
            m.insert("parsed".into(), v.clone());
        }
        Value::Object(m)
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; the wait it asks for.
pub fn retry_after(value: &str, now: SystemTime) -> Result<Duration, String> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("`{v}` is too large"));
    }
    match httpdate::parse_http_date(v) {
        Ok(at) => Ok(at.duration_since(now).unwrap_or(Duration::ZERO)),
        Err(_) => Err(format!(
            "`{v}` is neither a number of seconds nor an HTTP-date"
        )),
    }
}

fn non_negative_int(v: &str) -> Result<u64, String> {
    let t = v.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u64>().map_err(|_| format!("`{t}` is too large"))
    } else {
        Err(format!("`{t}` is not a non-negative integer"))
    }
}

/// `X-RateLimit-Reset` is seconds or a Unix time, sometimes fractional.
fn seconds_or_epoch(v: &str) -> Result<Value, String> {
    let t = v.trim();
    let n: f64 = t
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0 && !t.starts_with('+'))
        .ok_or_else(|| format!("`{t}` is not a non-negative number"))?;
    if n >= 1_000_000_000.0 {
        Ok(json!({ "unix_time": n }))
    } else {
        Ok(json!({ "seconds": n }))
    }
}

/// A structured-field list as used by `RateLimit` / `RateLimit-Policy`
/// (`"default";q=100;w=60`, older drafts `100;w=60`): items with `;key=value` parameters.
fn sf_list(v: &str) -> Result<Value, String> {
    let mut items = Vec::new();
    for member in v.split(',') {
        let mut parts = member.trim().split(';');
        let head = parts.next().unwrap_or("").trim();
        let head_ok = (head.len() >= 2 && head.starts_with('"') && head.ends_with('"'))
            || non_negative_int(head).is_ok()
            || (!head.is_empty()
                && head
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.*:/".contains(&b)));
        if !head_ok {
            return Err(format!(
                "list member `{}` is not a token, string or integer",
                member.trim()
            ));
        }
        let mut params = Map::new();
        for p in parts {
            let (k, val) = p.split_once('=').unwrap_or((p, "?1"));
            let k = k.trim();
            let key_ok = !k.is_empty()
                && k.bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_lowercase() || b == b'*')
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b));
            if !key_ok {
                return Err(format!("parameter `{}` has an invalid key", p.trim()));
            }
            params.insert(k.to_string(), json!(val.trim()));
        }
        items.push(json!({ "item": head.trim_matches('"'), "params": params }));
    }
    Ok(Value::Array(items))
}

/// Judges one header by name (lowercase).
pub fn parse(name: &str, value: &str, now: SystemTime) -> Parsed {
    let result: Result<Value, String> = match name {
        "retry-after" => retry_after(value, now).map(|d| json!({ "seconds": d.as_secs() })),
        "ratelimit-remaining"
        | "ratelimit-reset"
        | "x-ratelimit-limit"
        | "x-ratelimit-remaining" => non_negative_int(value).map(|n| json!(n)),
        // Draft 03 allowed quota policies after the limit: `100, 100;w=60`.
        "ratelimit-limit" => {
            let (first, rest) = value.split_once(',').unwrap_or((value, ""));
            non_negative_int(first).and_then(|n| {
                if rest.trim().is_empty() {
                    Ok(json!(n))
                } else {
                    sf_list(rest).map(|p| json!({ "limit": n, "policies": p }))
                }
            })
        }
        "x-ratelimit-reset" => seconds_or_epoch(value),
        "ratelimit" | "ratelimit-policy" => sf_list(value),
        _ => Ok(Value::Null),
    };
    match result {
        Ok(meaning) => Parsed {
            value: value.to_string(),
            problem: None,
            meaning: Some(meaning),
        },
        Err(problem) => Parsed {
            value: value.to_string(),
            problem: Some(problem),
            meaning: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap_or(SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn retry_after_takes_seconds_or_dates() {
        assert_eq!(retry_after("2", now()), Ok(Duration::from_secs(2)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now()),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now()),
            Ok(Duration::ZERO)
        );
        assert!(retry_after("soon", now()).is_err());
        assert!(retry_after("-1", now()).is_err());
        assert!(retry_after("1.5", now()).is_err());
        assert!(retry_after("", now()).is_err());
    }

    #[test]
    fn counts_must_be_non_negative_integers() {
        assert!(parse("ratelimit-remaining", "0", now()).well_formed());
        assert!(!parse("ratelimit-remaining", "-1", now()).well_formed());
        assert!(!parse("x-ratelimit-limit", "ten", now()).well_formed());
        assert_eq!(
            parse("ratelimit-reset", "30", now()).meaning,
            Some(json!(30))
        );
        assert!(parse("ratelimit-limit", "100, 100;w=60", now()).well_formed());
        assert!(!parse("ratelimit-limit", "100, ;;", now()).well_formed());
    }

    #[test]
    fn reset_may_be_an_epoch_and_policies_are_lists() {
        assert_eq!(
            parse("x-ratelimit-reset", "1700000000", now()).meaning,
            Some(json!({ "unix_time": 1_700_000_000.0 }))
        );
        assert!(parse("ratelimit-policy", "\"default\";q=100;w=60", now()).well_formed());
        assert!(parse("ratelimit-policy", "100;w=60, 1000;w=3600", now()).well_formed());
        assert!(parse("ratelimit", "\"default\";r=50;t=30", now()).well_formed());
        assert!(!parse("ratelimit-policy", "100;W=60", now()).well_formed());
        assert!(!parse("ratelimit-policy", "", now()).well_formed());
    }
}
