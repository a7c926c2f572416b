//! `prodcheck init --discover`: looks at the service an environment names (web, Prometheus,
//! PostgreSQL, Redis) and fills in the variables it can verify, in place in `prodcheck.yaml`.

pub mod bundle;
pub mod conventions;
pub mod database;
pub mod finding;
pub mod html;
pub mod polite;
pub mod prometheus;
mod prometheus_api;
pub mod prometheus_series;
pub mod routes;
pub mod run;
pub mod table;
mod urls;
pub mod web;
pub mod yaml_edit;

pub use run::{Request, run};
