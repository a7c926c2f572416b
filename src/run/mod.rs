//! A run's pipeline, one stage per module: `RunRequest → Plan → Observation → Verdict →
//! Report → Record`. `run`, fleets, `watch`, `serve`, `demo` and `probe` all go through it.
//!
//! - [`project`]: prodcheck.yaml read once, checklist names resolved (also for commands that
//!   only read a checklist).
//! - [`request`]: clap's arguments resolved once (config, checklist source, environment,
//!   targets, `--var`s); gives a [`RunRequest`].
//! - [`plan`]: per target, the loaded checklist, selection, proxy, state and presets; gives a
//!   [`Plan`] (a run without targets is a fleet of one).
//! - [`observe`]: probes run concurrently under one bound and one per-host limit, manual items
//!   asked; gives one `Observation` per item ([`terminal`] adds Ctrl-C and a spinner).
//! - [`verdict`]: each observation decided once (severity, waivers, sign-offs, due state).
//! - [`report`]: verdicts become the redacted `Report`; every requested format is written.
//! - [`record`]: history lines and prompted sign-offs written to the state directory.
//!
//! A fleet whose reports can be streamed goes through the same stages a batch of targets at a
//! time ([`batches`] plans them, [`streamed`] runs them), so its memory does not grow with it.

pub mod approval;
pub mod batches;
pub mod observe;
pub mod plan;
pub mod project;
pub mod record;
pub mod report;
pub mod request;
pub mod streamed;
pub mod terminal;
pub mod verdict;

pub use plan::{Plan, PlanPart};
pub use request::{RunRequest, Scope};
