//! Parameters written as one scalar (`"2s"`, `33%`, `1.2`): each type says what it expects and
//! how it reads text, numbers and booleans; one serde visitor does the rest for all of them.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, Unexpected, Visitor};

/// Implements serde's `Deserialize` (through [`deserialize`]) and schemars' `JsonSchema` for a
/// [`ScalarParam`] type, given its schema name and JSON schema: the orphan rule wants both
/// impls written per type, and they differ only in these two values.
macro_rules! impl_serde_and_schema {
    ($param:ty, $schema_name:literal, $schema:tt) => {
        impl<'de> serde::Deserialize<'de> for $param {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::params::scalar::deserialize(d)
            }
        }

        $crate::params::schema::impl_json_schema!($param, $schema_name, $schema);
    };
}
pub(crate) use impl_serde_and_schema;

/// A bare number as the checklist reader saw it; it prints the way it was read (`5`, `-1`, `1.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    /// The number as a float (integers beyond 2^53 lose precision, as with `as`).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Unsigned(v) => v as f64,
            Number::Signed(v) => v as f64,
            Number::Float(v) => v,
        }
    }

    fn unexpected(self) -> Unexpected<'static> {
        match self {
            Number::Unsigned(v) => Unexpected::Unsigned(v),
            Number::Signed(v) => Unexpected::Signed(v),
            Number::Float(v) => Unexpected::Float(v),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Unsigned(v) => write!(f, "{v}"),
            Number::Signed(v) => write!(f, "{v}"),
            Number::Float(v) => write!(f, "{v}"),
        }
    }
}

/// A parameter type read from one scalar. `from_number` and `from_bool` answer `None` when that
/// kind of scalar is the wrong type here (serde then says "invalid type: …, expected EXPECTING").
pub trait ScalarParam: Sized {
    /// What belongs here, as serde's "expected …" part of a type error.
    const EXPECTING: &'static str;
    /// The value from a string, or a message saying what is wrong with it.
    fn from_text(text: &str) -> Result<Self, String>;
    /// The value from a bare number; by default a number is the wrong type.
    fn from_number(_number: Number) -> Option<Result<Self, String>> {
        None
    }
    /// The value from `true` / `false`; by default a boolean is the wrong type.
    fn from_bool(_value: bool) -> Option<Result<Self, String>> {
        None
    }
}

/// `Deserialize::deserialize` for a [`ScalarParam`] type.
pub fn deserialize<'de, D: Deserializer<'de>, T: ScalarParam>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(ScalarVisitor(PhantomData))
}

struct ScalarVisitor<T>(PhantomData<T>);

impl<T: ScalarParam> ScalarVisitor<T> {
    fn number<E: de::Error>(self, number: Number) -> Result<T, E> {
        match T::from_number(number) {
            Some(read) => read.map_err(E::custom),
            None => Err(E::invalid_type(number.unexpected(), &self)),
        }
    }
}

impl<T: ScalarParam> Visitor<'_> for ScalarVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_text(v).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.number(Number::Unsigned(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.number(Number::Signed(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.number(Number::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        match T::from_bool(v) {
            Some(read) => read.map_err(E::custom),
            None => Err(E::invalid_type(Unexpected::Bool(v), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use crate::compare::CompareParam;
    use crate::params::{DurationParam, SizeParam};
    use crate::tls::params::{Percent, TlsVersion};

    fn read<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn text_numbers_and_booleans_reach_the_type() {
        assert_eq!(read::<SizeParam>("\"1KiB\""), Ok(SizeParam(1024)));
        assert_eq!(read::<SizeParam>("512"), Ok(SizeParam(512)));
        assert_eq!(read::<TlsVersion>("1.3"), Ok(TlsVersion::V13));
        assert_eq!(
            read::<CompareParam>("2.5"),
            Ok(CompareParam("== 2.5".into()))
        );
        assert_eq!(read::<CompareParam>("-3"), Ok(CompareParam("== -3".into())));
        assert_eq!(
            read::<CompareParam>("true"),
            Ok(CompareParam("== true".into()))
        );
    }

    #[test]
    fn refusals_keep_the_type_s_own_words() {
        let bare = read::<DurationParam>("10").map_err(|e| e.contains("needs a unit"));
        assert_eq!(bare, Err(true));
        let negative = read::<SizeParam>("-1").map_err(|e| e.contains("cannot be negative"));
        assert_eq!(negative, Err(true));
        let percent = read::<Percent>("33").map_err(|e| e.starts_with("`33` is not a percentage"));
        assert_eq!(percent, Err(true));
    }

    #[test]
    fn the_wrong_kind_of_scalar_says_what_was_expected() {
        let float = read::<SizeParam>("1.5").map_err(|e| {
            e.starts_with("invalid type: floating point `1.5`, expected a size such as")
        });
        assert_eq!(float, Err(true));
        let boolean = read::<DurationParam>("true")
            .map_err(|e| e.starts_with("invalid type: boolean `true`, expected a duration"));
        assert_eq!(boolean, Err(true));
    }
}
