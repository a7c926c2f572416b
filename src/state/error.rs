//! What can go wrong reading or writing state files, with the file named and a hint, so a
//! user can repair a hand-edited `signoffs.yaml` without reading source code.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not a valid state file: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("cannot serialize `{}`: {message}", path.display())]
    Serialize { path: PathBuf, message: String },
}

impl StateError {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StateError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            StateError::Io { .. } => {
                "check that the state directory (`state:` in prodcheck.yaml, default `.prodcheck`) is writable"
            }
            StateError::Parse { .. } => {
                "fix the entry named above (the file is plain YAML / JSON lines), or restore it from version control"
            }
            StateError::Serialize { .. } => "this is a bug in prodcheck; please report it",
        }
    }
}
