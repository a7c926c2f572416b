//! The checklist file exactly as written: serde structs with `deny_unknown_fields`, before
//! variables, defaults and probe parameters are resolved. Also the source of the JSON Schema.

use std::collections::BTreeMap;

use checks::params::DurationParam;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::IgnoredAny;

/// How much a failing item matters. `critical` items gate; `warning` items gate only with
/// `--fail-on warning`; `info` items never gate.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    JsonSchema,
    serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A checklist file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "prodcheck checklist")]
pub struct RawChecklist {
    /// Short name, used in reports and state files (`pre-deploy`).
    pub name: String,
    /// One line saying what the checklist is for.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Variables and their defaults; `prodcheck.yaml` environments and `--var` override them.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub vars: Option<IgnoredAny>,
    /// Defaults for every item.
    #[serde(default)]
    pub defaults: Option<RawDefaults>,
    #[schemars(with = "Vec<RawSection>")]
    pub sections: IgnoredAny,
}

/// `defaults:` — applied to every item that does not set the field itself.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    #[serde(default)]
    pub timeout: Option<DurationParam>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub severity: Option<Severity>,
}

/// A named group of items.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSection {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[schemars(with = "Vec<RawItem>")]
    pub items: IgnoredAny,
}

/// One item: exactly one of `check` (automated) or `manual` (a human confirms).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawItem {
    /// kebab-case, unique in the checklist.
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Budget for one attempt (default 10s).
    #[serde(default)]
    pub timeout: Option<DurationParam>,
    /// Extra attempts after a `fail` or `error`; a pass after a retry is reported as flaky.
    #[serde(default)]
    pub retries: Option<u32>,
    /// The pause between attempts (default 200 ms, then 400 ms, …).
    #[serde(default)]
    pub retry_delay: Option<DurationParam>,
    /// What to change when the item fails, in one or two lines (shown with every failure).
    #[serde(default)]
    pub fix: Option<String>,
    /// A URL with more about the check or the fix.
    #[serde(default)]
    pub docs: Option<String>,
    /// Cadence of an automated item (`7d`): `run maintenance` runs it only when due. Manual
    /// items give theirs under `manual:`.
    #[serde(default)]
    pub every: Option<DurationParam>,
    /// `{ KIND: { params } }`: one probe kind and its parameters.
    #[serde(default)]
    #[schemars(with = "Option<crate::schema::CheckSchema>")]
    pub check: Option<IgnoredAny>,
    #[serde(default)]
    pub manual: Option<RawManual>,
}

/// A confirmation a human gives.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawManual {
    /// What to look at and what good looks like.
    pub how: String,
    /// How long a sign-off stays valid (`30d`).
    #[serde(default)]
    pub every: Option<DurationParam>,
}
