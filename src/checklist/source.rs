//! A checklist's text and the name diagnostics show for it: what the catalog hands the loader,
//! and what every positioned diagnostic renders its source line from.

/// Checklist text and the name to show for it in diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub file: String,
    pub text: String,
}
