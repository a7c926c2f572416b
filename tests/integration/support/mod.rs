//! Test support as a library of its own: the binary and its cases (`cli`), exit-code asserts
//! that show the report (`assert`), checklists (`yaml`), processes (`process`), servers.

#![allow(dead_code, reason = "each test module uses a different subset")]

mod assert;
mod cli;
pub mod metrics_app;
mod process;
mod servers;
mod yaml;

pub use assert::*;
pub use cli::*;
pub use process::*;
pub use servers::*;
pub use yaml::*;
