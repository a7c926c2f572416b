//! The Mozilla server-side TLS profiles (guidelines v5.7) applied to what a server accepts,
//! and the words for "why rustls could not talk to this server at all".

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::tls::hello::{KeyExchange, version_name};
use crate::tls::scan::Accepted;
use crate::tls::suites::{self, Bulk, Kx};

/// `profile`: which Mozilla configuration the server must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// TLS 1.3 only.
    Modern,
    /// TLS 1.2 with ECDHE/DHE (≥ 2048 bits) and AEAD ciphers only, plus TLS 1.3.
    #[default]
    Intermediate,
    /// Also CBC, static RSA and 3DES, DHE ≥ 1024 bits (very old clients).
    Old,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Modern => "modern",
            Profile::Intermediate => "intermediate",
            Profile::Old => "old",
        }
    }

    fn dh_floor(self) -> usize {
        match self {
            Profile::Old => 1024,
            _ => 2048,
        }
    }
}

/// Why one accepted suite is outside `profile`, as labels (a suite can have several).
fn violations(profile: Profile, a: &Accepted) -> Vec<String> {
    let mut out = Vec::new();
    if profile == Profile::Modern && a.version < 0x0304 {
        out.push(format!(
            "{} at all (the modern profile is TLS 1.3 only)",
            version_name(a.version)
        ));
        return out;
    }
    let Some(s) = suites::find(a.suite) else {
        return out;
    };
    let strict = profile != Profile::Old;
    match s.kx {
        Kx::Anon => out.push("anonymous key exchange (no server authentication)".into()),
        Kx::Rsa if strict => out.push("static-RSA key exchange (no forward secrecy)".into()),
        _ => {}
    }
    match s.bulk {
        Bulk::Cbc if strict => out.push("CBC suites".into()),
        Bulk::TripleDes if strict => out.push("3DES (Sweet32)".into()),
        Bulk::Rc4 => out.push("RC4".into()),
        Bulk::Null => out.push("NULL (unencrypted) suites".into()),
        Bulk::Export => out.push("export-grade suites".into()),
        Bulk::Des => out.push("single-DES suites".into()),
        _ => {}
    }
    if let Some(KeyExchange::Dhe { bits }) = a.kx
        && bits < profile.dh_floor()
    {
        out.push(format!(
            "DHE with a {bits}-bit group (needs at least {})",
            profile.dh_floor()
        ));
    }
    out
}

/// One sentence per kind of violation: "server accepts CBC suites on TLSv1.2 (A, B and 2
/// more), outside the Mozilla intermediate profile".
pub fn judge(profile: Profile, accepted: &[Accepted]) -> Vec<String> {
    let mut by_label: BTreeMap<(u16, String), Vec<u16>> = BTreeMap::new();
    for a in accepted {
        for label in violations(profile, a) {
            let ids = by_label.entry((a.version, label)).or_default();
            if !ids.contains(&a.suite) {
                ids.push(a.suite);
            }
        }
    }
    by_label
        .into_iter()
        .map(|((version, label), ids)| {
            format!(
                "server accepts {label} on {} ({}), outside the Mozilla {} profile",
                version_name(version),
                list(&ids),
                profile.name()
            )
        })
        .collect()
}

/// "A, B, C and 4 more".
fn list(ids: &[u16]) -> String {
    let names: Vec<String> = ids.iter().take(3).map(|id| suites::name(*id)).collect();
    match ids.len() {
        0..=3 => names.join(", "),
        n => format!("{} and {} more", names.join(", "), n - 3),
    }
}

/// Why a client like rustls (TLS 1.2: ECDHE with AES-GCM or ChaCha20 only) finds nothing in
/// common with a server that accepts `accepted`: the reason all of them share, in words.
pub fn why_no_common_suite(accepted: &[Accepted]) -> Option<String> {
    let reasons = |a: &Accepted| -> Vec<String> {
        let Some(s) = suites::find(a.suite) else {
            return vec![];
        };
        let mut r = Vec::new();
        match s.kx {
            Kx::Ecdhe => {}
            Kx::Dhe => r.push("DHE key exchange".into()),
            other => r.push(other.words().to_string()),
        }
        match s.bulk {
            Bulk::Aead if s.name.contains("CCM") => r.push("AES-CCM".into()),
            Bulk::Aead => {}
            other => r.push(format!("{} suites", other.words())),
        }
        r
    };
    let first = accepted.first()?;
    let version = version_name(first.version);
    let common: Vec<String> = reasons(first)
        .into_iter()
        .filter(|r| accepted.iter().all(|a| reasons(a).contains(r)))
        .collect();
    if common.is_empty() {
        let names: Vec<u16> = accepted.iter().map(|a| a.suite).collect();
        return Some(format!(
            "server offers only suites modern clients do not speak on {version}: {}",
            list(&names)
        ));
    }
    let mut text = format!("server offers only {} on {version}", common.join(" and "));
    if common.iter().any(|c| c == "DHE key exchange") {
        let bits = accepted.iter().find_map(|a| match a.kx {
            Some(KeyExchange::Dhe { bits }) => Some(bits),
            _ => None,
        });
        text.push_str(" (current browsers and rustls no longer offer DHE");
        if let Some(bits) = bits {
            text.push_str(&format!("; its group is {bits} bits"));
        }
        text.push(')');
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(suite: u16, kx: Option<KeyExchange>) -> Accepted {
        Accepted {
            version: 0x0303,
            suite,
            kx,
        }
    }

    #[test]
    fn intermediate_rejects_cbc_static_rsa_and_small_dhe() {
        let accepted = [
            acc(0xc02f, Some(KeyExchange::Ecdhe { group: 0x1d })),
            acc(0xc013, None),
            acc(0x002f, None),
            acc(0x009e, Some(KeyExchange::Dhe { bits: 1024 })),
        ];
        let found = judge(Profile::Intermediate, &accepted);
        let all = found.join("\n");
        assert!(all.contains("server accepts CBC suites on TLSv1.2 (TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_128_CBC_SHA), outside the Mozilla intermediate profile"), "{all}");
        assert!(all.contains("static-RSA key exchange (no forward secrecy) on TLSv1.2 (TLS_RSA_WITH_AES_128_CBC_SHA)"), "{all}");
        assert!(
            all.contains("DHE with a 1024-bit group (needs at least 2048)"),
            "{all}"
        );
        assert_eq!(found.len(), 3);
        // The old profile tolerates all of that but still not RC4.
        assert!(judge(Profile::Old, &accepted).is_empty());
        assert_eq!(judge(Profile::Old, &[acc(0x0005, None)]).len(), 1);
        // Modern: TLS 1.2 itself is the problem.
        let modern = judge(Profile::Modern, &accepted[..1]).join("");
        assert!(
            modern.contains("TLSv1.2 at all (the modern profile is TLS 1.3 only)"),
            "{modern}"
        );
    }

    #[test]
    fn no_common_suite_names_the_shared_reason() {
        let cbc = [acc(0xc013, None), acc(0xc014, None)];
        assert_eq!(
            why_no_common_suite(&cbc).as_deref(),
            Some("server offers only CBC suites on TLSv1.2")
        );
        let rsa = [acc(0x009c, None), acc(0x002f, None)];
        assert_eq!(
            why_no_common_suite(&rsa).as_deref(),
            Some("server offers only static-RSA key exchange (no forward secrecy) on TLSv1.2")
        );
        let dhe = [acc(0x009e, Some(KeyExchange::Dhe { bits: 1024 }))];
        assert_eq!(
            why_no_common_suite(&dhe).as_deref(),
            Some(
                "server offers only DHE key exchange on TLSv1.2 (current browsers and rustls no longer offer DHE; its group is 1024 bits)"
            )
        );
        assert_eq!(why_no_common_suite(&[]), None);
    }
}
