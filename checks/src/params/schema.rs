//! Hand-written JSON Schemas for parameter types whose serde impl is hand-written too: one
//! macro, so each type states only its schema's name and body.

/// Implements schemars' `JsonSchema` for `$param` with the schema name `$schema_name` and the
/// JSON schema `$schema` (written as for `json_schema!`).
macro_rules! impl_json_schema {
    ($param:ty, $schema_name:literal, $schema:tt) => {
        impl schemars::JsonSchema for $param {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $schema_name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!($schema)
            }
        }
    };
}
pub(crate) use impl_json_schema;
