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
    pub title: Option<String>,
    pub description: Option<String>,
    /// Variables and their defaults; `prodcheck.yaml` environments and `--var` override them.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub vars: Option<IgnoredAny>,
    /// Defaults for every item.
    pub defaults: Option<RawDefaults>,
    /// The steps of a rollout, in order (`canary`, `rollout-10`, …): `run --stage NAME` runs
    /// the items of one stage, `watch --stage NAME` watches its triggers.
    #[serde(default)]
    pub stages: Vec<RawStage>,
    /// Required unless the checklist `extends:` another; with `extends:` these sections add
    /// items (a section named like one of the base's joins it).
    #[serde(default)]
    #[schemars(with = "Vec<RawSection>")]
    pub sections: IgnoredAny,
    /// A shipped checklist this one builds on (`pre-deploy`): its items, and its later fixes,
    /// apply; `remove`, `overrides` and `sections` here change and add to them.
    pub extends: Option<String>,
    /// With `extends:`: ids of the base's items to leave out.
    #[serde(default)]
    pub remove: Vec<String>,
    /// With `extends:`: per item id, the fields to change (`severity`, `title`, …) and
    /// `check: { PARAM: VALUE }` for the probe's parameters.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, BTreeMap<String, serde_json::Value>>>")]
    pub overrides: Option<IgnoredAny>,
}

/// One step of a rollout.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// kebab-case name used with `--stage`.
    pub name: String,
    /// What happens in this stage, in one line.
    pub title: Option<String>,
    /// How long `prodcheck watch --stage NAME` watches by default (`10m`).
    pub watch: Option<DurationParam>,
    /// How often `watch` re-evaluates the triggers by default (`30s`).
    pub every: Option<DurationParam>,
}

/// `defaults:` — applied to every item that does not set the field itself.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    pub timeout: Option<DurationParam>,
    pub retries: Option<u32>,
    pub severity: Option<Severity>,
}

/// A named group of items.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSection {
    pub name: String,
    pub description: Option<String>,
    /// Stages every item of the section belongs to (an item's own `stages` replaces these).
    pub stages: Option<Vec<String>>,
    /// Item ids or tags every item of the section needs (an item's own `needs` replaces these).
    #[serde(default)]
    pub needs: Vec<String>,
    /// Who may sign off or waive the section's items (an item's own `approvers` replaces these): people (principals of `.prodcheck/allowed_signers`)
    /// or groups of `.prodcheck/approvers.yaml`. Only records signed by one of them count.
    pub approvers: Option<Vec<String>>,
    /// Four-eyes rule: the approver of a sign-off or waiver must be someone other than who
    /// requested it (a signed record naming both is required).
    pub four_eyes: Option<bool>,
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
    pub severity: Option<Severity>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Budget for one attempt (default 10s).
    pub timeout: Option<DurationParam>,
    /// Extra attempts after a `fail` or `error`; a pass after a retry is reported as flaky.
    pub retries: Option<u32>,
    /// The pause between attempts (default 200 ms, then 400 ms, …).
    pub retry_delay: Option<DurationParam>,
    /// What to change when the item fails, in one or two lines (shown with every failure).
    pub fix: Option<String>,
    /// A URL with more about the check or the fix.
    pub docs: Option<String>,
    /// Cadence of an automated item (`7d`): `run maintenance` runs it only when due. Manual
    /// items give theirs under `manual:`.
    pub every: Option<DurationParam>,
    /// Rollout stages the item belongs to (see `stages:` at the top of the checklist).
    pub stages: Option<Vec<String>>,
    /// Makes the item a trigger of `prodcheck watch`: it fires only when it has failed at
    /// every evaluation for this long (`5m`, as in "5xx over 5 % for 5 minutes"; `0s` fires on
    /// the first failure). A single `run` evaluates it once.
    #[serde(default, rename = "for")]
    pub sustain: Option<DurationParam>,
    /// Wait for the check to pass instead of failing at once: `5m`, or
    /// `{ within: 5m, every: 10s }` (default every 5s). Reports how long it took, or the last
    /// answer when the time is up.
    pub wait: Option<WaitParam>,
    /// Item ids or tags this item depends on (`[gateway-up]`): it runs after them, and only
    /// when each passed (or warned); otherwise it is reported as `skip`, naming the cause.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Values taken from the answer of an `http` check, by name, for the items that need this
    /// one (`${capture:NAME}` in their parameters): `token: { json: /token }`,
    /// `{ header: X-Session }`, `{ regex: 'csrf=(\w+)' }` (the first group), `{ cookie: sid }`.
    /// Captured values are secrets: every output shows them as `***`.
    pub capture: Option<BTreeMap<String, checks::capture::Capture>>,
    /// `{ KIND: { params } }`: one probe kind and its parameters.
    #[serde(default)]
    #[schemars(with = "Option<crate::schema::CheckSchema>")]
    pub check: Option<IgnoredAny>,
    pub manual: Option<RawManual>,
    /// Who may sign off or waive this item: people (principals of `.prodcheck/allowed_signers`)
    /// or groups of `.prodcheck/approvers.yaml`. Only records signed by one of them count.
    pub approvers: Option<Vec<String>>,
    /// Four-eyes rule: the approver of a sign-off or waiver must be someone other than who
    /// requested it (a signed record naming both is required).
    pub four_eyes: Option<bool>,
}

/// A confirmation a human gives.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawManual {
    /// What to look at and what good looks like.
    pub how: String,
    /// How long a sign-off stays valid (`30d`).
    pub every: Option<DurationParam>,
}

/// `wait: 5m` or `wait: { within: 5m, every: 10s }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum WaitParam {
    /// How long to wait, trying every 5 seconds.
    Within(DurationParam),
    /// How long to wait and how often to try.
    Every {
        within: DurationParam,
        #[serde(default)]
        every: Option<DurationParam>,
    },
}

impl WaitParam {
    /// The pause between tries when none is given.
    pub const DEFAULT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

    pub fn within(self) -> std::time::Duration {
        match self {
            WaitParam::Within(d) | WaitParam::Every { within: d, .. } => d.0,
        }
    }

    pub fn every(self) -> std::time::Duration {
        match self {
            WaitParam::Every { every: Some(e), .. } => e.0,
            _ => Self::DEFAULT_EVERY,
        }
    }
}

impl<'de> Deserialize<'de> for WaitParam {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WaitParam;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration such as `5m`, or `{ within: 5m, every: 10s }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WaitParam, E> {
                checks::params::parse_duration(v)
                    .map(|d| WaitParam::Within(DurationParam(d)))
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<WaitParam, E> {
                Err(E::custom(
                    "a duration needs a unit: write `wait: 5m`, not a bare number",
                ))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WaitParam, E> {
                self.visit_u64(v.unsigned_abs())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WaitParam, A::Error> {
                let (mut within, mut every) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "within" => within = Some(map.next_value::<DurationParam>()?),
                        "every" => every = Some(map.next_value::<DurationParam>()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["within", "every"]));
                        }
                    }
                }
                let within = within.ok_or_else(|| de::Error::missing_field("within"))?;
                Ok(WaitParam::Every { within, every })
            }
        }
        d.deserialize_any(V)
    }
}
