//! Timestamps and calendar days in state files: RFC 3339 (UTC, seconds) and `YYYY-MM-DD`,
//! parsed with a clear message so a hand-edited file fails loudly rather than silently.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// Serialises `$ty` as its `Display` text and reads it back with `$ty::parse`, whose message
/// says what was expected.
macro_rules! serde_as_text {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $ty::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A UTC instant, written as RFC 3339 with seconds precision (`2026-11-22T04:36:45Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_system(SystemTime::now())
    }

    pub fn from_system(t: SystemTime) -> Self {
        let t = OffsetDateTime::from(t);
        Timestamp(t.replace_nanosecond(0).unwrap_or(t))
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        OffsetDateTime::parse(s.trim(), &Rfc3339)
            .map(|t| Timestamp(t.to_offset(time::UtcOffset::UTC)))
            .map_err(|e| format!("`{s}` is not an RFC 3339 timestamp ({e})"))
    }

    pub fn plus(self, d: Duration) -> Self {
        Timestamp(self.0 + d)
    }

    pub fn day(self) -> Day {
        Day(self.0.date())
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}", self.0.unix_timestamp()),
        }
    }
}

serde_as_text!(Timestamp);

/// A calendar day (`2026-12-31`); a waiver `until` a day holds through the end of that day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub Date);

impl Day {
    pub fn parse(s: &str) -> Result<Self, String> {
        Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
            .map(Day)
            .map_err(|e| format!("`{s}` is not a date like 2026-12-31 ({e})"))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = (self.0.year(), u8::from(self.0.month()), self.0.day());
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

serde_as_text!(Day);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_days_round_trip() {
        let t = Timestamp::parse("2026-11-22T04:36:45Z").expect("valid");
        assert_eq!(t.to_string(), "2026-11-22T04:36:45Z");
        assert_eq!(t.day().to_string(), "2026-11-22");
        assert_eq!(
            Timestamp::parse("2026-11-22T05:36:45+01:00").map(|t| t.to_string()),
            Ok("2026-11-22T04:36:45Z".into())
        );
        assert_eq!(
            Day::parse("2026-12-31").map(|d| d.to_string()),
            Ok("2026-12-31".into())
        );
        assert!(Day::parse("31/12/2026").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }
}
