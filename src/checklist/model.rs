//! The validated checklist the runner executes: variables substituted, defaults applied,
//! every probe built from its parameters. Nothing here can fail any more.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use checks::Probe;

use super::node::Pos;

pub use super::raw::Severity;

/// A loaded, validated checklist.
#[derive(Debug, Clone)]
pub struct Checklist {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Where it came from: a path, or `builtin:NAME` for an embedded checklist.
    pub file: String,
    pub sections: Vec<Section>,
    /// Rollout stages, in order (empty: the checklist has none).
    pub stages: Vec<Stage>,
    /// Values that came from `${env:…}`; every output redacts them.
    pub secrets: Vec<String>,
    /// What composition changed at checklist level: the base it `extends:`, items it removes.
    pub tailored: Vec<String>,
    /// The other files its nodes came from, by [`Pos::src`]: the base it extends, prodcheck.yaml.
    pub composed_from: Vec<(u8, std::sync::Arc<super::source::Source>)>,
}

impl Checklist {
    /// Every item with the name of its section, in checklist order.
    pub fn items(&self) -> impl Iterator<Item = (&Section, &Item)> {
        self.sections
            .iter()
            .flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }

    /// A diagnostic at `pos`, in whichever file the position belongs to (`source`: this
    /// checklist's own text).
    pub fn diagnostic_at(
        &self,
        source: &super::source::Source,
        pos: Pos,
        message: impl Into<String>,
    ) -> super::Diagnostic {
        let file = self
            .composed_from
            .iter()
            .find(|(src, _)| *src == pos.src)
            .map(|(_, s)| s.as_ref())
            .unwrap_or(source);
        super::Diagnostic::new(&file.file, &file.text, pos, message)
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items().map(|(_, i)| i).find(|i| i.id == id)
    }

    /// Unset variables and the items that need them (loaded without running).
    pub fn needs(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (_, item) in self.items() {
            if let ItemBody::Check(c) = &item.body {
                for (var, _) in &c.needs {
                    out.entry(var.as_str()).or_default().push(item.id.as_str());
                }
            }
        }
        out
    }
}

/// One step of a rollout (`canary`, `rollout-10`, …) and how `watch` watches it by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    pub title: Option<String>,
    pub watch: Option<Duration>,
    pub every: Option<Duration>,
}

/// How long an item waits for its check to pass, and how often it tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub within: Duration,
    pub every: Duration,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub tags: Vec<String>,
    pub timeout: Duration,
    pub retries: u32,
    /// The pause between attempts (`None`: 200 ms, 400 ms, …).
    pub retry_delay: Option<Duration>,
    /// Line of the item in its file (for SARIF, annotations and editors); an item a checklist
    /// takes from the base it `extends:` has the line of that `extends:`.
    pub line: u32,
    /// What to change when it fails.
    pub fix: Option<String>,
    /// A URL with more.
    pub docs: Option<String>,
    /// Cadence of an automated item (manual items keep theirs in [`Manual::every`]).
    pub every: Option<Duration>,
    /// Rollout stages the item belongs to (its own, else its section's).
    pub stages: Vec<String>,
    /// `for:` — how long the item must fail at every evaluation before `watch` fires it.
    pub sustain: Option<Duration>,
    /// `wait:` — try until it passes, up to this long.
    pub wait: Option<Wait>,
    /// `needs:` resolved: the ids of the items this one runs after and depends on (tags
    /// expanded, in checklist order). Not to be confused with [`Check::needs`] (unset variables).
    pub depends_on: Vec<String>,
    pub body: ItemBody,
    /// Each override applied to the item and where it came from (`severity = "warning" ←
    /// prodcheck.yaml:9 (environment `staging`)`), for `show` and `docs`.
    pub overridden: Vec<String>,
    /// `not_applicable:` in prodcheck.yaml: the reason, where and by whom it was declared.
    pub not_applicable: Option<String>,
    /// Who may sign it off or waive it (its own `approvers:`/`four_eyes:`, else its section's).
    pub approval: Approval,
}

/// Who may approve an item's sign-offs and waivers. The default (nobody named, no four-eyes
/// rule) also counts unsigned records, as before signatures existed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    /// People or groups; empty: anyone in `allowed_signers` (or an unsigned record).
    pub approvers: Vec<String>,
    /// The approver must differ from the requester.
    pub four_eyes: bool,
}

impl Approval {
    /// Whether only signed records count for the item.
    pub fn requires_signature(&self) -> bool {
        !self.approvers.is_empty() || self.four_eyes
    }
}

impl Item {
    /// An item with every optional setting at its default: critical, a 10 s timeout, no
    /// retries, tags, stages, needs or approvals (for items built in code, not loaded).
    pub fn new(id: &str, title: &str, body: ItemBody) -> Item {
        Item {
            id: id.into(),
            title: title.into(),
            severity: Severity::Critical,
            tags: Vec::new(),
            timeout: Duration::from_secs(10),
            retries: 0,
            retry_delay: None,
            line: 1,
            fix: None,
            docs: None,
            every: None,
            stages: Vec::new(),
            sustain: None,
            wait: None,
            depends_on: Vec::new(),
            body,
            overridden: Vec::new(),
            not_applicable: None,
            approval: Approval::default(),
        }
    }

    /// The probe kind, or `manual`.
    pub fn kind(&self) -> &str {
        match &self.body {
            ItemBody::Check(c) => &c.kind,
            ItemBody::Manual(_) => "manual",
        }
    }

    /// Whether `watch` re-evaluates it: an automated item with a `for:`.
    pub fn is_trigger(&self) -> bool {
        self.sustain.is_some() && matches!(self.body, ItemBody::Check(_))
    }

    /// The item's cadence: how long a pass or sign-off keeps it from being due again.
    pub fn every(&self) -> Option<Duration> {
        match &self.body {
            ItemBody::Manual(m) => m.every.or(self.every),
            ItemBody::Check(_) => self.every,
        }
    }
}

#[derive(Debug, Clone)]
pub enum ItemBody {
    Check(Check),
    Manual(Manual),
}

#[derive(Debug, Clone)]
pub struct Check {
    pub kind: String,
    pub probe: Arc<dyn Probe>,
    /// Unset variables this check needs, at their first use (a lenient load: `validate`,
    /// `show`, and `run`, which refuses to start a selected item that needs one).
    pub needs: Vec<(String, Pos)>,
    /// The parameter block after substitution, as written (for `prodcheck docs`). May hold
    /// secrets: redact before showing.
    pub params: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct Manual {
    pub how: String,
    /// How long a sign-off stays valid.
    pub every: Option<Duration>,
}
