//! The JSON Schema of the checklist format, derived from the same raw structs and probe
//! parameter types the loader uses, so editors validate exactly what `prodcheck` accepts.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::checklist::raw::RawChecklist;

/// `check: { KIND: { params } }`: one of the registry's kinds with its parameter schema.
pub struct CheckSchema;

impl JsonSchema for CheckSchema {
    fn schema_name() -> Cow<'static, str> {
        "Check".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let variants: Vec<serde_json::Value> = checks::registry::KINDS
            .iter()
            .filter_map(|kind| {
                let mut params = checks::registry::schema(kind)?.to_value();
                if let Some(obj) = params.as_object_mut() {
                    obj.remove("$schema");
                }
                Some(serde_json::json!({
                    "type": "object",
                    "properties": { *kind: params },
                    "required": [kind],
                    "additionalProperties": false
                }))
            })
            .collect();
        json_schema!({
            "description": "One probe kind and its parameters.",
            "oneOf": variants
        })
    }
}

/// The whole checklist schema as pretty JSON.
pub fn checklist_schema() -> String {
    let schema = schemars::schema_for!(RawChecklist);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
