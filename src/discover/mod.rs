//! `prodcheck init --discover`: looks at the service an environment names (web, Prometheus,
//! PostgreSQL, Redis) and fills in the variables it can verify, in place in `prodcheck.yaml`.

pub mod finding;
pub mod polite;
pub mod yaml_edit;
