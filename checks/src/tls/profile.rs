//! The Mozilla server-side TLS profiles (suites: guidelines v5.7; groups: v6.0) applied to what
//! a server accepts, in two tiers (outside the profile but inside `old`: warn; known-broken:
//! fail), and the words for "why rustls could not talk to this server at all".

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::outcome::Status;
use crate::tls::hello::{KeyExchange, version_name};
use crate::tls::scan::Accepted;
use crate::tls::suites::{self, Bulk, Kx};

/// The newest Mozilla server-side TLS guideline tracked here. 6.0 keeps the `modern` and
/// `intermediate` suites this file judges (5.7's `old` stays the tolerance tier) and puts the
/// hybrid post-quantum group first in both profiles' `tls_curves`.
pub const GUIDELINE: &str = "6.0";
/// Guideline 6.0's `tls_curves` for `modern` and `intermediate`, as IANA group codes:
/// X25519MLKEM768, X25519, prime256v1 (P-256), secp384r1 (P-384).
pub const GROUPS: [u16; 4] = [0x11ec, 0x001d, 0x0017, 0x0018];

/// `profile`: which Mozilla configuration the server must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// TLS 1.3 only.
    Modern,
    /// TLS 1.2 with ECDHE/DHE (≥ 2048 bits) and AEAD ciphers only, plus TLS 1.3.
    #[default]
    Intermediate,
    /// Also CBC and static RSA (very old clients). prodcheck still fails 3DES and DHE under
    /// 2048 bits, which Mozilla `old` allows, as known-broken.
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
}

/// How far outside the chosen profile a finding is: the tier decides the status, and the
/// message names it so a reader knows whether the server is unsafe or only not current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Outside the chosen profile but inside Mozilla `old`: still safe for old clients,
    /// not today's recommendation. A warning.
    OldOnly,
    /// Known-broken or outside `old` (RC4, 3DES, NULL, export, single DES, anonymous, DHE
    /// under 2048 bits, static RSA where the profile requires forward secrecy). A failure.
    Broken,
}

impl Tier {
    pub fn status(self) -> Status {
        match self {
            Tier::OldOnly => Status::Warn,
            Tier::Broken => Status::Fail,
        }
    }

    /// The clause a message ends with.
    pub fn words(self, profile: Profile) -> String {
        match self {
            Tier::OldOnly => format!(
                "outside the Mozilla {} profile but inside old (tier old-only: warn)",
                profile.name()
            ),
            Tier::Broken => {
                "known-broken, outside what any accepted profile allows (tier broken: fail)".into()
            }
        }
    }
}

/// Why one accepted suite is outside `profile`, as (tier, label) pairs; known-broken labels
/// come first and, when there are any, alone.
fn violations(profile: Profile, a: &Accepted) -> Vec<(Tier, String)> {
    let Some(s) = suites::find(a.suite) else {
        return Vec::new();
    };
    let mut broken = Vec::new();
    match s.kx {
        Kx::Anon => broken.push("anonymous key exchange (no server authentication)".into()),
        Kx::Rsa if profile != Profile::Old => broken.push(format!(
            "static-RSA key exchange (no forward secrecy, which the {} profile requires)",
            profile.name()
        )),
        _ => {}
    }
    match s.bulk {
        Bulk::TripleDes => broken.push("3DES (Sweet32)".into()),
        Bulk::Rc4 => broken.push("RC4".into()),
        Bulk::Null => broken.push("NULL (unencrypted) suites".into()),
        Bulk::Export => broken.push("export-grade suites".into()),
        Bulk::Des => broken.push("single-DES suites".into()),
        _ => {}
    }
    if let Some(KeyExchange::Dhe { bits }) = a.kx
        && bits < 2048
    {
        broken.push(format!("DHE with a {bits}-bit group (needs at least 2048)"));
    }
    if !broken.is_empty() {
        return broken.into_iter().map(|l| (Tier::Broken, l)).collect();
    }
    let mut out = Vec::new();
    if profile == Profile::Modern && a.version < 0x0304 {
        out.push(format!(
            "{} at all (the modern profile is TLS 1.3 only)",
            version_name(a.version)
        ));
    } else if profile == Profile::Intermediate && s.bulk == Bulk::Cbc {
        out.push("CBC suites".into());
    }
    out.into_iter().map(|l| (Tier::OldOnly, l)).collect()
}

/// One (status, sentence) per kind of violation: "server accepts CBC suites on TLSv1.2 (A,
/// B and 2 more), outside the Mozilla intermediate profile but inside old (tier old-only:
/// warn)".
pub fn judge(profile: Profile, accepted: &[Accepted]) -> Vec<(Status, String)> {
    let mut by_label: BTreeMap<(Tier, u16, String), Vec<u16>> = BTreeMap::new();
    for a in accepted {
        for (tier, label) in violations(profile, a) {
            let ids = by_label.entry((tier, a.version, label)).or_default();
            if !ids.contains(&a.suite) {
                ids.push(a.suite);
            }
        }
    }
    // Broken findings first: they decide the verdict.
    let mut found: Vec<_> = by_label.into_iter().collect();
    found.sort_by_key(|((tier, ..), _)| std::cmp::Reverse(*tier));
    found
        .into_iter()
        .map(|((tier, version, label), ids)| {
            (
                tier.status(),
                format!(
                    "server accepts {label} on {} ({}), {}",
                    version_name(version),
                    list(&ids),
                    tier.words(profile)
                ),
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
    fn findings_are_tiered_old_only_warns_and_broken_fails() {
        let accepted = [
            acc(0xc02f, Some(KeyExchange::Ecdhe { group: 0x1d })),
            acc(0xc013, None),
            acc(0x002f, None),
            acc(0x009e, Some(KeyExchange::Dhe { bits: 1024 })),
        ];
        let found = judge(Profile::Intermediate, &accepted);
        let text = |s: Status| {
            found
                .iter()
                .filter(|(st, _)| *st == s)
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (warn, fail) = (text(Status::Warn), text(Status::Fail));
        assert!(warn.contains("server accepts CBC suites on TLSv1.2 (TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA), outside the Mozilla intermediate profile but inside old (tier old-only: warn)"), "{warn}");
        assert!(fail.contains("static-RSA key exchange (no forward secrecy, which the intermediate profile requires) on TLSv1.2 (TLS_RSA_WITH_AES_128_CBC_SHA), known-broken"), "{fail}");
        assert!(
            fail.contains("DHE with a 1024-bit group (needs at least 2048)"),
            "{fail}"
        );
        assert!(fail.contains("(tier broken: fail)"), "{fail}");
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].0, Status::Fail, "broken findings come first");
        // The old profile tolerates CBC and static RSA, never small DHE, 3DES or RC4.
        let old = judge(Profile::Old, &accepted);
        assert_eq!(old.len(), 1, "{old:?}");
        assert_eq!(old[0].0, Status::Fail);
        assert_eq!(judge(Profile::Old, &[acc(0x000a, None)])[0].0, Status::Fail);
        assert_eq!(judge(Profile::Old, &[acc(0x0005, None)])[0].0, Status::Fail);
        // Intermediate-clean is clean.
        assert!(judge(Profile::Intermediate, &accepted[..1]).is_empty());
        // Modern: TLS 1.2 itself is outside, inside old.
        let modern = judge(Profile::Modern, &accepted[..1]);
        assert_eq!(modern[0].0, Status::Warn);
        assert!(
            modern[0]
                .1
                .contains("TLSv1.2 at all (the modern profile is TLS 1.3 only)"),
            "{modern:?}"
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
