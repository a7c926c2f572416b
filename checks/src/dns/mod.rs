//! The `dns` probe family: the probe, one resolver/query layer that tells "does not exist"
//! from "could not ask", and the CAA / SPF / DMARC policy rules.

mod policy;
mod probe;

pub use probe::DnsProbe;
pub(crate) use probe::Findings;
