//! The IANA RDAP bootstrap registry for domains, fetched at most once a day per URL and kept
//! on disk (`$PRODCHECK_CACHE_DIR`, else `$XDG_CACHE_HOME/prodcheck`, else `~/.cache/prodcheck`).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::net::http::page::Fetcher;
use crate::net::http::request::RequestSpec;

/// How long a cached registry is used before it is fetched again (IANA updates it rarely).
pub const TTL: Duration = Duration::from_secs(24 * 3600);
/// The registry is about 10 KiB; anything past this is not it.
const MAX_BYTES: u64 = 1024 * 1024;

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PRODCHECK_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("prodcheck"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("prodcheck"))
}

/// The cache file for `url` (one per URL, so a test's registry never stands in for IANA's).
fn cache_file(url: &str) -> Option<PathBuf> {
    let digest = ring::digest::digest(&ring::digest::SHA256, url.as_bytes());
    let tag: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    cache_dir().map(|d| d.join(format!("rdap-dns-{tag}.json")))
}

/// The registry at `url`: from the cache when younger than [`TTL`], else fetched (and cached;
/// a cache that cannot be written only costs the next run a fetch). `Ok((doc, cached))`.
pub async fn load(fetcher: &Fetcher, url: &str) -> Result<(Value, bool), String> {
    let file = cache_file(url);
    if let Some(file) = &file
        && let Ok(meta) = std::fs::metadata(file)
        && meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age < TTL)
        && let Ok(text) = std::fs::read(file)
        && let Ok(doc) = serde_json::from_slice::<Value>(&text)
    {
        return Ok((doc, true));
    }
    let spec = RequestSpec::get(url)?;
    let page = fetcher
        .once(&spec, MAX_BYTES)
        .await
        .map_err(|e| format!("could not fetch the RDAP bootstrap registry: {}", e.message))?;
    if page.status != 200 {
        return Err(format!(
            "the RDAP bootstrap registry {url} answered HTTP {}",
            page.status
        ));
    }
    if page.body.truncated {
        return Err(format!(
            "the RDAP bootstrap registry {url} is larger than {MAX_BYTES} bytes"
        ));
    }
    let doc: Value = serde_json::from_slice(&page.body.bytes)
        .map_err(|e| format!("the RDAP bootstrap registry {url} is not JSON ({e})"))?;
    if let Some(file) = &file {
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = file.with_extension("tmp");
        if std::fs::write(&tmp, &page.body.bytes).is_ok() {
            let _ = std::fs::rename(&tmp, file);
        }
    }
    Ok((doc, false))
}
