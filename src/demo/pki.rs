//! Certificates generated at run time (rcgen): a CA and leaves with chosen names and
//! validity. Used by the demo and by the tests, so no certificate is ever committed.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// A certificate authority that can sign leaves.
pub struct Pki {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM (what a `ca_file` holds).
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
}

/// A leaf certificate and its key.
pub struct Leaf {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_der: PrivatePkcs8KeyDer<'static>,
}

impl Leaf {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key_der.clone_key())
    }

    /// The private key as PKCS#8 PEM (for servers configured by file, like `openssl s_server`).
    pub fn key_pem(&self) -> Result<String, rcgen::Error> {
        KeyPair::try_from(&self.key_der).map(|k| k.serialize_pem())
    }
}

/// Parameters for a certificate naming `names` (the first one also its CommonName), valid
/// from yesterday for `days` days.
fn named_params(names: &[&str], days: i64) -> Result<CertificateParams, rcgen::Error> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    if let Some(first) = names.first() {
        params.distinguished_name.push(DnType::CommonName, *first);
    }
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(days);
    Ok(params)
}

/// CA parameters named `name`, valid from `not_before` to `not_after`.
fn ca_params(
    name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = not_before;
    params.not_after = not_after;
    Ok(params)
}

/// A leaf from `params` with a new key, signed by `issuer` (`None`: self-signed).
fn issue(
    params: CertificateParams,
    issuer: Option<&Issuer<'_, KeyPair>>,
) -> Result<Leaf, rcgen::Error> {
    let key = KeyPair::generate()?;
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, issuer)?,
        None => params.self_signed(&key)?,
    };
    Ok(Leaf {
        cert_pem: cert.pem(),
        cert_der: cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
    })
}

impl Pki {
    /// A new CA named `name`, valid from yesterday for ten years.
    pub fn new(name: &str) -> Result<Pki, rcgen::Error> {
        let now = OffsetDateTime::now_utc();
        let params = ca_params(name, now - Duration::days(1), now + Duration::days(3650))?;
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Pki {
            ca_pem: cert.pem(),
            ca_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A leaf for `names` (DNS names or IP addresses) valid from `not_before` to `not_after`.
    pub fn leaf(
        &self,
        names: &[&str],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Leaf, rcgen::Error> {
        let mut params = named_params(names, 1)?;
        params.not_before = not_before;
        params.not_after = not_after;
        issue(params, Some(&self.issuer))
    }

    /// An intermediate CA named `name`, signed by this CA, valid from `not_before` to
    /// `not_after`. Its leaves chain through it; `ca_pem`/`ca_der` hold the intermediate.
    pub fn intermediate(
        &self,
        name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Pki, rcgen::Error> {
        let params = ca_params(name, not_before, not_after)?;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Pki {
            ca_pem: cert.pem(),
            ca_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A client certificate for `name` (its CommonName), for mutual TLS: valid from yesterday
    /// for `days` days, extended key usage `clientAuth`.
    pub fn client_leaf(&self, name: &str, days: i64) -> Result<Leaf, rcgen::Error> {
        let mut params = named_params(&[name], days)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        issue(params, Some(&self.issuer))
    }

    /// A leaf like [`Pki::leaf_for_days`] with serial number `serial` and a CRL distribution
    /// point at `crl_url` (for revocation checks).
    pub fn leaf_with_crl(
        &self,
        names: &[&str],
        days: i64,
        serial: u64,
        crl_url: &str,
    ) -> Result<Leaf, rcgen::Error> {
        let mut params = named_params(names, days)?;
        params.serial_number = Some(rcgen::SerialNumber::from(serial));
        params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![crl_url.to_string()],
        }];
        issue(params, Some(&self.issuer))
    }

    /// A CRL (DER) signed by this CA listing `revoked` (serial, reason), revoked yesterday;
    /// issued two days ago, next update in `next_update_days` (negative: already stale).
    pub fn crl(
        &self,
        revoked: &[(u64, rcgen::RevocationReason)],
        next_update_days: i64,
    ) -> Result<Vec<u8>, rcgen::Error> {
        let now = OffsetDateTime::now_utc();
        let params = rcgen::CertificateRevocationListParams {
            this_update: now - Duration::days(2),
            next_update: now + Duration::days(next_update_days),
            crl_number: rcgen::SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|(serial, reason)| rcgen::RevokedCertParams {
                    serial_number: rcgen::SerialNumber::from(*serial),
                    revocation_time: now - Duration::days(1),
                    reason_code: Some(*reason),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }

    /// A leaf valid from yesterday for `days` days.
    pub fn leaf_for_days(&self, names: &[&str], days: i64) -> Result<Leaf, rcgen::Error> {
        let now = OffsetDateTime::now_utc();
        self.leaf(names, now - Duration::days(1), now + Duration::days(days))
    }

    /// A leaf as a CA would have issued it: `lifetime_days` long, `days_left` of it to go (a
    /// 90-day certificate 20 days from expiry), so lifetime-relative thresholds see it right.
    pub fn leaf_expiring_in(
        &self,
        names: &[&str],
        days_left: i64,
        lifetime_days: i64,
    ) -> Result<Leaf, rcgen::Error> {
        let now = OffsetDateTime::now_utc();
        let not_after = now + Duration::days(days_left);
        // Never valid only from the future: the lifetime covers at least since yesterday.
        let lifetime = lifetime_days.max(days_left + 1);
        self.leaf(names, not_after - Duration::days(lifetime), not_after)
    }
}

/// A self-signed leaf for `names`, valid from yesterday for `days` days (no CA involved).
pub fn self_signed_leaf(names: &[&str], days: i64) -> Result<Leaf, rcgen::Error> {
    issue(named_params(names, days)?, None)
}

/// A rustls server configuration presenting `chain` (leaf first).
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<rustls::ServerConfig, rustls::Error> {
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
