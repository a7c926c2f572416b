//! Post-quantum key exchange without an ML-KEM implementation: ring has none, so a hand-written
//! TLS 1.3 ClientHello offers X25519MLKEM768 first with a well-formed hybrid key share, and the
//! group the ServerHello (or HelloRetryRequest) names is the answer; the handshake is abandoned.

use std::time::Duration;

use ring::agreement::{EphemeralPrivateKey, X25519};
use ring::error::Unspecified;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value, json};

use crate::net::Route;
use crate::outcome::Status;
use crate::tls::hello::{self, Answer, Want, group_name, push_list_ext, push_sni, push_u16};
use crate::tls::judge::Report;
use crate::tls::profile;

/// IANA code of the hybrid group X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem).
pub const X25519MLKEM768: u16 = 0x11ec;
/// The classic groups offered after it (and alone in the classic hello).
const CLASSIC: [u16; 4] = [0x001d, 0x0017, 0x0018, 0x0019];
/// ML-KEM's modulus: every 12-bit coefficient of an encapsulation key is below it (FIPS 203).
const Q: u16 = 3329;
/// An ML-KEM-768 encapsulation key: 3 × 256 coefficients × 12 bits, then the 32-byte seed ρ.
pub const EK_LEN: usize = 3 * 256 * 3 / 2 + 32;

/// What one hello learnt: the group the server chose, or why that is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A TLS 1.3 ServerHello (`retry` false) or HelloRetryRequest naming `group`.
    Group { group: u16, retry: bool },
    /// The server answered with TLS 1.2 or older: no TLS 1.3 key share at all.
    Version(u16),
    /// An alert, a closed connection, a timeout, an unreadable answer.
    Unknown(String),
}

impl Choice {
    pub fn group(&self) -> Option<u16> {
        match self {
            Choice::Group { group, .. } => Some(*group),
            _ => None,
        }
    }

    /// "x25519", "x25519 (after a HelloRetryRequest)", "TLSv1.2 (hybrid groups need TLS 1.3)".
    pub fn describe(&self) -> String {
        match self {
            Choice::Group {
                group,
                retry: false,
            } => group_name(*group),
            Choice::Group { group, retry: true } => {
                format!("{} (after a HelloRetryRequest)", group_name(*group))
            }
            Choice::Version(v) => {
                format!("{} (hybrid groups need TLS 1.3)", hello::version_name(*v))
            }
            Choice::Unknown(why) => format!("unknown ({why})"),
        }
    }
}

/// The two answers: with X25519MLKEM768 offered first, and with classic groups only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PqReport {
    pub hybrid: Choice,
    pub classic: Choice,
}

impl PqReport {
    /// Whether the server selected the hybrid group; `None` when that is not known.
    pub fn selected(&self) -> Option<bool> {
        match &self.hybrid {
            Choice::Group { group, .. } => Some(*group == X25519MLKEM768),
            Choice::Version(_) => Some(false),
            Choice::Unknown(_) => None,
        }
    }

    pub fn evidence(&self) -> Value {
        let names = |groups: &[u16]| groups.iter().map(|g| group_name(*g)).collect::<Vec<_>>();
        let mut offered = vec![X25519MLKEM768];
        offered.extend(CLASSIC);
        json!({
            "offered": names(&offered),
            "selected": self.hybrid.group().map(group_name),
            "hybrid": self.selected(),
            "answer": self.hybrid.describe(),
            "classic_selected": self.classic.group().map(group_name),
            "classic_answer": self.classic.describe(),
            "mozilla_guideline": profile::GUIDELINE,
            "mozilla_groups": names(&profile::GROUPS),
        })
    }
}

/// Adds the evidence, and with `require` a failure when the server does not select the hybrid
/// group (an error when that could not be told).
pub fn judge(pq: &PqReport, require: bool, report: &mut Report, ev: &mut Map<String, Value>) {
    ev.insert("post_quantum".into(), pq.evidence());
    if !require {
        return;
    }
    match pq.selected() {
        Some(true) => {}
        Some(false) => report.add(
            Status::Fail,
            format!(
                "server selects {} when offered X25519MLKEM768 first (require_pq): enable the hybrid post-quantum group, listed first by Mozilla's server-side TLS guideline {} (e.g. OpenSSL 3.5+ `Groups X25519MLKEM768:X25519`)",
                pq.hybrid.describe(),
                profile::GUIDELINE
            ),
        ),
        None => report.add(
            Status::Error,
            format!(
                "could not tell whether the server selects X25519MLKEM768 ({}): post-quantum key exchange not checked",
                pq.hybrid.describe()
            ),
        ),
    }
}

/// Both hellos at once over `route`, each within `budget`.
pub async fn probe(route: &Route, server_name: Option<&str>, budget: Duration) -> PqReport {
    let rng = SystemRandom::new();
    let (hybrid, classic) = match (
        hybrid_hello(&rng, server_name),
        classic_hello(&rng, server_name),
    ) {
        (Ok(h), Ok(c)) => (h, c),
        _ => {
            let why = Choice::Unknown("no randomness for a key share".into());
            return PqReport {
                hybrid: why.clone(),
                classic: why,
            };
        }
    };
    let (hybrid, classic) = tokio::join!(ask(route, &hybrid, budget), ask(route, &classic, budget));
    PqReport { hybrid, classic }
}

async fn ask(route: &Route, hello: &[u8], budget: Duration) -> Choice {
    match hello::exchange(route, hello, Want::ServerHello, budget).await {
        Answer::Accepted(f) if f.version < 0x0304 => Choice::Version(f.version),
        Answer::Accepted(f) => match f.key_share {
            Some(group) => Choice::Group {
                group,
                retry: f.retry,
            },
            None => Choice::Unknown("TLS 1.3 ServerHello without a key_share".into()),
        },
        Answer::Alert(desc) => Choice::Unknown(format!("alert {}", hello::alert_name(desc))),
        Answer::Closed => Choice::Unknown("connection closed without a ServerHello".into()),
        Answer::Unknown(why) => Choice::Unknown(why),
    }
}

/// The hello a current browser sends: X25519MLKEM768 then classic groups, shares for the
/// hybrid group and x25519.
pub fn hybrid_hello(
    rng: &dyn SecureRandom,
    server_name: Option<&str>,
) -> Result<Vec<u8>, Unspecified> {
    let x25519 = x25519_share(rng)?;
    let mut hybrid = encapsulation_key(rng)?;
    hybrid.extend_from_slice(&x25519);
    let mut groups = vec![X25519MLKEM768];
    groups.extend(CLASSIC);
    tls13_hello(
        rng,
        server_name,
        &groups,
        &[(X25519MLKEM768, &hybrid), (0x001d, &x25519)],
    )
}

/// Classic groups only, an x25519 share.
pub fn classic_hello(
    rng: &dyn SecureRandom,
    server_name: Option<&str>,
) -> Result<Vec<u8>, Unspecified> {
    let x25519 = x25519_share(rng)?;
    tls13_hello(rng, server_name, &CLASSIC, &[(0x001d, &x25519)])
}

fn x25519_share(rng: &dyn SecureRandom) -> Result<Vec<u8>, Unspecified> {
    let key = EphemeralPrivateKey::generate(&X25519, rng)?;
    let public = key.compute_public_key()?;
    Ok(public.as_ref().to_vec())
}

/// A well-formed ML-KEM-768 encapsulation key: uniformly random coefficients below q (by
/// rejection), packed two per three bytes, then a random ρ. Servers check the bound (FIPS 203
/// 7.2 modulus check) before encapsulating; nothing here needs the decapsulation key.
pub fn encapsulation_key(rng: &dyn SecureRandom) -> Result<Vec<u8>, Unspecified> {
    let mut coefficients = Vec::with_capacity(768);
    let mut pool = [0u8; 768];
    // Each draw keeps a 12-bit value with probability 3329/4096; 8 pools are plenty, bounded.
    for _ in 0..8 {
        rng.fill(&mut pool)?;
        for pair in pool.chunks_exact(2) {
            let v = u16::from_be_bytes([pair[0], pair[1]]) & 0x0fff;
            if v < Q && coefficients.len() < 768 {
                coefficients.push(v);
            }
        }
        if coefficients.len() == 768 {
            break;
        }
    }
    if coefficients.len() < 768 {
        return Err(Unspecified);
    }
    let mut out = Vec::with_capacity(EK_LEN);
    for c in coefficients.chunks_exact(2) {
        out.push((c[0] & 0xff) as u8);
        out.push(((c[0] >> 8) | ((c[1] & 0x0f) << 4)) as u8);
        out.push((c[1] >> 4) as u8);
    }
    let mut rho = [0u8; 32];
    rng.fill(&mut rho)?;
    out.extend_from_slice(&rho);
    Ok(out)
}

/// A TLS 1.3 ClientHello (TLS 1.2 also offered, so a 1.2-only server answers rather than
/// alerting) with `groups` and the given key shares.
fn tls13_hello(
    rng: &dyn SecureRandom,
    server_name: Option<&str>,
    groups: &[u16],
    shares: &[(u16, &[u8])],
) -> Result<Vec<u8>, Unspecified> {
    let mut ext = Vec::new();
    push_sni(&mut ext, server_name);
    push_list_ext(&mut ext, 0x000a, groups);
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]); // ec_point_formats
    push_list_ext(
        &mut ext,
        0x000d,
        &[
            0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0807,
        ],
    );
    // supported_versions: TLS 1.3, TLS 1.2 (a u8-length list)
    ext.extend_from_slice(&[0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03]);
    ext.extend_from_slice(&[0x00, 0x2d, 0x00, 0x02, 0x01, 0x01]); // psk_key_exchange_modes: psk_dhe_ke
    let entries: usize = shares.iter().map(|(_, k)| 4 + k.len()).sum();
    push_u16(&mut ext, 0x0033);
    push_u16(&mut ext, (entries + 2) as u16);
    push_u16(&mut ext, entries as u16);
    for (group, key) in shares {
        push_u16(&mut ext, *group);
        push_u16(&mut ext, key.len() as u16);
        ext.extend_from_slice(key);
    }
    ext.extend_from_slice(&[0x00, 0x17, 0x00, 0x00]); // extended_master_secret
    ext.extend_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]); // renegotiation_info (initial)

    let mut body = vec![3, 3];
    let mut random = [0u8; 64]; // client random, then a 32-byte legacy session id
    rng.fill(&mut random)?;
    body.extend_from_slice(&random[..32]);
    body.push(32);
    body.extend_from_slice(&random[32..]);
    let suites: [u16; 9] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
    ];
    push_u16(&mut body, (suites.len() * 2) as u16);
    for s in suites {
        push_u16(&mut body, s);
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    push_u16(&mut body, ext.len() as u16);
    body.extend_from_slice(&ext);
    Ok(hello::record(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key_share entries of a hello record, as (group, key) pairs.
    fn shares(record: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let body = &record[9..];
        let sid = usize::from(body[34]);
        let mut at = 35 + sid;
        let suites = usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
        at += 2 + suites;
        at += 1 + usize::from(body[at]);
        let mut ext = &body[at + 2..];
        let mut out = Vec::new();
        while ext.len() >= 4 {
            let kind = u16::from_be_bytes([ext[0], ext[1]]);
            let len = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            if kind == 0x0033 {
                let mut list = &ext[6..4 + len];
                while list.len() >= 4 {
                    let g = u16::from_be_bytes([list[0], list[1]]);
                    let l = usize::from(u16::from_be_bytes([list[2], list[3]]));
                    out.push((g, list[4..4 + l].to_vec()));
                    list = &list[4 + l..];
                }
            }
            ext = &ext[4 + len..];
        }
        out
    }

    #[test]
    fn hybrid_share_is_a_well_formed_key_and_an_x25519_point() {
        let rng = SystemRandom::new();
        let record = hybrid_hello(&rng, Some("example.test")).unwrap_or_default();
        assert_eq!(record[0], 22);
        let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
        assert_eq!(len, record.len() - 5);
        let found = shares(&record);
        assert_eq!(
            found.iter().map(|(g, k)| (*g, k.len())).collect::<Vec<_>>(),
            vec![(X25519MLKEM768, EK_LEN + 32), (0x001d, 32)]
        );
        // Every 12-bit coefficient below q; the x25519 part equals the x25519 share.
        let ek = &found[0].1[..EK_LEN - 32];
        for b in ek.chunks_exact(3) {
            let c0 = u16::from(b[0]) | (u16::from(b[1] & 0x0f) << 8);
            let c1 = u16::from(b[1] >> 4) | (u16::from(b[2]) << 4);
            assert!(c0 < Q && c1 < Q, "{c0} {c1}");
        }
        assert_eq!(&found[0].1[EK_LEN..], &found[1].1[..]);
        assert!(record.windows(12).any(|w| w == b"example.test"));
    }

    #[test]
    fn classic_hello_offers_no_hybrid_group() {
        let rng = SystemRandom::new();
        let record = classic_hello(&rng, None).unwrap_or_default();
        assert_eq!(
            shares(&record).iter().map(|(g, _)| *g).collect::<Vec<_>>(),
            vec![0x001d]
        );
    }

    #[test]
    fn answers_are_described() {
        let pq = PqReport {
            hybrid: Choice::Group {
                group: 0x001d,
                retry: false,
            },
            classic: Choice::Group {
                group: 0x0017,
                retry: true,
            },
        };
        assert_eq!(pq.selected(), Some(false));
        let ev = pq.evidence();
        assert_eq!(ev["selected"], "x25519");
        assert_eq!(ev["classic_answer"], "P-256 (after a HelloRetryRequest)");
        assert_eq!(ev["mozilla_groups"][0], "X25519MLKEM768");
        let old = PqReport {
            hybrid: Choice::Version(0x0303),
            classic: Choice::Unknown("alert handshake_failure".into()),
        };
        assert_eq!(old.selected(), Some(false));
        assert_eq!(
            old.hybrid.describe(),
            "TLSv1.2 (hybrid groups need TLS 1.3)"
        );
    }
}
