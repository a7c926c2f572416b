//! One scrape's run: the selected automated, non-disruptive items of a loaded checklist, run by
//! the ordinary runner under the scrape's deadline and judged by the ordinary verdict stage.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use checks::Outcome;
use tokio::sync::watch;

use crate::checklist::{Checklist, Item, ItemBody};
use crate::manual::{Answer, Prompter};
use crate::report::Report;
use crate::run::observe;
use crate::run::plan::RunOptions;
use crate::run::verdict::{self, NotRun, Observation, Policy, ProbeRun};
use crate::state::Timestamp;

use super::query::ProbeQuery;
use super::reason::Reason;
use super::snapshot::Loaded;

/// How long past the scrape deadline a probe may take to notice its own timeout.
const PROBE_SLACK: Duration = Duration::from_millis(250);

/// Why a scrape cannot run: the HTTP status to answer and a one-line reason.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
}

fn refuse(status: u16, reason: String) -> Refusal {
    Refusal { status, reason }
}

/// What a finished scrape run hands back.
pub struct Scraped {
    pub report: Report,
    /// Items still running at the deadline (reported as `error`).
    pub timed_out: u64,
}

/// The checklist reduced to what a scrape may run: automated items that are not disruptive
/// (`rate_limit`), narrowed by `item=` / `tag=`. Names that do not exist are a 404; names of
/// items a scrape never runs are a 400.
pub fn select(loaded: &Loaded, q: &ProbeQuery) -> Result<Checklist, Refusal> {
    let list = &loaded.checklist;
    let runnable = |i: &Item| matches!(&i.body, ItemBody::Check(c) if !c.probe.disruptive());
    for id in &q.items {
        match list.item(id) {
            None => {
                return Err(refuse(
                    404,
                    format!("no item `{id}` in checklist `{}`", list.name),
                ));
            }
            Some(i) if !runnable(i) => {
                let what = if i.kind() == "manual" {
                    "a manual item".to_string()
                } else {
                    format!("a disruptive probe ({})", i.kind())
                };
                return Err(refuse(
                    400,
                    format!("item `{id}` is {what}; scrapes never run it: use `prodcheck run`"),
                ));
            }
            Some(_) => {}
        }
    }
    for tag in &q.tags {
        if !list.items().any(|(_, i)| i.tags.contains(tag)) {
            return Err(refuse(
                404,
                format!("no item of checklist `{}` has the tag `{tag}`", list.name),
            ));
        }
    }
    let chosen = |i: &Item| {
        let named = q.items.is_empty() && q.tags.is_empty()
            || q.items.contains(&i.id)
            || i.tags.iter().any(|t| q.tags.contains(t));
        named && runnable(i)
    };
    let mut out = list.clone();
    for section in &mut out.sections {
        section.items.retain(|i| chosen(i));
    }
    out.sections.retain(|s| !s.items.is_empty());
    if out.sections.is_empty() {
        return Err(refuse(
            400,
            format!(
                "nothing to run: the selection has no automated, non-disruptive item of checklist `{}`",
                list.name
            ),
        ));
    }
    Ok(out)
}

/// Never called: scrapes run no manual item.
struct NoPrompt;

impl Prompter for NoPrompt {
    fn ask(&self, _: &str, _: &Item, _: &str) -> Answer {
        Answer::Skipped
    }
}

/// Whom a scrape is for: the environment whose variables apply, and the target (if any) whose
/// waivers apply.
pub struct Scope<'a> {
    pub env: Option<String>,
    pub target: Option<&'a str>,
}

/// Runs `checklist` (already [`select`]ed) so that the answer is ready at `deadline`: every
/// item's timeout is capped to the time left, and items still running then are `error`.
pub async fn run(
    mut checklist: Checklist,
    loaded: &Loaded,
    scope: Scope<'_>,
    state_dir: &std::path::Path,
    deadline: tokio::time::Instant,
    why_deadline: &str,
) -> Result<Scraped, Refusal> {
    let env = scope.env;
    let (on_record, trust) =
        crate::run::approval::on_record(state_dir).map_err(|e| state_refusal(&e))?;
    // Only this target's waivers (or, without a target, those given without one), and only
    // those the items' approvers signed.
    let mut state = on_record.scoped(scope.target);
    crate::run::approval::judge(&checklist, &mut state, &trust);
    // Capped just past the deadline: the runner stops first (so the item says why), and the
    // probe's own timeout ends its work a moment later instead of outliving the scrape.
    let left = deadline.saturating_duration_since(tokio::time::Instant::now()) + PROBE_SLACK;
    for section in &mut checklist.sections {
        for item in &mut section.items {
            item.timeout = item.timeout.min(left);
            // A scrape is a snapshot: an item that would wait to converge is judged once.
            item.wait = None;
        }
    }
    let now = Timestamp::now();
    let mut preset = verdict::plan(&checklist, &state, now, false);
    for (_, item) in checklist.items() {
        if let Some(vars) = loaded.unset.get(&item.id) {
            preset.insert(
                item.id.clone(),
                unset_observation(vars, env.as_deref(), scope.target),
            );
        }
    }
    let opts = RunOptions {
        preset,
        ..RunOptions::default()
    };
    let (tx, rx) = watch::channel(false);
    let timer = tokio::spawn(async move {
        tokio::time::sleep_until(deadline).await;
        let _ = tx.send(true);
    });
    let started_at = SystemTime::now();
    let started = Instant::now();
    let mut result = observe::run(&checklist, &opts, Arc::new(NoPrompt), &|_| {}, rx).await;
    timer.abort();
    let mut timed_out = 0;
    for obs in &mut result.observations {
        if matches!(obs, Observation::NotRun(NotRun::Interrupted)) {
            timed_out += 1;
            *obs = Observation::Probe(ProbeRun {
                outcome: Reason::ScrapeDeadline.mark(Outcome::error(format!(
                    "timed out: still running when the scrape's deadline came ({why_deadline}); raise the job's scrape_timeout or scrape fewer items with item= or tag="
                ))),
                duration: started.elapsed(),
                attempts: 1,
                flaky: false,
            });
        }
    }
    result.interrupted = false;
    let policy = Policy {
        checklist: &checklist.name,
        fail_on_warning: false,
        state: &state,
        now,
        automated: false,
    };
    let report = crate::run::report::build_report(
        &checklist,
        result,
        &policy,
        env,
        started_at,
        started.elapsed(),
    );
    Ok(Scraped { report, timed_out })
}

fn unset_observation(vars: &[String], env: Option<&str>, target: Option<&str>) -> Observation {
    let names: Vec<String> = vars.iter().map(|v| format!("`{v}`")).collect();
    let fix = match (target, env) {
        (Some(t), _) => format!("set it under `targets: {t}: vars:` in prodcheck.yaml"),
        (None, Some(e)) => format!("set it under `environments: {e}: vars:` in prodcheck.yaml"),
        (None, None) => {
            "scrape with env=NAME of an environment that sets it in prodcheck.yaml".into()
        }
    };
    Observation::Probe(ProbeRun {
        outcome: Reason::UnsetVariable.mark(Outcome::error(format!(
            "not probed: variable {} is not set; {fix}, then reload (SIGHUP)",
            names.join(", ")
        ))),
        duration: Duration::ZERO,
        attempts: 0,
        flaky: false,
    })
}

fn state_refusal(e: &crate::state::StateError) -> Refusal {
    refuse(500, format!("{e} ({})", e.hint()))
}
