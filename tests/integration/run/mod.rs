//! A run from start to end: exit codes, selection, fail versus error, hostile targets, secrets,
//! crash safety, recorded state, fleets and `watch`.
mod behaviour;
mod crash_safety;
mod fail_or_error;
mod fleet;
mod fleet_stream;
mod flows;
mod hostile;
mod needs;
mod progressive;
mod progressive_service;
mod secrets;
mod signed_records;
mod state;
mod watch;
