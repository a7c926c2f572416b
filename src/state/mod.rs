//! Project state under `.prodcheck/`: sign-offs and waivers (committed by users) and the run
//! history. Every file is rewritten atomically under a lock: crashes and concurrent runs lose nothing.

pub mod apply;
pub mod approvers;
pub mod atomic;
pub mod clock;
pub mod due;
pub mod error;
pub mod history;
pub mod signature;
pub mod signoffs;
pub mod waivers;
pub mod yaml_store;

pub use apply::State;
pub use clock::{Day, Timestamp};
pub use error::StateError;
pub use history::{ItemRecord, RunRecord};
pub use signoffs::SignOff;
pub use waivers::Waiver;
