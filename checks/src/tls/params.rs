//! Parameter types of the `tls` probe that YAML cannot express as plain scalars:
//! `min_version` (`1.2` is a float to YAML) and `min_key_bits` (a number or per-type floors).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::params::scalar::{self, Number, ScalarParam};
use crate::probe::ParamIssue;

/// `min_version`: the lowest acceptable negotiated TLS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    #[default]
    V12,
    V13,
}

impl TlsVersion {
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::V12 => "TLSv1.2",
            TlsVersion::V13 => "TLSv1.3",
        }
    }

    /// Whether the negotiated `version` (`TLSv1.2`, `TLSv1.3`) is at least this one.
    pub fn allows(self, version: &str) -> bool {
        match self {
            TlsVersion::V12 => version == "TLSv1.2" || version == "TLSv1.3",
            TlsVersion::V13 => version == "TLSv1.3",
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.trim_start_matches("tlsv").trim_start_matches("tls");
        match t.trim() {
            "1.2" => Ok(TlsVersion::V12),
            "1.3" => Ok(TlsVersion::V13),
            "1.0" | "1" | "1.1" => Err(format!(
                "min_version `{text}` is below what prodcheck negotiates (1.2); to tolerate TLS 1.0/1.1 set `allow_legacy: true`"
            )),
            _ => Err(format!("invalid min_version `{text}`: use `1.2` or `1.3`")),
        }
    }
}

impl ScalarParam for TlsVersion {
    const EXPECTING: &'static str = "a TLS version: `1.2` or `1.3`";
    fn from_text(text: &str) -> Result<Self, String> {
        TlsVersion::parse(text)
    }
    fn from_number(number: Number) -> Option<Result<Self, String>> {
        Some(match number {
            Number::Float(v) => TlsVersion::parse(&format!("{v:.1}")),
            whole => TlsVersion::parse(&whole.to_string()),
        })
    }
}

scalar::impl_serde_and_schema!(TlsVersion, "TlsVersion", {
    "description": "Lowest acceptable negotiated TLS version.",
    "anyOf": [{"type": "number", "enum": [1.2, 1.3]}, {"type": "string", "enum": ["1.2", "1.3"]}]
});

/// `min_key_bits`: a number sets the RSA floor; `{ rsa, ec }` sets both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyBits {
    pub rsa: usize,
    pub ec: usize,
}

impl Default for KeyBits {
    fn default() -> Self {
        KeyBits { rsa: 2048, ec: 256 }
    }
}

impl KeyBits {
    /// The floor for a key type as `CertFacts` names it; `None` for types without one.
    pub fn floor(self, key_type: &str) -> Option<usize> {
        match key_type {
            "RSA" | "DSA" => Some(self.rsa),
            "EC" => Some(self.ec),
            _ => None,
        }
    }

    pub fn check(self) -> Vec<ParamIssue> {
        let mut issues = Vec::new();
        if self.rsa > 16_384 || self.ec > 521 {
            issues.push(
                ParamIssue::new(
                    "min_key_bits",
                    format!(
                        "min_key_bits (rsa {}, ec {}) would reject every real key",
                        self.rsa, self.ec
                    ),
                )
                .hint("RSA keys top out around 8192 bits, EC keys at 521"),
            );
        }
        issues
    }
}

impl<'de> Deserialize<'de> for KeyBits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyBits;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of RSA key bits (`3072`) or `{ rsa: 3072, ec: 384 }`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyBits, E> {
                Ok(KeyBits {
                    rsa: v as usize,
                    ..KeyBits::default()
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyBits, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("min_key_bits cannot be negative"))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyBits, A::Error> {
                let mut out = KeyBits::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "rsa" => out.rsa = map.next_value()?,
                        "ec" => out.ec = map.next_value()?,
                        other => {
                            return Err(de::Error::unknown_field(other, &["rsa", "ec"]));
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

crate::params::schema::impl_json_schema!(KeyBits, "KeyBits", {
    "description": "Smallest acceptable key: RSA bits as a number, or `{ rsa, ec }`.",
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "object", "properties": {
            "rsa": {"type": "integer", "minimum": 0},
            "ec": {"type": "integer", "minimum": 0}
        }, "additionalProperties": false}
    ]
});

/// `warn_before` / `fail_before`: a share of the certificate's lifetime, written `33%`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(pub f64);

impl Percent {
    fn parse(text: &str) -> Result<Self, String> {
        let Some(number) = text.trim().strip_suffix('%') else {
            return Err(format!(
                "`{text}` is not a percentage: write it with a percent sign, e.g. `33%`"
            ));
        };
        match number.trim().parse::<f64>() {
            Ok(v) if v > 0.0 && v < 100.0 => Ok(Percent(v)),
            _ => Err(format!(
                "`{text}` is not a percentage between 0% and 100% of the certificate's lifetime"
            )),
        }
    }
}

impl ScalarParam for Percent {
    const EXPECTING: &'static str = "a share of the certificate's lifetime, e.g. `33%`";
    fn from_text(text: &str) -> Result<Self, String> {
        Percent::parse(text)
    }
    fn from_number(number: Number) -> Option<Result<Self, String>> {
        Some(Err(format!(
            "`{}` is not a percentage: write it with a percent sign, e.g. `33%`",
            number.as_f64()
        )))
    }
}

scalar::impl_serde_and_schema!(Percent, "Percent", {
    "description": "A share of the certificate's total lifetime, e.g. `33%`.",
    "type": "string",
    "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*%$"
});

/// When before expiry a level (warn, fail) fires: days, a share of the lifetime, or both —
/// then the one leaving fewer days wins, so a 47-day certificate is not flagged for most of
/// its life by a 30-day rule, nor a 398-day one 131 days early by a 33% rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub days: Option<i64>,
    pub percent: Option<f64>,
}

impl Threshold {
    /// Seconds before expiry at which this fires for a certificate living `lifetime`
    /// seconds, and how to say it ("14", "33% of its 47-day lifetime (15 days)").
    pub fn resolve(&self, lifetime: i64) -> (i64, String) {
        let by_days = self.days.map(|d| (d * 86_400, d.to_string()));
        let by_share = self.percent.map(|p| {
            let secs = (lifetime.max(0) as f64 * p / 100.0) as i64;
            (
                secs,
                format!(
                    "{p}% of its {}-day lifetime ({} days)",
                    lifetime.div_euclid(86_400),
                    secs.div_euclid(86_400)
                ),
            )
        });
        match (by_days, by_share) {
            (Some(a), Some(b)) => {
                if a.0 <= b.0 {
                    a
                } else {
                    b
                }
            }
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => (0, "none".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_numbers_and_text() {
        let v: TlsVersion = serde_json::from_str("1.3").unwrap_or_default();
        assert_eq!(v, TlsVersion::V13);
        let v: Result<TlsVersion, _> = serde_json::from_str("\"TLSv1.2\"");
        assert_eq!(v.ok(), Some(TlsVersion::V12));
        assert!(serde_json::from_str::<TlsVersion>("1.1").is_err());
        assert!(TlsVersion::V13.allows("TLSv1.3"));
        assert!(!TlsVersion::V13.allows("TLSv1.2"));
    }

    #[test]
    fn percentages_need_a_percent_sign_and_resolve_against_the_lifetime() {
        let p: Option<Percent> = serde_json::from_str("\"33%\"").ok();
        assert_eq!(p, Some(Percent(33.0)));
        assert!(serde_json::from_str::<Percent>("\"33\"").is_err());
        assert!(serde_json::from_str::<Percent>("\"150%\"").is_err());
        let day = 86_400;
        let both = Threshold {
            days: Some(30),
            percent: Some(33.0),
        };
        // 47-day certificate: a third of it (15 days) is later than 30 days: it wins.
        let (secs, text) = both.resolve(47 * day);
        assert_eq!(secs / day, 15);
        assert_eq!(text, "33% of its 47-day lifetime (15 days)");
        // 398-day certificate: 30 days is later than 131 days.
        assert_eq!(both.resolve(398 * day), (30 * day, "30".to_string()));
    }

    #[test]
    fn key_bits_take_a_number_or_a_map() {
        let k: Option<KeyBits> = serde_json::from_str("3072").ok();
        assert_eq!(k, Some(KeyBits { rsa: 3072, ec: 256 }));
        let k: Option<KeyBits> = serde_json::from_str(r#"{"ec": 384}"#).ok();
        assert_eq!(k, Some(KeyBits { rsa: 2048, ec: 384 }));
        assert!(serde_json::from_str::<KeyBits>(r#"{"dsa": 1}"#).is_err());
        assert_eq!(KeyBits::default().floor("Ed25519"), None);
    }
}
