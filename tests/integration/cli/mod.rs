//! The command line itself: arguments, diagnostics, docs, editor and shell integration, and
//! the loader's properties.
mod basics;
mod diagnostics;
mod docs;
mod editor_shell;
mod loader_props;
mod overrides;
