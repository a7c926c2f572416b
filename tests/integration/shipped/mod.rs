//! The checklists prodcheck ships, run as shipped against services stood up on 127.0.0.1.
mod checklists;
pub(crate) mod conventions;
mod fooled;
mod good_bad_service;
mod internal_ca;
mod rollback;
mod unconfigured;
