//! The YAML files users commit (`signoffs.yaml`, `waivers.yaml`): read strictly, rewritten
//! whole and atomically, one entry per checklist item so diffs in review stay small.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StateError, atomic};

/// Parses `path` as `T`; a missing or empty file is `T::default()`.
pub fn read<T: DeserializeOwned + Default>(path: &Path) -> Result<T, StateError> {
    match atomic::read(path)? {
        Some(text) => parse(path, &text),
        None => Ok(T::default()),
    }
}

fn parse<T: DeserializeOwned + Default>(path: &Path, text: &str) -> Result<T, StateError> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(T::default());
    }
    serde_saphyr::from_str(text).map_err(|e| StateError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Read-modify-write of `path` under its lock; `header` is a comment written at the top.
pub fn update<T: DeserializeOwned + Serialize + Default>(
    path: &Path,
    header: &str,
    f: impl FnOnce(&mut T),
) -> Result<(), StateError> {
    atomic::update(path, |old| {
        let mut doc: T = match old {
            Some(text) => parse(path, &text)?,
            None => T::default(),
        };
        f(&mut doc);
        let body = serde_saphyr::to_string(&doc).map_err(|e| StateError::Serialize {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(format!("{header}{body}"))
    })
}
