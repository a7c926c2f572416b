//! Text to tree: serde-saphyr reads the YAML once into [`Node`]s (positions through its
//! `Spanned`), or streams one large top-level entry to its own reader instead of the tree.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::{Node, Pos, Value};

/// A YAML syntax error with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub pos: Pos,
}

/// Parses a YAML document into a node tree. An empty document is a `Null` node.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    if text.trim().is_empty() {
        return Ok(Node::new(START, Value::Null));
    }
    read::<ParsedNode>(text).map(|n| n.0)
}

/// A reader of one top-level entry of a large document (a fleet's `targets:`), fed entry by
/// entry while the text is parsed instead of building that part of the tree.
pub trait Streamed: for<'de> de::Deserialize<'de> {
    /// The top-level key it reads.
    const KEY: &'static str;
}

/// Parses a document like [`parse`], except that the top-level entry [`Streamed::KEY`] is read
/// by `S` (with its position) and stands in the tree as an empty mapping at that position.
pub fn parse_streamed<S: Streamed>(text: &str) -> Result<(Node, Option<(Pos, S)>), SyntaxError> {
    if text.trim().is_empty() {
        return Ok((Node::new(START, Value::Null), None));
    }
    read::<ParsedRoot<S>>(text).map(|r| (r.node, r.streamed))
}

const START: Pos = Pos {
    line: 1,
    col: 1,
    src: 0,
};

fn read<T: for<'de> de::Deserialize<'de>>(text: &str) -> Result<T, SyntaxError> {
    // A checklist needs no more than a few thousand replayed alias events; the default
    // (a million) lets an alias bomb keep a CI job busy for seconds.
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = 20_000;
    let options = serde_saphyr::options! { strict_booleans: true, alias_limits: alias_limits };
    serde_saphyr::from_str_with_options::<T>(text, options).map_err(|e| {
        let pos = e
            .location()
            .map(|l| Pos {
                line: l.line() as u32,
                col: l.column() as u32,
                src: 0,
            })
            .unwrap_or(START);
        let raw = e.without_snippet().to_string();
        // serde-saphyr prefixes "line N column M: "; the diagnostic prints the position itself.
        let message = match raw.split_once(": ") {
            Some((head, rest)) if head.starts_with("line ") => rest.to_string(),
            _ => raw,
        };
        // The position is printed by the diagnostic; drop the parser's own copy of it.
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        SyntaxError { message, pos }
    })
}

/// A document's root with its streamed entry taken aside.
struct ParsedRoot<S> {
    node: Node,
    streamed: Option<(Pos, S)>,
}

impl<'de, S: Streamed> de::Deserialize<'de> for ParsedRoot<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<RootValue<S>>::deserialize(d)?;
        let RootValue(value, streamed) = spanned.value;
        Ok(ParsedRoot {
            node: Node::new(pos_of(&spanned.referenced), value),
            streamed,
        })
    }
}

struct RootValue<S>(Value, Option<(Pos, S)>);

impl<'de, S: Streamed> de::Deserialize<'de> for RootValue<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RootVisitor(std::marker::PhantomData))
    }
}

/// A mapping root streams its `S::KEY` entry; any other root is an ordinary value.
struct RootVisitor<S>(std::marker::PhantomData<S>);

macro_rules! as_plain_value {
    ($($name:ident($t:ty)),*) => {$(
        fn $name<E: de::Error>(self, v: $t) -> Result<Self::Value, E> {
            ParsedValueVisitor.$name(v).map(|v| RootValue(v, None))
        }
    )*};
}

impl<'de, S: Streamed> Visitor<'de> for RootVisitor<S> {
    type Value = RootValue<S>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    as_plain_value!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64)
    );
    as_plain_value!(visit_str(&str), visit_string(String));
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RootValue(Value::Null, None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RootValue(Value::Null, None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        ParsedValueVisitor
            .visit_seq(seq)
            .map(|v| RootValue(v, None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        let mut streamed = None;
        while let Some(ParsedNode(k)) = map.next_key()? {
            if k.as_str() == Some(S::KEY) && streamed.is_none() {
                let s: Spanned<S> = map.next_value()?;
                let pos = pos_of(&s.referenced);
                streamed = Some((pos, s.value));
                entries.push((k, Node::new(pos, Value::Map(Vec::new()))));
            } else {
                let ParsedNode(v) = map.next_value()?;
                entries.push((k, v));
            }
        }
        entries.shrink_to_fit();
        Ok(RootValue(Value::Map(entries), streamed))
    }
}

fn pos_of(location: &serde_saphyr::Location) -> Pos {
    Pos {
        line: location.line() as u32,
        col: location.column() as u32,
        src: 0,
    }
}

/// The node as serde-saphyr hands it over (through `Spanned`, which carries positions).
pub struct ParsedNode(pub Node);

impl<'de> de::Deserialize<'de> for ParsedNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<ParsedValue>::deserialize(d)?;
        Ok(ParsedNode(Node::new(
            pos_of(&spanned.referenced),
            spanned.value.0,
        )))
    }
}

struct ParsedValue(Value);

impl<'de> de::Deserialize<'de> for ParsedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ParsedValueVisitor).map(ParsedValue)
    }
}

struct ParsedValueVisitor;

impl<'de> Visitor<'de> for ParsedValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v)
            .map(Value::Int)
            .unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(ParsedNode(n)) = seq.next_element()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(ParsedNode(k)) = map.next_key()? {
            let ParsedNode(v) = map.next_value()?;
            entries.push((k, v));
        }
        // A large file holds thousands of small maps (a fleet's targets): no spare room each.
        entries.shrink_to_fit();
        Ok(Value::Map(entries))
    }
}
