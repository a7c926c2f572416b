//! `--report FORMAT[=PATH]` as the command line parses it: the format names and where each
//! report goes. Which reporter renders a format is decided in `report` (`Format::reporter_with`).

use std::path::PathBuf;

/// The formats `--report` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Junit,
    Markdown,
    Sarif,
    Tap,
    Github,
    Prometheus,
    Html,
}

impl Format {
    /// Every format, in the order help and errors list them.
    pub const ALL: [Format; 9] = [
        Format::Human,
        Format::Json,
        Format::Junit,
        Format::Markdown,
        Format::Sarif,
        Format::Tap,
        Format::Github,
        Format::Prometheus,
        Format::Html,
    ];

    /// The name `--report` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
            Format::Tap => "tap",
            Format::Github => "github",
            Format::Prometheus => "prometheus",
            Format::Html => "html",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// `--report FORMAT[=PATH]`: where one format goes (`None` = stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub format: Format,
    pub path: Option<PathBuf>,
}

impl std::str::FromStr for ReportTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, path) = match s.split_once('=') {
            Some((n, "")) => {
                return Err(format!(
                    "`{n}=` names no file; write `{n}=PATH` or just `{n}`"
                ));
            }
            Some((n, p)) => (n, Some(PathBuf::from(p))),
            None => (s, None),
        };
        let format = Format::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!(
                "unknown report format `{name}`; valid formats: {}",
                names.join(", ")
            )
        })?;
        Ok(ReportTarget { format, path })
    }
}
