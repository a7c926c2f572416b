//! `ip_family` and `resolve`: which addresses of a name a probe may use. A service broken on
//! IPv6 only is a classic outage, so a probe can be held to one family, or pinned to addresses.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::probe::ParamIssue;

/// `ip_family`: the address family a probe connects over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IpFamily {
    /// Whatever the name resolves to, in the resolver's order (the system's preference).
    #[default]
    Any,
    /// IPv4 addresses (A records) only.
    V4,
    /// IPv6 addresses (AAAA records) only.
    V6,
}

impl IpFamily {
    /// Whether `ip` belongs to this family.
    pub fn admits(self, ip: &IpAddr) -> bool {
        match self {
            IpFamily::Any => true,
            IpFamily::V4 => ip.is_ipv4(),
            IpFamily::V6 => ip.is_ipv6(),
        }
    }

    /// The family of `ip`.
    pub fn of(ip: &IpAddr) -> IpFamily {
        if ip.is_ipv4() {
            IpFamily::V4
        } else {
            IpFamily::V6
        }
    }

    /// `IPv4`, `IPv6`, `any family`: how messages name it.
    pub fn name(self) -> &'static str {
        match self {
            IpFamily::Any => "any family",
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }

    /// `v4`, `v6`, `any`: how the parameter and the evidence spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            IpFamily::Any => "any",
            IpFamily::V4 => "v4",
            IpFamily::V6 => "v6",
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `resolve`: the addresses a probe uses for its host instead of asking DNS (curl's
/// `--resolve`): a new server before DNS points at it, one origin behind a load balancer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Resolve(pub Vec<IpAddr>);

impl Resolve {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Resolve {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Resolve;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an IP address or a list of them (`[\"192.0.2.10\", \"2001:db8::10\"]`)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Resolve, E> {
                parse_ip(v).map(|ip| Resolve(vec![ip])).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Resolve, A::Error> {
                let mut out = Vec::new();
                while let Some(text) = seq.next_element::<String>()? {
                    out.push(parse_ip(&text).map_err(de::Error::custom)?);
                }
                Ok(Resolve(out))
            }
        }
        d.deserialize_any(V)
    }
}

crate::params::schema::impl_json_schema!(Resolve, "Resolve", {
    "description": "Addresses to use for the host instead of DNS (an IP address or a list).",
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}}
    ]
});

/// An IP address as written in a checklist: `192.0.2.1`, `2001:db8::1` or `[2001:db8::1]`.
pub fn parse_ip(text: &str) -> Result<IpAddr, String> {
    let t = text.trim();
    let bare = t
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(t);
    bare.parse::<IpAddr>()
        .map_err(|_| format!("`{text}` is not an IP address: write `192.0.2.10` or `2001:db8::10`"))
}

/// The host part of a target as an IP address, when it is a literal (`[::1]` included).
pub fn literal(host: &str) -> Option<IpAddr> {
    parse_ip(host).ok()
}

/// Problems with `ip_family` and `resolve` for `host` that show before anything runs: a
/// literal address of the other family, or pinned addresses none of which the family admits.
pub fn check(host: Option<&str>, family: IpFamily, resolve: &Resolve) -> Vec<ParamIssue> {
    let mut issues = Vec::new();
    if let Some(ip) = host.and_then(literal) {
        if !family.admits(&ip) {
            issues.push(
                ParamIssue::new(
                    "ip_family",
                    format!(
                        "the target is the {} address `{ip}`, but ip_family is {}",
                        IpFamily::of(&ip).name(),
                        family.as_str()
                    ),
                )
                .hint("name the host, or drop `ip_family`"),
            );
        }
        if !resolve.is_empty() {
            issues.push(
                ParamIssue::new(
                    "resolve",
                    format!(
                        "the target is already the address `{ip}`: `resolve` would never be used"
                    ),
                )
                .hint("`resolve` pins the addresses of a host name"),
            );
        }
    }
    if !resolve.is_empty() && !resolve.0.iter().any(|ip| family.admits(ip)) {
        issues.push(ParamIssue::new(
            "resolve",
            format!(
                "`resolve` lists no {} address, and ip_family is {}",
                family.name(),
                family.as_str()
            ),
        ));
    }
    issues
}

/// The addresses of `addrs` that `family` admits, in order.
pub fn admitted(addrs: &[SocketAddr], family: IpFamily) -> Vec<SocketAddr> {
    addrs
        .iter()
        .filter(|a| family.admits(&a.ip()))
        .copied()
        .collect()
}

/// The first address of each family, IPv4 first: what a dual-stack check compares.
pub fn one_per_family(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    [IpFamily::V4, IpFamily::V6]
        .into_iter()
        .filter_map(|f| addrs.iter().find(|a| f.admits(&a.ip())).copied())
        .collect()
}

/// `1.2.3.4, 2001:db8::1`: the addresses of a lookup in words.
pub fn list(addrs: &[SocketAddr]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for a in addrs {
        let ip = a.ip().to_string();
        if !seen.contains(&ip) {
            seen.push(ip);
        }
    }
    seen.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(text: &str) -> SocketAddr {
        SocketAddr::new(parse_ip(text).expect("ip"), 443)
    }

    #[test]
    fn families_filter_and_pick_one_each() {
        let addrs = [sa("2001:db8::1"), sa("192.0.2.1"), sa("192.0.2.2")];
        assert_eq!(
            admitted(&addrs, IpFamily::V4),
            [sa("192.0.2.1"), sa("192.0.2.2")]
        );
        assert_eq!(admitted(&addrs, IpFamily::V6), [sa("2001:db8::1")]);
        assert_eq!(admitted(&addrs, IpFamily::Any).len(), 3);
        assert_eq!(one_per_family(&addrs), [sa("192.0.2.1"), sa("2001:db8::1")]);
        assert_eq!(list(&[sa("::1"), sa("::1")]), "::1");
    }

    #[test]
    fn resolve_takes_one_address_or_a_list_and_bracketed_v6() {
        let one: Resolve = serde_json::from_str(r#""[::1]""#).expect("one");
        assert_eq!(one.0, [parse_ip("::1").expect("ip")]);
        let two: Resolve = serde_json::from_str(r#"["127.0.0.1", "::1"]"#).expect("two");
        assert_eq!(two.0.len(), 2);
        let bad = serde_json::from_str::<Resolve>(r#"["shop.example"]"#)
            .expect_err("a name is not an address");
        assert!(
            bad.to_string()
                .contains("`shop.example` is not an IP address"),
            "{bad}"
        );
    }

    #[test]
    fn contradictions_are_found_before_running() {
        let none = Resolve::default();
        let issues = check(Some("127.0.0.1"), IpFamily::V6, &none);
        assert_eq!(issues.len(), 1);
        assert_eq!(
            issues[0].message,
            "the target is the IPv4 address `127.0.0.1`, but ip_family is v6"
        );
        assert!(check(Some("[::1]"), IpFamily::V6, &none).is_empty());
        let v4_only = Resolve(vec![parse_ip("127.0.0.1").expect("ip")]);
        let issues = check(Some("shop.test"), IpFamily::V6, &v4_only);
        assert_eq!(issues[0].field, "resolve");
        assert!(check(Some("shop.test"), IpFamily::Any, &v4_only).is_empty());
    }
}
