//! Parameter types shared by several probes: durations (`"2s"`, `"500ms"`), HTTP status
//! expectations (`200`, `[200, 204]`, `"2xx"`) and byte sizes (`"1MiB"`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

pub mod scalar;
pub(crate) mod schema;

use scalar::{Number, ScalarParam};

/// A duration written the humantime way (`"500ms"`, `"2s"`, `"1h 30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationParam(pub Duration);

impl DurationParam {
    pub fn get(self) -> Duration {
        self.0
    }
}

/// Parses a humantime duration with an error message that says what good looks like.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|_| {
        format!(
            "invalid duration `{text}`: write a number with a unit, like `500ms`, `10s` or `5m`"
        )
    })
}

impl ScalarParam for DurationParam {
    const EXPECTING: &'static str = "a duration such as `500ms`, `10s` or `5m`";
    fn from_text(text: &str) -> Result<Self, String> {
        parse_duration(text).map(DurationParam)
    }
    fn from_number(_: Number) -> Option<Result<Self, String>> {
        Some(Err(
            "a duration needs a unit: write `10s` or `500ms`, not a bare number".into(),
        ))
    }
}

scalar::impl_serde_and_schema!(DurationParam, "Duration", {
    "type": "string",
    "description": "A duration with a unit: `500ms`, `10s`, `5m`, `1h 30m`.",
    "pattern": "^\\s*[0-9]"
});

impl Serialize for DurationParam {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

/// A byte size: a plain number of bytes or a number with a unit (`64KiB`, `1MiB`, `2GB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SizeParam(pub u64);

/// Parses `"1MiB"`, `"500 kB"`, `"1024"` into bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("invalid size `{text}`: write a number of bytes or a number with a unit, like `512KiB` or `10MB`"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "ti" | "tib" => 1024.0_f64.powi(4),
        other => {
            return Err(format!(
                "invalid size `{text}`: unknown unit `{other}`; use B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    Ok((value * mult).round() as u64)
}

impl ScalarParam for SizeParam {
    const EXPECTING: &'static str = "a size such as `1048576`, `512KiB` or `10MB`";
    fn from_text(text: &str) -> Result<Self, String> {
        parse_size(text).map(SizeParam)
    }
    fn from_number(number: Number) -> Option<Result<Self, String>> {
        match number {
            Number::Unsigned(v) => Some(Ok(SizeParam(v))),
            Number::Signed(v) => Some(
                u64::try_from(v)
                    .map(SizeParam)
                    .map_err(|_| "a size cannot be negative".into()),
            ),
            Number::Float(_) => None,
        }
    }
}

scalar::impl_serde_and_schema!(SizeParam, "Size", {
    "description": "Bytes, as a number or with a unit: `512KiB`, `10MB`.",
    "type": ["integer", "string"]
});

/// One accepted HTTP status: an exact code or a class such as `2xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatcher {
    Code(u16),
    Class(u16),
}

impl StatusMatcher {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusMatcher::Code(c) => c == status,
            StatusMatcher::Class(c) => status / 100 == c,
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        if let Some(d) = t.strip_suffix("xx")
            && let Ok(c) = d.parse::<u16>()
            && (1..=5).contains(&c)
        {
            return Ok(StatusMatcher::Class(c));
        }
        match t.parse::<u16>() {
            Ok(c) if (100..=599).contains(&c) => Ok(StatusMatcher::Code(c)),
            _ => Err(format!(
                "invalid status `{text}`: use a code between 100 and 599 or a class like `2xx`"
            )),
        }
    }
}

impl fmt::Display for StatusMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusMatcher::Code(c) => write!(f, "{c}"),
            StatusMatcher::Class(c) => write!(f, "{c}xx"),
        }
    }
}

/// `status:` — a code, a class, or a list of either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusExpect(pub Vec<StatusMatcher>);

impl StatusExpect {
    pub fn matches(&self, status: u16) -> bool {
        self.0.iter().any(|m| m.matches(status))
    }
}

impl Default for StatusExpect {
    fn default() -> Self {
        StatusExpect(vec![StatusMatcher::Class(2)])
    }
}

impl fmt::Display for StatusExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|m| m.to_string()).collect();
        f.write_str(&parts.join(" or "))
    }
}

impl<'de> Deserialize<'de> for StatusExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusExpect;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code (`200`), a class (`2xx`) or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusExpect, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusExpect, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusExpect, E> {
                StatusMatcher::parse(v)
                    .map(|m| StatusExpect(vec![m]))
                    .map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusExpect, A::Error> {
                let mut out = Vec::new();
                while let Some(one) = seq.next_element::<StatusExpect>()? {
                    out.extend(one.0);
                }
                if out.is_empty() {
                    return Err(de::Error::custom(
                        "an empty status list would accept nothing; list at least one code",
                    ));
                }
                Ok(StatusExpect(out))
            }
        }
        d.deserialize_any(V)
    }
}

crate::params::schema::impl_json_schema!(StatusExpect, "StatusExpect", {
    "description": "A status code (200), a class (\"2xx\") or a list of them.",
    "anyOf": [
        {"type": "integer", "minimum": 100, "maximum": 599},
        {"type": "string", "pattern": "^[1-5]xx$"},
        {"type": "array", "items": {"anyOf": [
            {"type": "integer", "minimum": 100, "maximum": 599},
            {"type": "string", "pattern": "^[1-5]xx$"}
        ]}, "minItems": 1}
    ]
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_size("10 MB"), Ok(10_000_000));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn status_matchers_accept_codes_and_classes() {
        let m = StatusMatcher::parse("2xx").ok();
        assert_eq!(m, Some(StatusMatcher::Class(2)));
        assert!(StatusMatcher::Class(2).matches(204));
        assert!(!StatusMatcher::Class(2).matches(301));
        assert!(StatusMatcher::parse("99").is_err());
        assert!(StatusMatcher::parse("7xx").is_err());
    }

    #[test]
    fn durations_need_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("10").is_err());
    }
}
