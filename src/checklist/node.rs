//! A YAML document as a tree of nodes that remember their `line:column`, plus a serde
//! `Deserializer` over that tree whose errors carry the position of the offending node.
//!
//! serde-saphyr parses the text once into [`Node`]s; every later stage (raw structs, variable
//! substitution, probe parameters) works on the tree, so each diagnostic points at its node.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

/// A 1-based position in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
    /// Which file: 0 the one being loaded; others when nodes of several files are composed
    /// (`extends:`, `prodcheck.yaml` overrides), so a diagnostic names the right one.
    pub src: u8,
}

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// The value of a node. Mappings keep their source order and their keys' positions.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn new(pos: Pos, value: Value) -> Self {
        Node { pos, value }
    }

    /// The same tree with every position marked as coming from file `src`.
    pub fn in_source(mut self, src: u8) -> Self {
        fn mark(node: &mut Node, src: u8) {
            node.pos.src = src;
            match &mut node.value {
                Value::Seq(items) => items.iter_mut().for_each(|n| mark(n, src)),
                Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                    mark(k, src);
                    mark(v, src);
                }),
                _ => {}
            }
        }
        mark(&mut self, src);
        self
    }

    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under `key` when this node is a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// [`Node::scalar_text`], moving a string instead of copying it.
    pub fn into_text(self) -> Option<String> {
        match self.value {
            Value::Str(s) => Some(s),
            _ => self.scalar_text(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The scalar as text (numbers and booleans included), for lenient string fields.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Converts to JSON (used for evidence and for values compared against JSON bodies).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => J::from(*f),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

mod parse;
pub use parse::{ParsedNode, Streamed, SyntaxError, parse, parse_streamed};

// ---------------------------------------------------------------------------------------------
// Deserializing typed structs from the tree.

/// A deserialization error and the node it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub message: String,
    pub pos: Option<Pos>,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            pos: None,
        }
    }
}

impl DeError {
    /// Attaches `pos` unless a deeper node already claimed the error.
    fn at(mut self, pos: Pos) -> Self {
        self.pos.get_or_insert(pos);
        self
    }
}

/// Deserializes `T` from a node; the error carries the position of the innermost bad node.
pub fn from_node<'a, T: de::Deserialize<'a>>(node: &'a Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node))
}

/// A `serde::Deserializer` over one node. Scalars are lenient the way YAML users expect:
/// `"8443"` deserializes into a number and `1.2` into a string.
#[derive(Clone, Copy)]
pub struct NodeDe<'a>(pub &'a Node);

macro_rules! lenient_number {
    ($($method:ident => $visit:ident, $ty:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            if let Value::Str(s) = &self.0.value
                && let Ok(n) = s.trim().parse::<$ty>()
            {
                return v.$visit::<DeError>(n).map_err(|e| e.at(self.0.pos));
            }
            self.deserialize_any(v)
        }
    )*};
}

impl<'de> Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let node = self.0;
        let result = match &node.value {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Int(i) => v.visit_i64(*i),
            Value::Float(f) => v.visit_f64(*f),
            Value::Str(s) => v.visit_borrowed_str(s),
            Value::Seq(items) => v.visit_seq(SeqDe { iter: items.iter() }),
            Value::Map(entries) => v.visit_map(MapDe {
                iter: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.at(node.pos))
    }

    lenient_number! {
        deserialize_u8 => visit_u8, u8;
        deserialize_u16 => visit_u16, u16;
        deserialize_u32 => visit_u32, u32;
        deserialize_u64 => visit_u64, u64;
        deserialize_i8 => visit_i8, i8;
        deserialize_i16 => visit_i16, i16;
        deserialize_i32 => visit_i32, i32;
        deserialize_i64 => visit_i64, i64;
        deserialize_f32 => visit_f32, f32;
        deserialize_f64 => visit_f64, f64;
        deserialize_bool => visit_bool, bool;
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                let text = self.0.scalar_text().unwrap_or_default();
                v.visit_string::<DeError>(text)
                    .map_err(|e| e.at(self.0.pos))
            }
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.0.value {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
        .map_err(|e| e.at(self.0.pos))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self).map_err(|e| e.at(self.0.pos))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let node = self.0;
        match &node.value {
            Value::Str(_) => v.visit_enum(EnumDe {
                key: node,
                value: None,
            }),
            Value::Map(entries) if entries.len() == 1 => {
                let (k, val) = &entries[0];
                v.visit_enum(EnumDe {
                    key: k,
                    value: Some(val),
                })
            }
            _ => Err(de::Error::custom(format!(
                "expected a name or a mapping with exactly one key, found {}",
                node.type_name()
            ))),
        }
        .map_err(|e| e.at(node.pos))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        ignored_any
    }
}

struct SeqDe<'a> {
    iter: std::slice::Iter<'a, Node>,
}

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            Some(node) => seed
                .deserialize(NodeDe(node))
                .map(Some)
                .map_err(|e| e.at(node.pos)),
            None => Ok(None),
        }
    }
}

struct MapDe<'a> {
    iter: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for MapDe<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(NodeDe(k))
                    .map(Some)
                    .map_err(|e| e.at(k.pos))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(node) => seed.deserialize(NodeDe(node)).map_err(|e| e.at(node.pos)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

struct EnumDe<'a> {
    key: &'a Node,
    value: Option<&'a Node>,
}

impl<'de> EnumAccess<'de> for EnumDe<'de> {
    type Error = DeError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let key = self.key;
        let text = key.scalar_text().unwrap_or_default();
        let variant = seed
            .deserialize(text.into_deserializer())
            .map_err(|e: DeError| e.at(key.pos))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for EnumDe<'de> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => Ok(()),
            Some(n) => Err(DeError {
                message: "this variant takes no value".into(),
                pos: Some(n.pos),
            }),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        match self.value {
            Some(n) => seed.deserialize(NodeDe(n)),
            None => Err(DeError {
                message: "this variant needs a value".into(),
                pos: Some(self.key.pos),
            }),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        match self.value {
            Some(n) => NodeDe(n).deserialize_any(v),
            None => Err(DeError {
                message: "this variant needs a list".into(),
                pos: Some(self.key.pos),
            }),
        }
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Some(n) => NodeDe(n).deserialize_any(v),
            None => Err(DeError {
                message: "this variant needs a mapping".into(),
                pos: Some(self.key.pos),
            }),
        }
    }
}

/// A value given on the command line (`--var port=8443`, `probe … expect.status=[200,204]`):
/// read as a YAML scalar or flow collection, else kept as text.
pub fn from_cli(text: &str) -> Node {
    let pos = Pos {
        line: 1,
        col: 1,
        src: 0,
    };
    let t = text.trim_start();
    let flow = t.starts_with('[') || t.starts_with('{');
    match parse(text) {
        Ok(node) if flow || !matches!(node.value, Value::Map(_) | Value::Seq(_)) => node,
        _ => Node::new(pos, Value::Str(text.to_string())),
    }
}

/// A JSON value as short inline text: strings bare, everything else as compact JSON.
pub fn compact_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        host: String,
        port: u16,
    }

    #[test]
    fn positions_point_at_the_bad_node() {
        let doc = parse("a:\n  host: x\n  port: nope\n").expect("parses");
        let err = from_node::<Probe>(doc.get("a").expect("a")).expect_err("bad port");
        assert_eq!(
            err.pos,
            Some(Pos {
                line: 3,
                col: 9,
                src: 0
            })
        );
        assert!(err.message.contains("expected u16"), "{}", err.message);
    }

    #[test]
    fn unknown_fields_point_at_the_key_and_list_the_valid_ones() {
        let doc = parse("host: x\nport: 1\nprot: 2\n").expect("parses");
        let err = from_node::<Probe>(&doc).expect_err("unknown field");
        assert_eq!(
            err.pos,
            Some(Pos {
                line: 3,
                col: 1,
                src: 0
            })
        );
        assert!(
            err.message.contains("expected `host` or `port`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn numbers_in_strings_are_accepted_where_numbers_are_expected() {
        let doc = parse("host: 10.0.0.1\nport: '8443'\n").expect("parses");
        let p = from_node::<Probe>(&doc).expect("lenient");
        assert_eq!((p.host.as_str(), p.port), ("10.0.0.1", 8443));
    }

    #[test]
    fn norway_is_not_false() {
        let doc = parse("country: no\n").expect("parses");
        assert_eq!(doc.get("country").and_then(Node::as_str), Some("no"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: 3\n").expect_err("broken");
        assert_eq!(err.pos.line, 2);
    }
}
