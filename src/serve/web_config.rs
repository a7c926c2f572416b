//! `--web.config.file`: TLS and basic auth in the Prometheus exporter-toolkit convention, so a
//! non-loopback `prodcheck serve` is configured like every other exporter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

/// The parts of the exporter-toolkit web config prodcheck supports; any other key is refused
/// by name rather than silently ignored (a security setting that does nothing is worse than
/// an error).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebConfig {
    #[serde(default)]
    tls_server_config: Option<RawTls>,
    #[serde(default)]
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: String,
    key_file: String,
}

/// The loaded web config: a TLS server config and the users allowed in.
#[derive(Default)]
pub struct WebConfig {
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// User → bcrypt hash; empty: no authentication.
    pub users: BTreeMap<String, String>,
    /// `Authorization` values that verified, so a scrape every few seconds does not pay for
    /// bcrypt each time (as exporter-toolkit does). Dropped with this config on reload.
    verified: Mutex<Vec<String>>,
    /// A hash at the users' highest cost that no password matches, verified for unknown
    /// users so that a wrong user name costs as long as a wrong password (no enumeration).
    dummy: Option<String>,
}

/// Most remembered `Authorization` values.
const VERIFIED_CACHE: usize = 16;

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl WebConfig {
    /// Reads `path`; every error names the file and says what to change.
    pub fn load(path: &Path) -> Result<WebConfig, String> {
        let file = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read web config `{file}`: {e}"))?;
        let raw: RawWebConfig = serde_saphyr::from_str(&text).map_err(|e| {
            format!(
                "web config `{file}`: {e} (prodcheck supports `tls_server_config: {{cert_file, key_file}}` and `basic_auth_users: {{NAME: BCRYPT_HASH}}`)"
            )
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        let tls = match raw.tls_server_config {
            Some(t) => Some(Arc::new(tls_config(
                &base.join(&t.cert_file),
                &base.join(&t.key_file),
            )?)),
            None => None,
        };
        let users = raw.basic_auth_users.unwrap_or_default();
        let mut cost = None;
        for (user, hash) in &users {
            let parts = hash.parse::<bcrypt::HashParts>().map_err(|_| {
                format!(
                    "web config `{file}`: basic_auth_users.{user} is not a bcrypt hash; generate one with `htpasswd -nBC 10 {user}` (the part after the colon)"
                )
            })?;
            cost = cost.max(Some(parts.get_cost()));
        }
        let dummy = match cost {
            Some(c) => Some(
                bcrypt::hash(b"no password matches this", c)
                    .map_err(|e| format!("web config `{file}`: bcrypt failed: {e}"))?,
            ),
            None => None,
        };
        Ok(WebConfig {
            tls,
            users,
            verified: Mutex::new(Vec::new()),
            dummy,
        })
    }

    pub fn requires_auth(&self) -> bool {
        !self.users.is_empty()
    }

    /// Whether an `Authorization` header value lets its bearer in (always, without users).
    /// Runs bcrypt: call it off the async workers.
    pub fn authorized(&self, header: Option<&str>) -> bool {
        if !self.requires_auth() {
            return true;
        }
        let Some(header) = header else {
            return false;
        };
        let remembered = self
            .verified
            .lock()
            .map(|v| v.iter().any(|known| same(known, header)))
            .unwrap_or(false);
        if remembered {
            return true;
        }
        let Some((user, password)) = basic_credentials(header) else {
            return false;
        };
        let ok = match self.users.get(&user) {
            Some(hash) => bcrypt::verify(password.as_bytes(), hash).unwrap_or(false),
            None => {
                if let Some(dummy) = &self.dummy {
                    let _ = bcrypt::verify(password.as_bytes(), dummy);
                }
                false
            }
        };
        if ok && let Ok(mut v) = self.verified.lock() {
            if v.len() >= VERIFIED_CACHE {
                v.remove(0);
            }
            v.push(header.to_string());
        }
        ok
    }
}

/// Equality whose time does not depend on where two values of one length differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `Basic base64(user:password)` → (user, password).
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn tls_config(cert: &PathBuf, key: &PathBuf) -> Result<rustls::ServerConfig, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| {
            format!(
                "tls_server_config.cert_file `{}`: {e}; give a PEM certificate chain",
                cert.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "tls_server_config.cert_file `{}` holds no PEM certificate",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        format!(
            "tls_server_config.key_file `{}`: {e}; give the PEM private key of the certificate",
            key.display()
        )
    })?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "tls_server_config: the certificate `{}` and its key do not go together: {e}",
                cert.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_user(password: &str) -> WebConfig {
        let hash = bcrypt::hash(password, 4).expect("hash");
        WebConfig {
            tls: None,
            users: BTreeMap::from([("prom".to_string(), hash)]),
            verified: Mutex::new(Vec::new()),
            dummy: None,
        }
    }

    fn basic(user: &str, password: &str) -> String {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}")
    }

    #[test]
    fn basic_auth_checks_user_and_password() {
        let c = with_user("s3cret");
        assert!(c.authorized(Some(&basic("prom", "s3cret"))));
        assert!(c.authorized(Some(&basic("prom", "s3cret"))), "remembered");
        assert!(!c.authorized(Some(&basic("prom", "wrong"))));
        assert!(!c.authorized(Some(&basic("prom", "s3creu"))));
        assert!(!c.authorized(Some(&basic("other", "s3cret"))));
        assert!(!c.authorized(None));
        assert!(!c.authorized(Some("Bearer abc")));
        assert!(!c.authorized(Some("Basic !!!")));
        assert!(WebConfig::default().authorized(None));
    }

    #[test]
    fn unknown_users_cost_a_bcrypt_at_the_users_cost() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("web.yml");
        let hash = bcrypt::hash("s3cret", 5).expect("hash");
        std::fs::write(&path, format!("basic_auth_users:\n  prom: '{hash}'\n")).expect("write");
        let c = WebConfig::load(&path).expect("loads");
        let dummy = c.dummy.as_deref().expect("a dummy hash");
        assert_eq!(
            dummy
                .parse::<bcrypt::HashParts>()
                .map(|p| p.get_cost())
                .ok(),
            Some(5)
        );
        assert_eq!(bcrypt::verify("s3cret", dummy).ok(), Some(false));
        assert!(WebConfig::default().dummy.is_none());
    }

    #[test]
    fn unknown_keys_and_bad_hashes_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("web.yml");
        std::fs::write(&path, "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n").expect("write");
        let err = WebConfig::load(&path).expect_err("unsupported key");
        assert!(err.contains("client_auth_type"), "{err}");
        std::fs::write(&path, "basic_auth_users:\n  prom: plaintext\n").expect("write");
        let err = WebConfig::load(&path).expect_err("bad hash");
        assert!(err.contains("basic_auth_users.prom"), "{err}");
        std::fs::write(
            &path,
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
        )
        .expect("write");
        let err = WebConfig::load(&path).expect_err("missing cert");
        assert!(err.contains("missing.crt"), "{err}");
    }

    #[test]
    fn the_shipped_example_loads_and_admits_its_documented_password() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus/web-config.yml");
        let c = WebConfig::load(&path).expect("example loads");
        assert!(c.tls.is_none());
        assert!(c.authorized(Some(&basic("prometheus", "change-me"))));
    }
}
