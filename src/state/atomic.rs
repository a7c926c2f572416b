//! Crash-safe file replacement: write a temporary file beside the target, fsync it, rename it
//! over the target, fsync the directory — all under an exclusive lock file, so readers only
//! ever see a whole old or a whole new file and concurrent writers serialize.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::StateError;

/// Holds the exclusive lock on `PATH.lock` until dropped.
pub struct LockGuard {
    _file: File,
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

fn ensure_parent(path: &Path) -> Result<&Path, StateError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| StateError::io("create directory", dir, e))?;
    Ok(dir)
}

/// Takes the exclusive lock guarding `path` (blocks while another process holds it).
pub fn lock(path: &Path) -> Result<LockGuard, StateError> {
    ensure_parent(path)?;
    let lock = lock_path(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| StateError::io("open lock file", &lock, e))?;
    fs4::FileExt::lock(&file).map_err(|e| StateError::io("lock", &lock, e))?;
    Ok(LockGuard { _file: file })
}

/// Replaces `path` with `contents` atomically. Callers hold the lock from [`lock`].
pub fn write(path: &Path, contents: &[u8]) -> Result<(), StateError> {
    let dir = ensure_parent(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".prodcheck-tmp-")
        .tempfile_in(dir)
        .map_err(|e| StateError::io("create a temporary file in", dir, e))?;
    // Keep the mode of the file being replaced (a new one gets the usual 0644, not 0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode());
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode));
    }
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| StateError::io("write", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| StateError::io("replace", path, e.error))?;
    // The rename itself must reach the disk too.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `STATE_DIR/.gitignore` (once) so lock and temporary files never show up in
/// `git status` next to the `signoffs.yaml` users commit.
pub fn ignore_scratch_files(state_dir: &Path) {
    let path = state_dir.join(".gitignore");
    if !path.exists() && std::fs::create_dir_all(state_dir).is_ok() {
        let _ = std::fs::write(&path, "# written by prodcheck\n*.lock\n.prodcheck-tmp-*\n");
    }
}

/// Reads `path`; a missing file reads as `None`.
pub fn read(path: &Path) -> Result<Option<String>, StateError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::io("read", path, e)),
    }
}

/// Read-modify-write under the lock: `f` gets the current text (if any) and returns the new.
pub fn update(
    path: &Path,
    f: impl FnOnce(Option<String>) -> Result<String, StateError>,
) -> Result<(), StateError> {
    let _guard = lock(path)?;
    let new = f(read(path)?)?;
    write(path, new.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_updates_lose_nothing() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("sub/counter.txt");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    update(&path, |old| Ok(format!("{}{i}\n", old.unwrap_or_default())))
                })
            })
            .collect();
        for t in threads {
            assert!(matches!(t.join(), Ok(Ok(()))));
        }
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 8);
    }
}
