//! A numeric limit with an optional `warn:` level beside its failing one (`p95: 300ms` or
//! `p95: { fail: 300ms, warn: 250ms }`), and the words saying how close a value came to it.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::outcome::Status;
use crate::params::{DurationParam, SizeParam};

/// A failing level, a warn level, or both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit<T> {
    pub fail: Option<T>,
    pub warn: Option<T>,
}

impl<T> Limit<T> {
    pub fn fail_only(fail: T) -> Self {
        Limit {
            fail: Some(fail),
            warn: None,
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Limit<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let one = |v: Value| serde_json::from_value::<T>(v).map_err(D::Error::custom);
        match v {
            Value::Object(map) => {
                if let Some(k) = map.keys().find(|k| *k != "fail" && *k != "warn") {
                    return Err(D::Error::custom(format!(
                        "unknown level `{k}`: a limit has `fail:` and `warn:` levels"
                    )));
                }
                let fail = map.get("fail").cloned().map(one).transpose()?;
                let warn = map.get("warn").cloned().map(one).transpose()?;
                if fail.is_none() && warn.is_none() {
                    return Err(D::Error::custom(
                        "an empty limit sets nothing: give `fail:`, `warn:` or both",
                    ));
                }
                Ok(Limit { fail, warn })
            }
            other => Ok(Limit::fail_only(one(other)?)),
        }
    }
}

impl<T: Serialize> Serialize for Limit<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (&self.fail, &self.warn) {
            (Some(f), None) => f.serialize(s),
            _ => serde_json::json!({"fail": self.fail.as_ref().map(serde_json::to_value).transpose().ok().flatten(), "warn": self.warn.as_ref().map(serde_json::to_value).transpose().ok().flatten()}).serialize(s),
        }
    }
}

impl<T: JsonSchema> JsonSchema for Limit<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Limit_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<T>();
        json_schema!({
            "description": "The failing level alone, or `{ fail: …, warn: … }`: crossing `warn` reports `warn` and says how close the value came to `fail`.",
            "anyOf": [
                one,
                {"type": "object", "additionalProperties": false, "minProperties": 1,
                 "properties": {"fail": one, "warn": one}}
            ]
        })
    }
}

/// A quantity a limit bounds: its amount as a number, and how people write it.
pub trait Measure {
    fn amount(&self) -> f64;
    fn show(amount: f64) -> String;
}

impl Measure for DurationParam {
    fn amount(&self) -> f64 {
        self.0.as_secs_f64()
    }
    fn show(s: f64) -> String {
        show_seconds(s)
    }
}

impl Measure for SizeParam {
    fn amount(&self) -> f64 {
        self.0 as f64
    }
    fn show(b: f64) -> String {
        show_bytes(b)
    }
}

impl Measure for f64 {
    fn amount(&self) -> f64 {
        *self
    }
    fn show(v: f64) -> String {
        show_number(v)
    }
}

/// A count (records, items).
impl Measure for usize {
    fn amount(&self) -> f64 {
        *self as f64
    }
    fn show(v: f64) -> String {
        show_number(v)
    }
}

/// A percentage as written (`80` for 80 %), shown with its `%` sign.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Percent(pub f64);

impl Measure for Percent {
    fn amount(&self) -> f64 {
        self.0
    }
    fn show(v: f64) -> String {
        format!("{}%", show_number(v))
    }
}

pub fn show_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        // Three significant digits after the leading zeros of a small value (0.0001, 0.0102).
        let lead = (-v.abs().log10().floor()).max(0.0) as usize;
        let s = format!("{v:.*}", (lead + 2).clamp(3, 12));
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

pub fn show_seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{} ms", show_number((s * 10_000.0).round() / 10.0))
    } else if s < 60.0 {
        format!("{} s", show_number((s * 100.0).round() / 100.0))
    } else {
        humantime::format_duration(std::time::Duration::from_secs(s.round() as u64)).to_string()
    }
}

pub fn show_bytes(b: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{} {}", show_number((v * 10.0).round() / 10.0), UNITS[i])
}

/// How close `found` came to `limit`: "1.8 s, 90% of the 2 s limit" for a ceiling,
/// "20, 6 above the 14 floor" for a floor.
pub fn closeness(found: f64, limit: f64, ceiling: bool, show: impl Fn(f64) -> String) -> String {
    if ceiling {
        if limit > 0.0 {
            let pct = (found / limit * 100.0).round();
            format!("{}, {pct}% of the {} limit", show(found), show(limit))
        } else {
            format!("{}, the limit is {}", show(found), show(limit))
        }
    } else {
        format!(
            "{}, {} above the {} floor",
            show(found),
            show((found - limit).abs()),
            show(limit)
        )
    }
}

impl<T: Measure> Limit<T> {
    /// Judges `found` against a ceiling (`found` must stay at or under it): the status, and
    /// for warn and fail the words to add (`"p95 1.8 s, 90% of the 2 s limit"`).
    pub fn ceiling(&self, name: &str, found: f64) -> (Status, Option<String>) {
        self.judge(name, found, true)
    }

    /// Judges `found` against a floor (`found` must stay at or over it), as [`Self::ceiling`]
    /// does a ceiling: "size 2 KiB, 1 KiB above the 1 KiB floor (warn level 1 MiB)".
    pub fn floor(&self, name: &str, found: f64) -> (Status, Option<String>) {
        self.judge(name, found, false)
    }

    /// Both directions: past a level means over it for a ceiling, under it for a floor.
    fn judge(&self, name: &str, found: f64, ceiling: bool) -> (Status, Option<String>) {
        let past = |level: f64| {
            if ceiling {
                found > level
            } else {
                found < level
            }
        };
        if let Some(f) = &self.fail
            && past(f.amount())
        {
            let side = if ceiling { "over" } else { "under" };
            let words = format!("{name} {} {side} {}", T::show(found), T::show(f.amount()));
            return (Status::Fail, Some(words));
        }
        if let Some(w) = &self.warn
            && past(w.amount())
        {
            let words = match &self.fail {
                Some(f) => closeness(found, f.amount(), ceiling, T::show),
                None => T::show(found),
            };
            let words = format!("{name} {words} (warn level {})", T::show(w.amount()));
            return (Status::Warn, Some(words));
        }
        (Status::Pass, None)
    }

    /// Load-time check: the warn level of a floor must sit over its failing level.
    pub fn warn_above_fail(&self) -> Option<String> {
        match (&self.fail, &self.warn) {
            (Some(f), Some(w)) if w.amount() < f.amount() => Some(format!(
                "the warn level {} is under the failing level {}: it would never fire first",
                T::show(w.amount()),
                T::show(f.amount())
            )),
            _ => None,
        }
    }

    /// Load-time check: the warn level of a ceiling must sit under its failing level.
    pub fn warn_below_fail(&self) -> Option<String> {
        match (&self.fail, &self.warn) {
            (Some(f), Some(w)) if w.amount() > f.amount() => Some(format!(
                "the warn level {} is above the failing level {}: it would never fire first",
                T::show(w.amount()),
                T::show(f.amount())
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn limits_read_both_forms_and_say_how_close() {
        let one: Limit<DurationParam> =
            serde_json::from_value(serde_json::json!("2s")).expect("one");
        assert_eq!(one.fail, Some(DurationParam(Duration::from_secs(2))));
        let both: Limit<DurationParam> =
            serde_json::from_value(serde_json::json!({"fail": "2s", "warn": "1500ms"}))
                .expect("both");
        let (st, words) = both.ceiling("took", 1.8);
        assert_eq!(st, Status::Warn);
        assert_eq!(
            words.as_deref(),
            Some("took 1.8 s, 90% of the 2 s limit (warn level 1.5 s)")
        );
        assert_eq!(both.ceiling("took", 2.5).0, Status::Fail);
        assert_eq!(both.ceiling("took", 0.2).0, Status::Pass);
        assert!(
            serde_json::from_value::<Limit<DurationParam>>(serde_json::json!({"fial": "2s"}))
                .is_err()
        );
        let inverted = Limit {
            fail: Some(1.0),
            warn: Some(2.0),
        };
        assert!(inverted.warn_below_fail().is_some());
        let floor = Limit {
            fail: Some(SizeParam(1024)),
            warn: Some(SizeParam(1 << 20)),
        };
        assert_eq!(
            floor.floor("size", 2048.0),
            (
                Status::Warn,
                Some("size 2 KiB, 1 KiB above the 1 KiB floor (warn level 1 MiB)".into())
            )
        );
        assert_eq!(floor.floor("size", 100.0).0, Status::Fail);
        assert_eq!(floor.floor("size", 2e6).0, Status::Pass);
        assert!(floor.warn_above_fail().is_none());
        assert_eq!(show_seconds(0.25), "250 ms");
        assert_eq!(show_bytes(10240.0), "10 KiB");
    }
}
