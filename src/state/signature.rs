//! SSH signatures over sign-offs and waivers, made and checked by `ssh-keygen -Y` exactly as
//! git signs commits: the signer's key, an `allowed_signers` file naming who owns which key.
//!
//! A record is signed over its canonical form (JSON, keys sorted, `signature` left out, its
//! kind added), so any edit to a signed field — or turning a sign-off into a waiver — breaks it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use super::Timestamp;

/// The `ssh-keygen -Y` namespace: a signature made for git or for a file cannot be replayed
/// as a prodcheck record, nor the other way round.
pub const NAMESPACE: &str = "prodcheck-signoff";

/// Who owns which SSH key, in git's `allowed_signers` format, next to the state files.
pub const ALLOWED_SIGNERS: &str = "allowed_signers";

/// The name a record shows: its approver, else whoever recorded or requested it.
pub fn who<'a>(
    by: &'a str,
    approved: &'a Option<String>,
    requested: &'a Option<String>,
) -> &'a str {
    approved
        .as_deref()
        .or(if by.is_empty() { None } else { Some(by) })
        .or(requested.as_deref())
        .unwrap_or("unknown")
}

pub fn allowed_signers(state_dir: &Path) -> PathBuf {
    state_dir.join(ALLOWED_SIGNERS)
}

/// The bytes that are signed: the record as JSON with its keys sorted, without `signature`,
/// with `"record": kind` (`signoff`, `waiver`) and the format version.
pub fn canonical<T: Serialize>(kind: &str, record: &T) -> Vec<u8> {
    let mut fields: BTreeMap<String, serde_json::Value> = match serde_json::to_value(record) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    fields.remove("signature");
    fields.insert("record".into(), kind.into());
    fields.insert("format".into(), 1.into());
    let mut bytes = serde_json::to_vec(&fields).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Signs `payload` with `key` (a private key file, or a public key whose private half is in
/// ssh-agent) and returns the armored signature.
pub fn sign(key: &Path, payload: &[u8]) -> Result<String, String> {
    let out = keygen(
        &[
            "-Y",
            "sign",
            "-n",
            NAMESPACE,
            "-f",
            &key.display().to_string(),
        ],
        payload,
    )?;
    if !out.status.success() {
        return Err(format!(
            "`ssh-keygen -Y sign -f {}` failed: {}",
            key.display(),
            stderr_line(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| "ssh-keygen wrote a signature that is not text".into())
}

/// Why a signature does not prove that `principal` approved `payload`; `Ok` when it does.
pub fn verify(
    allowed: &Path,
    payload: &[u8],
    signature: &str,
    principal: &str,
    at: Timestamp,
) -> Result<(), String> {
    if !allowed.is_file() {
        return Err(format!(
            "cannot verify: no `{}` (git's allowed_signers format: `PRINCIPAL KEYTYPE KEY` per line)",
            allowed.display()
        ));
    }
    let mut sig = tempfile::NamedTempFile::new()
        .map_err(|e| format!("cannot verify: no temporary file: {e}"))?;
    sig.write_all(signature.as_bytes())
        .map_err(|e| format!("cannot verify: writing a temporary file: {e}"))?;
    let sig_path = sig.path().display().to_string();
    let allowed_path = allowed.display().to_string();
    // As git does: the key must have been valid when the record says it was signed.
    let when = format!(
        "-Overify-time={}",
        at.0.format(VERIFY_TIME).unwrap_or_default()
    );
    let out = keygen(
        &[
            "-Y",
            "verify",
            "-f",
            &allowed_path,
            "-I",
            principal,
            "-n",
            NAMESPACE,
            "-s",
            &sig_path,
            &when,
        ],
        payload,
    )?;
    if out.status.success() {
        return Ok(());
    }
    // Why not: a record changed after signing, or a key that is not the approver's.
    let intact = keygen(
        &["-Y", "check-novalidate", "-n", NAMESPACE, "-s", &sig_path],
        payload,
    )?;
    if !intact.status.success() {
        return Err("the signature does not match the record: it was changed after signing".into());
    }
    let found = keygen(
        &[
            "-Y",
            "find-principals",
            "-f",
            &allowed_path,
            "-s",
            &sig_path,
        ],
        b"",
    )?;
    let owners = String::from_utf8_lossy(&found.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(", ");
    if owners.is_empty() {
        Err(format!(
            "signed by a key that is not in `{}`",
            allowed.display()
        ))
    } else {
        Err(format!(
            "signed with the key of {owners}, not of approver `{principal}` ({})",
            stderr_line(&out.stderr)
        ))
    }
}

const VERIFY_TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year][month][day][hour][minute][second]Z");

/// Runs `ssh-keygen ARGS` with `stdin` as its input.
fn keygen(args: &[&str], stdin: &[u8]) -> Result<std::process::Output, String> {
    let mut child = Command::new("ssh-keygen")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot run `ssh-keygen` ({e}): install OpenSSH (`apt-get install openssh-client`)"
            )
        })?;
    if let Some(mut input) = child.stdin.take() {
        // A closed pipe shows up in the exit status below.
        let _ = input.write_all(stdin);
    }
    child
        .wait_with_output()
        .map_err(|e| format!("`ssh-keygen` did not finish: {e}"))
}

fn stderr_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty());
    line.unwrap_or("no message").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_form_sorts_keys_names_the_kind_and_leaves_the_signature_out() {
        let record = serde_json::json!({"item": "x", "checklist": "c", "signature": "sig"});
        let text = String::from_utf8(canonical("waiver", &record)).expect("utf8");
        assert_eq!(
            text,
            "{\"checklist\":\"c\",\"format\":1,\"item\":\"x\",\"record\":\"waiver\"}\n"
        );
        assert_ne!(canonical("signoff", &record), canonical("waiver", &record));
    }
}
