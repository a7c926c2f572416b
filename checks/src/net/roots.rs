//! The trust store TLS-speaking probes share: the system roots, loaded once, plus the
//! PEM bundle a probe's `ca_file` names (for internal CAs).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        // Unreadable individual certificates are skipped: a broken system bundle must not make
        // every TLS probe unusable, and `ca_file` still works.
        rustls_native_certs::load_native_certs().certs
    })
}

/// Reads every certificate of a PEM bundle. An entry that is not a readable certificate is
/// an error naming the file and the entry (never dropped silently: a CA that quietly goes
/// missing turns into "unknown issuer" far from its cause).
pub fn read_pem_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read ca_file `{}`: {e}", path.display()))?;
    let mut certs = Vec::new();
    for entry in CertificateDer::pem_slice_iter(&bytes) {
        let n = certs.len() + 1;
        let der = entry.map_err(|e| {
            format!(
                "ca_file `{}`: certificate entry #{n} is not valid PEM ({e}); fix or remove that `-----BEGIN CERTIFICATE-----` block",
                path.display()
            )
        })?;
        if let Err(e) = x509_parser::parse_x509_certificate(&der) {
            return Err(format!(
                "ca_file `{}`: certificate entry #{n} is not a readable X.509 certificate ({e}); fix or remove that `-----BEGIN CERTIFICATE-----` block",
                path.display()
            ));
        }
        certs.push(der);
    }
    if certs.is_empty() {
        return Err(format!(
            "ca_file `{}` holds no certificate (expected `-----BEGIN CERTIFICATE-----` blocks)",
            path.display()
        ));
    }
    Ok(certs)
}

/// System roots plus the certificates of `ca_file`, if any. Built once per `ca_file` (as it
/// is on disk: a file replaced since is read again) and shared: parsing every system root for
/// each probe was most of a loopback `tls` probe's work in a fleet of a thousand targets.
pub fn root_store(ca_file: Option<&Path>) -> Result<Arc<RootCertStore>, String> {
    type Key = (Option<PathBuf>, Option<(SystemTime, u64)>);
    static STORES: OnceLock<Mutex<HashMap<Key, Arc<RootCertStore>>>> = OnceLock::new();
    let stamp = ca_file.and_then(|p| {
        let meta = std::fs::metadata(p).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    });
    let key = (ca_file.map(Path::to_path_buf), stamp);
    let cache = STORES.get_or_init(Default::default);
    if let Some(store) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(store.clone());
    }
    let store = build_root_store(ca_file)?;
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= 64 {
        map.clear();
    }
    map.insert(key, store.clone());
    Ok(store)
}

fn build_root_store(ca_file: Option<&Path>) -> Result<Arc<RootCertStore>, String> {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(system_roots().iter().cloned());
    if let Some(path) = ca_file {
        for cert in read_pem_bundle(path)? {
            store
                .add(cert)
                .map_err(|e| format!("ca_file `{}`: unusable certificate: {e}", path.display()))?;
        }
    }
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_entry_is_an_error_naming_the_file_and_the_entry() {
        let Ok(made) = rcgen::generate_simple_self_signed(vec!["a.test".to_string()]) else {
            panic!("rcgen could not make a certificate");
        };
        let good = made.cert.pem();
        // Valid base64, not a certificate.
        let bad = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
        let dir = std::env::temp_dir().join(format!("prodcheck-roots-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("bundle.pem");
        let _ = std::fs::write(&path, format!("{good}{bad}"));
        let err = read_pem_bundle(&path).err().unwrap_or_default();
        assert!(
            err.contains(&format!("ca_file `{}`", path.display())),
            "{err}"
        );
        assert!(
            err.contains("certificate entry #2 is not a readable X.509 certificate"),
            "{err}"
        );
        let _ = std::fs::write(&path, &good);
        assert_eq!(read_pem_bundle(&path).map(|c| c.len()), Ok(1));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
