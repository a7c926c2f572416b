//! Fleets: the `targets:` of `prodcheck.yaml` (named services with their own variables) and how
//! `run --target GLOB` / `--all-targets` and `serve ...&target=NAME` pick them.

pub mod read;
pub mod select;
pub mod target;

pub use select::{SelectError, glob_match, select};
pub use target::{Target, by_target, valid_name};
