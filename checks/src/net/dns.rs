//! DNS plumbing for the probes that ask DNS (`dns`, and `tls` for HTTPS records): one resolver
//! (system or a given `host:port`), one query that tells "does not exist" from "could not ask".

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use tokio::time::timeout;

use crate::net::dial::within;
use crate::no_answer::NoAnswer;

/// What a query found.
#[derive(Debug)]
pub enum Answer {
    /// Records of the asked type (CNAMEs followed on the way are left out).
    Records(Vec<Record>),
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The name exists but has no records of that type (NODATA).
    NoData,
}

/// A question the resolver did not answer: why, and what happened in words. The resolver is
/// the instrument, so this is always `error` (see `no_answer.rs`), never a verdict on the name.
#[derive(Debug, Clone, PartialEq)]
pub struct Unasked {
    pub why: NoAnswer,
    pub message: String,
}

impl From<Unasked> for String {
    fn from(u: Unasked) -> String {
        u.message
    }
}

/// Where queries go: `host:port`, `[v6]:port` or a bare address (port 53).
pub fn parse_nameserver(text: &str) -> Result<(String, u16), String> {
    let t = text.trim();
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok((addr.ip().to_string(), addr.port()));
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok((ip.to_string(), 53));
    }
    match t.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.contains(':') => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .map(|p| (host.to_string(), p))
            .ok_or_else(|| format!("invalid port `{port}` in nameserver `{text}`")),
        None if !t.is_empty() && !t.contains(char::is_whitespace) => Ok((t.to_string(), 53)),
        _ => Err(format!(
            "invalid nameserver `{text}`: write `host:port`, e.g. `127.0.0.1:53`"
        )),
    }
}

/// A resolver for `nameserver` (or the system's), each query bounded by `budget`.
pub async fn resolver(nameserver: Option<&str>, budget: Duration) -> Result<TokioResolver, String> {
    let mut builder = match nameserver {
        Some(ns) => {
            let (host, port) = parse_nameserver(ns)?;
            let ip = match host.parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => {
                    let found = timeout(budget, tokio::net::lookup_host((host.as_str(), port)))
                        .await
                        .map_err(|_| format!("resolving nameserver `{host}` timed out"))?
                        .map_err(|e| format!("cannot resolve nameserver `{host}`: {e}"))?
                        .next();
                    found
                        .map(|a| a.ip())
                        .ok_or_else(|| format!("nameserver `{host}` resolved to no address"))?
                }
            };
            let mut udp = ConnectionConfig::udp();
            udp.port = port;
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = port;
            let config = ResolverConfig::from_parts(
                None,
                Vec::new(),
                vec![NameServerConfig::new(ip, true, vec![udp, tcp])],
            );
            Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        }
        None => TokioResolver::builder_tokio()
            .map_err(|e| format!("cannot read the system resolver configuration: {e}"))?,
    };
    let opts = builder.options_mut();
    opts.timeout = budget;
    opts.attempts = 1;
    opts.use_hosts_file = ResolveHosts::Never;
    opts.ndots = 0;
    builder
        .build()
        .map_err(|e| format!("cannot build the DNS resolver: {e}"))
}

/// `name` as a fully qualified name, so search domains never apply.
pub fn fqdn(name: &str) -> String {
    let n = name.trim();
    if n.ends_with('.') {
        n.to_string()
    } else {
        format!("{n}.")
    }
}

/// One query within `budget`. `Err` means the question could not be answered at all.
pub async fn query(
    resolver: &TokioResolver,
    name: &str,
    rtype: RecordType,
    budget: Duration,
) -> Result<Answer, Unasked> {
    let fq = fqdn(name);
    let unasked = |why: NoAnswer, message: String| Unasked { why, message };
    match timeout(budget, resolver.lookup(fq.as_str(), rtype)).await {
        Err(_) => Err(unasked(
            NoAnswer::Timeout,
            format!(
                "{rtype} query for {name}: the resolver did not answer within {}",
                within(budget)
            ),
        )),
        Ok(Ok(lookup)) => {
            let records: Vec<Record> = lookup
                .answers()
                .iter()
                .filter(|r| r.record_type() == rtype)
                .cloned()
                .collect();
            if records.is_empty() {
                Ok(Answer::NoData)
            } else {
                Ok(Answer::Records(records))
            }
        }
        Ok(Err(NetError::Dns(DnsError::NoRecordsFound(no)))) => match no.response_code {
            ResponseCode::NXDomain => Ok(Answer::NxDomain),
            ResponseCode::NoError => Ok(Answer::NoData),
            code => Err(unasked(
                NoAnswer::ResolverUnavailable,
                format!(
                    "{rtype} query for {name}: the resolver answered {code}, not an answer about the name"
                ),
            )),
        },
        Ok(Err(e)) => {
            // Whatever it says, the question was not answered: it is the resolver's failure.
            let why = match NoAnswer::classify(&e) {
                NoAnswer::Other | NoAnswer::NameNotFound => NoAnswer::ResolverUnavailable,
                why => why,
            };
            Err(unasked(
                why,
                format!(
                    "{rtype} query for {name} failed: the resolver gave no answer about the name ({e})"
                ),
            ))
        }
    }
}

fn name_text(name: &hickory_resolver::proto::rr::Name) -> String {
    name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// A record's value as text, plus shorter forms an `expect` entry may use
/// (an MX exchange without preference, a CAA value without flags and tag).
pub fn value_forms(record: &Record) -> (String, Vec<String>) {
    match &record.data {
        RData::A(a) => (a.0.to_string(), vec![]),
        RData::AAAA(a) => (a.0.to_string(), vec![]),
        RData::CNAME(c) => (name_text(&c.0), vec![]),
        RData::NS(n) => (name_text(&n.0), vec![]),
        RData::MX(mx) => {
            let host = name_text(&mx.exchange);
            (format!("{} {host}", mx.preference), vec![host])
        }
        RData::TXT(txt) => {
            let text: String = txt
                .txt_data
                .iter()
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect();
            (text, vec![])
        }
        RData::CAA(caa) => {
            let value = String::from_utf8_lossy(&caa.value).into_owned();
            (
                format!("{} {} \"{value}\"", caa.flags(), caa.tag),
                vec![format!("{} {value}", caa.tag), value],
            )
        }
        RData::SOA(soa) => {
            let mname = name_text(&soa.mname);
            (
                format!("{mname} {} {}", name_text(&soa.rname), soa.serial),
                vec![mname],
            )
        }
        other => (other.to_string(), vec![]),
    }
}

/// The CNAME target of a record, if it is one.
pub fn cname_target(record: &Record) -> Option<String> {
    match &record.data {
        RData::CNAME(c) => Some(name_text(&c.0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_parse() {
        assert_eq!(
            parse_nameserver("127.0.0.1:5353"),
            Ok(("127.0.0.1".into(), 5353))
        );
        assert_eq!(parse_nameserver("[::1]:53"), Ok(("::1".into(), 53)));
        assert_eq!(parse_nameserver("10.0.0.1"), Ok(("10.0.0.1".into(), 53)));
        assert_eq!(
            parse_nameserver("ns1.example.com:53"),
            Ok(("ns1.example.com".into(), 53))
        );
        assert!(parse_nameserver("ns1:notaport").is_err());
        assert!(parse_nameserver("ns1:0").is_err());
        assert!(parse_nameserver("").is_err());
    }

    #[test]
    fn names_become_fully_qualified() {
        assert_eq!(fqdn("example.com"), "example.com.");
        assert_eq!(fqdn("example.com."), "example.com.");
    }
}
