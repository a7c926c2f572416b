//! Where checklists come from: the shipped ones embedded in the binary, overridden by a
//! file of the same name in the local checklist directory, or any path given directly.

use std::path::Path;

use crate::checklist::Source;

/// The shipped checklists, embedded at build time.
pub const SHIPPED: &[(&str, &str)] = &[
    ("pre-deploy", include_str!("../checklists/pre-deploy.yaml")),
    ("deploy", include_str!("../checklists/deploy.yaml")),
    (
        "post-deploy",
        include_str!("../checklists/post-deploy.yaml"),
    ),
    (
        "maintenance",
        include_str!("../checklists/maintenance.yaml"),
    ),
];

/// One checklist `list` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// `builtin`, or the local file that provides (or overrides) it.
    pub origin: String,
}

/// Finds the checklist `arg`: an existing file path, else `DIR/NAME.yaml`, else a shipped one.
pub fn resolve(arg: &str, dir: &Path) -> Result<Source, String> {
    let as_path = Path::new(arg);
    let looks_like_path = arg.contains('/') || arg.ends_with(".yaml") || arg.ends_with(".yml");
    if looks_like_path || as_path.is_file() {
        return read(as_path);
    }
    for ext in ["yaml", "yml"] {
        let local = dir.join(format!("{arg}.{ext}"));
        if local.is_file() {
            return read(&local);
        }
    }
    match SHIPPED.iter().find(|(name, _)| *name == arg) {
        Some((name, text)) => Ok(Source {
            file: format!("builtin:{name}"),
            text: (*text).to_string(),
        }),
        None => {
            let names: Vec<_> = list(dir).into_iter().map(|e| e.name).collect();
            Err(format!(
                "no checklist named `{arg}`; known checklists: {} (or give a path to a YAML file)",
                names.join(", ")
            ))
        }
    }
}

fn read(path: &Path) -> Result<Source, String> {
    std::fs::read_to_string(path)
        .map(|text| Source {
            file: path.display().to_string(),
            text,
        })
        .map_err(|e| format!("cannot read checklist `{}`: {e}", path.display()))
}

/// Shipped checklists and local ones, local files marked as such.
pub fn list(dir: &Path) -> Vec<Entry> {
    let mut entries: Vec<Entry> = SHIPPED
        .iter()
        .map(|(n, _)| Entry {
            name: n.to_string(),
            origin: "builtin".into(),
        })
        .collect();
    let mut local: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    local.sort();
    for path in local {
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        let Some(stem) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| is_yaml)
        else {
            continue;
        };
        let origin = path.display().to_string();
        match entries.iter_mut().find(|e| e.name == stem) {
            Some(e) => e.origin = origin,
            None => entries.push(Entry {
                name: stem.to_string(),
                origin,
            }),
        }
    }
    entries
}
