//! nuclei's CORS origin families as pure data: attacker origins derived from a target and its
//! allowed origins, and the severity of a response that lets one of them through.

use std::collections::BTreeSet;

use url::Url;

use crate::outcome::Status;

/// The attacker's registered domain (reserved `.test` TLD: never resolves).
const ATTACKER: &str = "attacker.test";

/// nuclei's origin families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Foreign,
    HostAsPrefix,
    GluedToDomain,
    UnescapedDot,
    Subdomain,
    HttpDowngrade,
    Null,
    SpecialChar,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Foreign => "foreign domain",
            Family::HostAsPrefix => "host as prefix",
            Family::GluedToDomain => "glued to the registered domain",
            Family::UnescapedDot => "unescaped dot",
            Family::Subdomain => "arbitrary subdomain",
            Family::HttpDowngrade => "HTTP downgrade",
            Family::Null => "null origin",
            Family::SpecialChar => "special character in a label",
        }
    }

    /// Verdict and severity when this family is reflected together with credentials.
    fn with_credentials(self) -> (Status, &'static str) {
        match self {
            Family::Foreign => (Status::Fail, "critical"),
            Family::Subdomain | Family::HttpDowngrade => (Status::Warn, "medium"),
            _ => (Status::Fail, "high"),
        }
    }
}

/// One origin to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attack {
    pub origin: String,
    pub family: Family,
    /// What it was derived from: 0 for the target (and the two fixed origins), `n` for the
    /// `n`-th allowed origin. A family of one base is one regex mistake to probe.
    pub base: usize,
}

/// The registered domain, approximated without the public-suffix list (`a.b.example.co.uk` →
/// `example.co.uk`); `None` for IP addresses and single labels.
pub fn registered_domain(host: &str) -> Option<String> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    if n < 2 {
        return None;
    }
    let short_sld = n >= 3 && labels[n - 1].len() == 2 && labels[n - 2].len() <= 3;
    let keep = if short_sld { 3 } else { 2 };
    Some(labels[n - keep..].join("."))
}

/// Every attack origin, derived from the target and from each allowed origin; the target's own
/// origin and the allowed origins themselves are never sent as attacks.
pub fn attack_origins(target: &Url, allowed: &[Url]) -> Vec<Attack> {
    let mut out = vec![
        Attack {
            origin: format!("https://{ATTACKER}"),
            family: Family::Foreign,
            base: 0,
        },
        Attack {
            origin: "null".into(),
            family: Family::Null,
            base: 0,
        },
    ];
    let bases = std::iter::once(target).chain(allowed.iter());
    for (i, base) in bases.enumerate() {
        let Some(host) = base.host_str() else {
            continue;
        };
        // Target-derived attackers come over HTTPS; allowed-derived ones keep the allowed scheme.
        let s = if i == 0 { "https" } else { base.scheme() };
        let port = base.port().map(|p| format!(":{p}")).unwrap_or_default();
        let mut add = |origin: String, family| {
            out.push(Attack {
                origin,
                family,
                base: i,
            })
        };
        add(format!("{s}://{host}.{ATTACKER}"), Family::HostAsPrefix);
        add(format!("{s}://{host}{ATTACKER}"), Family::HostAsPrefix);
        let domain = registered_domain(host);
        let root = domain.clone().unwrap_or_else(|| host.to_string());
        add(format!("{s}://attacker{root}"), Family::GluedToDomain);
        add(format!("{s}://{root}{ATTACKER}"), Family::GluedToDomain);
        if host.contains('.') {
            add(
                format!("{s}://{}{port}", host.replace('.', "a")),
                Family::UnescapedDot,
            );
        }
        if let Some(d) = &domain {
            add(format!("https://attacker.{d}"), Family::Subdomain);
            add(format!("http://attacker.{d}"), Family::HttpDowngrade);
        }
        if base.scheme() == "https" {
            add(format!("http://{host}{port}"), Family::HttpDowngrade);
        }
        for c in ["$", "+", "~", "!"] {
            add(format!("{s}://{host}.{c}.{ATTACKER}"), Family::SpecialChar);
        }
        add(format!("{s}://{host}_.{ATTACKER}"), Family::SpecialChar);
        add(format!("{s}://{host}%60.{ATTACKER}"), Family::SpecialChar);
    }
    let own = target.origin().ascii_serialization();
    let mut skip: BTreeSet<String> = allowed
        .iter()
        .map(|u| u.origin().ascii_serialization())
        .collect();
    skip.insert(own);
    out.retain(|a| skip.insert(a.origin.to_ascii_lowercase()));
    out
}

/// Attack indexes grouped by (base, family), in order: the first of each group is the one
/// sent first; the others only when the allow-list has shown a hole (see `cors`).
pub fn groups(attacks: &[Attack]) -> Vec<Vec<usize>> {
    let mut out: Vec<((usize, Family), Vec<usize>)> = Vec::new();
    for (i, a) in attacks.iter().enumerate() {
        match out.iter_mut().find(|(k, _)| *k == (a.base, a.family)) {
            Some((_, list)) => list.push(i),
            None => out.push(((a.base, a.family), vec![i])),
        }
    }
    out.into_iter().map(|(_, list)| list).collect()
}

/// Whether an `Access-Control-Allow-Origin` value lets `attack`'s origin through.
pub fn reflects(attack: &Attack, acao: Option<&str>) -> bool {
    acao.is_some_and(|v| v.trim().eq_ignore_ascii_case(&attack.origin))
}

/// A problem found in one response, or `None` when the response is fine.
pub fn classify(
    attack: &Attack,
    acao: Option<&str>,
    credentials: bool,
) -> Option<(Status, &'static str, String)> {
    let acao = acao?.trim();
    if acao == "*" {
        return credentials.then(|| {
            (Status::Warn, "info", "answers `Access-Control-Allow-Origin: *` with `Allow-Credentials: true`, which browsers reject (broken config); allow specific origins".to_string())
        });
    }
    if !acao.eq_ignore_ascii_case(&attack.origin) {
        return None;
    }
    let family = attack.family.name();
    if credentials {
        let (status, severity) = attack.family.with_credentials();
        Some((
            status,
            severity,
            format!(
                "{severity}: reflects origin `{}` ({family}) with credentials allowed, so that site can read authenticated responses; allow a fixed list of origins",
                attack.origin
            ),
        ))
    } else {
        Some((
            Status::Warn,
            "low",
            format!(
                "low: reflects origin `{}` ({family}) without credentials; allow a fixed list of origins",
                attack.origin
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap_or_else(|_| {
            Url::parse("https://invalid.example").unwrap_or_else(|_| unreachable!())
        })
    }

    #[test]
    fn origins_cover_every_family_for_target_and_allowed() {
        let attacks = attack_origins(
            &url("https://api.example.com/v1"),
            &[url("https://app.example")],
        );
        let has = |o: &str| attacks.iter().any(|a| a.origin == o);
        for o in [
            "https://attacker.test",
            "null",
            "https://api.example.com.attacker.test",
            "https://api.example.comattacker.test",
            "https://attackerexample.com",
            "https://apiaexampleacom",
            "https://attacker.example.com",
            "http://attacker.example.com",
            "http://api.example.com",
            "https://api.example.com.$.attacker.test",
            "https://api.example.com%60.attacker.test",
            // The case: an allow-list regex without its end anchor.
            "https://app.example.attacker.test",
            "http://app.example",
        ] {
            assert!(has(o), "missing {o}");
        }
        assert!(!has("https://api.example.com") && !has("https://app.example"));
        assert!(attacks.len() <= 2 + 14 * 2);
        // One group per (base, family): foreign, null, six target families, six allowed.
        let groups = groups(&attacks);
        assert_eq!(groups.len(), 14, "{groups:?}");
        assert_eq!(groups[0], vec![0]);
        assert!(groups.iter().flatten().count() == attacks.len());
    }

    #[test]
    fn registered_domains() {
        assert_eq!(
            registered_domain("a.b.example.com").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            registered_domain("shop.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(registered_domain("127.0.0.1"), None);
        assert_eq!(registered_domain("localhost"), None);
    }

    #[test]
    fn severities() {
        let foreign = Attack {
            origin: "https://attacker.test".into(),
            family: Family::Foreign,
            base: 0,
        };
        let sub = Attack {
            origin: "https://attacker.example.com".into(),
            family: Family::Subdomain,
            base: 0,
        };
        assert_eq!(
            classify(&foreign, Some("https://attacker.test"), true).map(|c| (c.0, c.1)),
            Some((Status::Fail, "critical"))
        );
        assert_eq!(
            classify(&foreign, Some("https://attacker.test"), false).map(|c| c.0),
            Some(Status::Warn)
        );
        assert_eq!(
            classify(&sub, Some("https://attacker.example.com"), true).map(|c| c.1),
            Some("medium")
        );
        assert_eq!(
            classify(&foreign, Some("*"), true).map(|c| c.0),
            Some(Status::Warn)
        );
        assert_eq!(classify(&foreign, Some("*"), false), None);
        assert_eq!(classify(&foreign, Some("https://app.example"), true), None);
        assert_eq!(classify(&foreign, None, true), None);
    }
}
