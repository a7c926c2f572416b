//! The checklists prodcheck ships, run as shipped against services stood up on 127.0.0.1.

pub(crate) mod checklists;
mod good_bad_service;
mod internal_ca;
pub(crate) mod rollback;
mod unconfigured;
