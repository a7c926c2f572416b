//! `prodcheck demo`: a small, deliberately imperfect HTTPS service on 127.0.0.1 with a
//! certificate generated on the spot, and a run of the shipped `pre-deploy` against it.

mod command;
pub mod dns;
pub mod pki;
pub mod service;

pub use command::demo;
