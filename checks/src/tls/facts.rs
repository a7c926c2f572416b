//! Certificate facts the `tls` probe judges (names, validity, key, signature), read with
//! x509-parser from the DER chain the server presented, independent of whether it verified.

use serde_json::{Value, json};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

/// What one certificate says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    /// Raw DER of the subject and issuer names, to link a chain without trusting display text.
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    pub sans: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    /// `RSA`, `EC`, `Ed25519`, `DSA` or `unknown`.
    pub key_type: String,
    pub key_bits: usize,
    pub signature_algorithm: String,
    pub is_ca: bool,
    /// The serial number as encoded (big-endian), to match an OCSP response.
    pub serial: Vec<u8>,
}

impl CertFacts {
    /// Parses one DER certificate; the error is a message for the outcome.
    pub fn parse(der: &[u8]) -> Result<CertFacts, String> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| format!("unparsable certificate: {e}"))?;
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for name in &ext.value.general_names {
                match name {
                    GeneralName::DNSName(d) => sans.push((*d).to_string()),
                    GeneralName::IPAddress(bytes) => sans.push(ip_text(bytes)),
                    _ => {}
                }
            }
        }
        let (key_type, key_bits) = match cert.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => ("RSA", rsa.key_size()),
            Ok(PublicKey::EC(ec)) => ("EC", ec.key_size()),
            Ok(PublicKey::DSA(y)) => ("DSA", y.len() * 8),
            // Ed25519 and friends are not decoded by x509-parser: recognise them by OID.
            _ => match cert
                .public_key()
                .algorithm
                .algorithm
                .to_id_string()
                .as_str()
            {
                "1.3.101.112" => ("Ed25519", 256),
                "1.3.101.113" => ("Ed448", 456),
                _ => ("unknown", 0),
            },
        };
        let validity = cert.validity();
        Ok(CertFacts {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            subject_raw: cert.subject().as_raw().to_vec(),
            issuer_raw: cert.issuer().as_raw().to_vec(),
            sans,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            key_type: key_type.to_string(),
            key_bits,
            signature_algorithm: signature_name(&cert.signature_algorithm.algorithm.to_id_string()),
            is_ca: cert.is_ca(),
            serial: cert.raw_serial().to_vec(),
        })
    }

    pub fn self_signed(&self) -> bool {
        self.subject_raw == self.issuer_raw
    }

    /// A short name for messages: the first SAN, else the subject.
    pub fn label(&self) -> String {
        match self.sans.first() {
            Some(san) => san.clone(),
            None => self.subject.clone(),
        }
    }

    /// Whole days from `now` (unix seconds) to `not_after`, rounded down; negative once expired.
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }

    pub fn lifetime_days(&self) -> i64 {
        (self.not_after - self.not_before).div_euclid(86_400)
    }

    /// SHA-1 (or MD5) signatures are forgeable in practice.
    pub fn weak_signature(&self) -> bool {
        let s = self.signature_algorithm.to_ascii_lowercase();
        s.contains("sha1") || s.contains("md5")
    }

    pub fn evidence(&self, now: i64) -> Value {
        json!({
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": self.sans,
            "not_before": rfc3339(self.not_before),
            "not_after": rfc3339(self.not_after),
            "days_left": self.days_left(now),
            "key": format!("{} {}", self.key_type, self.key_bits),
            "signature_algorithm": self.signature_algorithm,
        })
    }
}

fn ip_text(bytes: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return std::net::Ipv4Addr::from(v4).to_string();
    }
    if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        return std::net::Ipv6Addr::from(v6).to_string();
    }
    format!("invalid IP ({} bytes)", bytes.len())
}

fn signature_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        other => return other.to_string(),
    };
    name.to_string()
}

/// `YYYY-MM-DD` of a unix timestamp (UTC).
pub fn date(ts: i64) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 (UTC, seconds) of a unix timestamp.
pub fn rfc3339(ts: i64) -> String {
    let secs = ts.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date(ts),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's civil-from-days algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_as_utc() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(rfc3339(1_795_737_600), "2026-11-27T00:00:00Z");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-86_400), "1969-12-31");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CertFacts::parse(b"not a certificate").is_err());
        assert!(CertFacts::parse(&[]).is_err());
    }

    #[test]
    fn days_left_rounds_down_and_goes_negative() {
        let f = CertFacts {
            subject: String::new(),
            issuer: String::new(),
            subject_raw: vec![],
            issuer_raw: vec![],
            sans: vec![],
            not_before: 0,
            not_after: 10 * 86_400,
            key_type: "EC".into(),
            key_bits: 256,
            signature_algorithm: "sha1WithRSAEncryption".into(),
            is_ca: false,
            serial: vec![1],
        };
        assert_eq!(f.days_left(86_400 / 2), 9);
        assert_eq!(f.days_left(11 * 86_400), -1);
        assert!(f.weak_signature());
    }
}
