//! The TLS 1.0–1.2 cipher suites prodcheck offers by hand, with what each one implies (key
//! exchange, bulk cipher), so that an accepted suite can be judged and named in words.

/// How the session key is agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kx {
    /// Ephemeral elliptic-curve Diffie-Hellman: forward secret, what modern clients use.
    Ecdhe,
    /// Ephemeral finite-field Diffie-Hellman: forward secret only with a big enough group.
    Dhe,
    /// Static RSA key transport: no forward secrecy (and ROBOT-prone).
    Rsa,
    /// Anonymous DH / ECDH: no server authentication at all.
    Anon,
}

/// The bulk cipher family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bulk {
    /// AES-GCM, ChaCha20-Poly1305, AES-CCM.
    Aead,
    /// AES or Camellia in CBC mode (Lucky13, padding oracles).
    Cbc,
    /// Triple DES (64-bit block: Sweet32).
    TripleDes,
    /// Single DES (56-bit key).
    Des,
    Rc4,
    /// No encryption at all.
    Null,
    /// 40/56-bit export-grade (FREAK, Logjam).
    Export,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    pub name: &'static str,
    pub kx: Kx,
    pub bulk: Bulk,
}

impl Kx {
    pub fn words(self) -> &'static str {
        match self {
            Kx::Ecdhe => "ECDHE",
            Kx::Dhe => "DHE",
            Kx::Rsa => "static-RSA key exchange (no forward secrecy)",
            Kx::Anon => "anonymous (unauthenticated) key exchange",
        }
    }
}

impl Bulk {
    pub fn words(self) -> &'static str {
        match self {
            Bulk::Aead => "AEAD",
            Bulk::Cbc => "CBC",
            Bulk::TripleDes => "3DES",
            Bulk::Des => "single-DES",
            Bulk::Rc4 => "RC4",
            Bulk::Null => "NULL (unencrypted)",
            Bulk::Export => "export-grade",
        }
    }
}

macro_rules! suites {
    ($($id:literal $name:ident $kx:ident $bulk:ident;)*) => {
        /// Every suite offered by hand, strongest first within each key exchange.
        pub const ALL: &[Suite] = &[
            $(Suite { id: $id, name: stringify!($name), kx: Kx::$kx, bulk: Bulk::$bulk },)*
        ];
    };
}

suites! {
    0xc02b TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 Ecdhe Aead;
    0xc02c TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 Ecdhe Aead;
    0xcca9 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 Ecdhe Aead;
    0xc0ac TLS_ECDHE_ECDSA_WITH_AES_128_CCM Ecdhe Aead;
    0xc0ad TLS_ECDHE_ECDSA_WITH_AES_256_CCM Ecdhe Aead;
    0xc023 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 Ecdhe Cbc;
    0xc024 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 Ecdhe Cbc;
    0xc009 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA Ecdhe Cbc;
    0xc00a TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA Ecdhe Cbc;
    0xc008 TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA Ecdhe TripleDes;
    0xc007 TLS_ECDHE_ECDSA_WITH_RC4_128_SHA Ecdhe Rc4;
    0xc006 TLS_ECDHE_ECDSA_WITH_NULL_SHA Ecdhe Null;
    0xc02f TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 Ecdhe Aead;
    0xc030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 Ecdhe Aead;
    0xcca8 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 Ecdhe Aead;
    0xc027 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 Ecdhe Cbc;
    0xc028 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 Ecdhe Cbc;
    0xc013 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA Ecdhe Cbc;
    0xc014 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA Ecdhe Cbc;
    0xc012 TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA Ecdhe TripleDes;
    0xc011 TLS_ECDHE_RSA_WITH_RC4_128_SHA Ecdhe Rc4;
    0xc010 TLS_ECDHE_RSA_WITH_NULL_SHA Ecdhe Null;
    0x009e TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 Dhe Aead;
    0x009f TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 Dhe Aead;
    0xccaa TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 Dhe Aead;
    0xc09e TLS_DHE_RSA_WITH_AES_128_CCM Dhe Aead;
    0xc09f TLS_DHE_RSA_WITH_AES_256_CCM Dhe Aead;
    0x0067 TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 Dhe Cbc;
    0x006b TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 Dhe Cbc;
    0x0033 TLS_DHE_RSA_WITH_AES_128_CBC_SHA Dhe Cbc;
    0x0039 TLS_DHE_RSA_WITH_AES_256_CBC_SHA Dhe Cbc;
    0x0045 TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA Dhe Cbc;
    0x0088 TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA Dhe Cbc;
    0x0016 TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA Dhe TripleDes;
    0x0015 TLS_DHE_RSA_WITH_DES_CBC_SHA Dhe Des;
    0x0014 TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA Dhe Export;
    0x00a2 TLS_DHE_DSS_WITH_AES_128_GCM_SHA256 Dhe Aead;
    0x0032 TLS_DHE_DSS_WITH_AES_128_CBC_SHA Dhe Cbc;
    0x0038 TLS_DHE_DSS_WITH_AES_256_CBC_SHA Dhe Cbc;
    0x0013 TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA Dhe TripleDes;
    0x009c TLS_RSA_WITH_AES_128_GCM_SHA256 Rsa Aead;
    0x009d TLS_RSA_WITH_AES_256_GCM_SHA384 Rsa Aead;
    0xc09c TLS_RSA_WITH_AES_128_CCM Rsa Aead;
    0xc09d TLS_RSA_WITH_AES_256_CCM Rsa Aead;
    0x003c TLS_RSA_WITH_AES_128_CBC_SHA256 Rsa Cbc;
    0x003d TLS_RSA_WITH_AES_256_CBC_SHA256 Rsa Cbc;
    0x002f TLS_RSA_WITH_AES_128_CBC_SHA Rsa Cbc;
    0x0035 TLS_RSA_WITH_AES_256_CBC_SHA Rsa Cbc;
    0x0041 TLS_RSA_WITH_CAMELLIA_128_CBC_SHA Rsa Cbc;
    0x0084 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA Rsa Cbc;
    0x000a TLS_RSA_WITH_3DES_EDE_CBC_SHA Rsa TripleDes;
    0x0009 TLS_RSA_WITH_DES_CBC_SHA Rsa Des;
    0x0005 TLS_RSA_WITH_RC4_128_SHA Rsa Rc4;
    0x0004 TLS_RSA_WITH_RC4_128_MD5 Rsa Rc4;
    0x003b TLS_RSA_WITH_NULL_SHA256 Rsa Null;
    0x0002 TLS_RSA_WITH_NULL_SHA Rsa Null;
    0x0001 TLS_RSA_WITH_NULL_MD5 Rsa Null;
    0x0008 TLS_RSA_EXPORT_WITH_DES40_CBC_SHA Rsa Export;
    0x0003 TLS_RSA_EXPORT_WITH_RC4_40_MD5 Rsa Export;
    0x0006 TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5 Rsa Export;
    0x00a6 TLS_DH_anon_WITH_AES_128_GCM_SHA256 Anon Aead;
    0x0034 TLS_DH_anon_WITH_AES_128_CBC_SHA Anon Cbc;
    0x0018 TLS_DH_anon_WITH_RC4_128_MD5 Anon Rc4;
    0xc018 TLS_ECDH_anon_WITH_AES_128_CBC_SHA Anon Cbc;
    0xc015 TLS_ECDH_anon_WITH_NULL_SHA Anon Null;
}

/// The suite with IANA code `id`, if prodcheck offers it.
pub fn find(id: u16) -> Option<&'static Suite> {
    ALL.iter().find(|s| s.id == id)
}

/// IANA name of a suite code, or its hex code.
pub fn name(id: u16) -> String {
    find(id).map_or_else(|| format!("suite 0x{id:04x}"), |s| s.name.to_string())
}

/// Groups the enumeration walks concurrently: one per (key exchange, bulk) family, so each
/// group needs only as many round trips as it has accepted suites, plus one.
pub fn buckets() -> Vec<Vec<u16>> {
    let mut keys: Vec<(Kx, bool)> = Vec::new();
    for s in ALL {
        let key = (s.kx, s.bulk == Bulk::Aead);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(kx, aead)| {
            ALL.iter()
                .filter(|s| s.kx == kx && (s.bulk == Bulk::Aead) == aead)
                .map(|s| s.id)
                .collect()
        })
        .collect()
}

/// Every suite code plus the renegotiation SCSV (one broad hello).
pub fn all_ids() -> Vec<u16> {
    let mut ids: Vec<u16> = ALL.iter().map(|s| s.id).collect();
    ids.push(0x00ff);
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_buckets_cover_everything() {
        let mut ids: Vec<u16> = ALL.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        let bucketed: usize = buckets().iter().map(Vec::len).sum();
        assert_eq!(bucketed, ALL.len());
        assert_eq!(name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(name(0x1301), "suite 0x1301");
    }
}
