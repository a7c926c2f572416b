//! `bundle_glob` from the repository's build output (`dist/`, `build/`, `public/assets/`,
//! `.next/static/`, relative to the current directory): the hashed entry script's name with
//! the hash replaced by `*`, so the glob keeps matching after the next build.

use std::path::{Path, PathBuf};

use super::finding::Finding;
use super::html::hashed;

/// Build output directories looked into, in order.
const BUILD_DIRS: [&str; 4] = ["dist", "build", "public/assets", ".next/static"];
/// Entries read at most (a `node_modules` left in `build/` must not make this slow).
const MAX_ENTRIES: usize = 5_000;
const MAX_DEPTH: usize = 4;
/// Entry-point names preferred over other chunks.
const ENTRY_NAMES: [&str; 5] = ["index", "main", "app", "entry", "bundle"];

/// The hashed `.js` files under `dir` (bounded walk), as paths relative to `root`.
fn scripts(root: &Path, dir: &Path, depth: usize, seen: &mut usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        *seen += 1;
        if *seen > MAX_ENTRIES {
            return;
        }
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() && depth < MAX_DEPTH && name != "node_modules" {
            scripts(root, &path, depth + 1, seen, out);
        } else if kind.is_file()
            && (name.ends_with(".js") || name.ends_with(".mjs"))
            && hashed(&name).is_some()
            && let Ok(rel) = path.strip_prefix(root)
        {
            out.push(rel.to_path_buf());
        }
    }
}

/// The glob for one hashed script: `dist/assets/index-BkP3Qe1z.js` → `dist/assets/index-*.js`.
fn glob_of(rel: &Path) -> Option<String> {
    let file = rel.file_name()?.to_str()?;
    let (prefix, sep) = hashed(file)?;
    let ext = if file.ends_with(".mjs") { "mjs" } else { "js" };
    let parent = rel.parent().map(|p| p.to_string_lossy().into_owned());
    let name = format!("{prefix}{sep}*.{ext}");
    Some(match parent.filter(|p| !p.is_empty()) {
        Some(p) => format!("{p}/{name}"),
        None => name,
    })
}

/// `bundle_glob` from the build output under `root`.
pub fn discover(root: &Path) -> Finding {
    for dir in BUILD_DIRS {
        let full = root.join(dir);
        if !full.is_dir() {
            continue;
        }
        let mut found = Vec::new();
        scripts(root, &full, 0, &mut 0, &mut found);
        let entry = found.iter().find(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .and_then(hashed)
                .is_some_and(|(prefix, _)| ENTRY_NAMES.contains(&prefix.as_str()))
        });
        let Some(chosen) = entry.or(found.first()) else {
            continue;
        };
        let Some(glob) = glob_of(chosen) else {
            continue;
        };
        let size = std::fs::metadata(root.join(chosen)).map_or(0, |m| m.len());
        let matching = found
            .iter()
            .filter(|p| glob_of(p).as_deref() == Some(glob.as_str()))
            .count();
        return Finding::found(
            "bundle_glob",
            &glob,
            format!(
                "matches {matching} file(s) of the build output, e.g. {} ({} KiB)",
                chosen.display(),
                size.div_ceil(1024)
            ),
        );
    }
    Finding::needed(
        "bundle_glob",
        format!(
            "no hashed .js file under {} here: run the build first, or set it (e.g. dist/assets/index-*.js)",
            BUILD_DIRS.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_script_of_the_build_output_becomes_a_glob() {
        let dir = tempfile::tempdir().expect("dir");
        let assets = dir.path().join("dist/assets");
        std::fs::create_dir_all(&assets).expect("mkdir");
        for f in [
            "vendor-Ab12Cd34.js",
            "index-BkP3Qe1z.js",
            "index-BkP3Qe1z.css",
            "logo.svg",
        ] {
            std::fs::write(assets.join(f), "x".repeat(2048)).expect("write");
        }
        let f = discover(dir.path());
        assert_eq!(f.value.as_deref(), Some("dist/assets/index-*.js"));
        assert_eq!(
            f.evidence,
            "matches 1 file(s) of the build output, e.g. dist/assets/index-BkP3Qe1z.js (2 KiB)"
        );
        let empty = tempfile::tempdir().expect("dir");
        let f = discover(empty.path());
        assert_eq!(f.value, None);
        assert!(
            f.evidence
                .starts_with("no hashed .js file under dist, build"),
            "{}",
            f.evidence
        );
    }
}
