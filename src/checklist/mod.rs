//! Checklist files: the YAML node tree, raw serde structs, variables, diagnostics, and the
//! loader that turns a file into a validated [`Checklist`] or every problem it has.

pub mod conventions;
pub mod diagnostic;
pub mod hints;
pub mod load;
pub mod model;
pub mod node;
pub mod probes;
pub mod raw;
pub mod source;
pub mod tailor;
pub mod vars;

pub use diagnostic::Diagnostic;
pub use load::load;
pub use model::{
    Approval, Check, Checklist, Item, ItemBody, Manual, Section, Severity, Stage, Wait,
};
pub use source::Source;
pub use vars::VarSources;
