//! The one trait every probe kind implements, and the context the runner hands it.
//! Probes never print and never panic on input: everything they learn goes into the Outcome.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::net::NetParams;
use crate::outcome::Outcome;
use crate::politeness::Politeness;

/// What the runner gives a probe for one attempt.
///
/// Cancellation is structural: the runner drops the probe's future on Ctrl-C or when the
/// item's timeout expires, so probes must hold no state that outlives the future (child
/// processes are spawned with `kill_on_drop`).
#[derive(Debug, Clone)]
pub struct ProbeContext {
    /// The item's whole budget. Probes size their own network timeouts from it so that
    /// they can report *which* step was slow before the runner's backstop fires.
    pub timeout: Duration,
    /// Sent as `User-Agent` by HTTP-speaking probes.
    pub user_agent: String,
    /// The run's shared per-host request limits and throttle memory (one per run).
    pub politeness: Arc<Politeness>,
    /// The item's network parameters (default for kinds that take none), with the proxy
    /// setting in force: its own `proxy`, else the run's (the environment's by default).
    /// HTTP-based probes send requests through it; `tcp`, `tls` and `websocket` tunnel.
    pub net: NetParams,
    /// Time this item's requests spent queued behind the run's own limits (not charged to
    /// `timeout`; the runner's backstop moves by it too).
    pub queue: Arc<crate::politeness::QueueClock>,
    /// The item `capture:`s values from its answer: probes that have one put it in
    /// [`Outcome::answer`](crate::Outcome).
    pub keep_answer: bool,
}

impl ProbeContext {
    /// A context with its own politeness state (an ad hoc probe, a unit test).
    pub fn new(timeout: Duration) -> Self {
        Self::with_politeness(timeout, Arc::new(Politeness::default()))
    }

    /// A context sharing `politeness` with every other item of the run.
    pub fn with_politeness(timeout: Duration, politeness: Arc<Politeness>) -> Self {
        ProbeContext {
            timeout,
            user_agent: format!("prodcheck/{}", env!("CARGO_PKG_VERSION")),
            politeness,
            net: NetParams::default(),
            queue: Arc::default(),
            keep_answer: false,
        }
    }

    /// Waits for one of `host`'s per-host slots for a connection that is not an HTTP request
    /// (see [`Politeness::connection`]), at most the item's timeout plus the run's queue
    /// limit; past that, the `error` outcome that says it was prodcheck's own limit
    /// (`no_answer: own_limit`), never the target's failure.
    pub async fn connection_slot(
        &self,
        host: &str,
    ) -> Result<crate::politeness::Connection, Outcome> {
        let wait = self.timeout + self.politeness.queue_limit();
        match tokio::time::timeout(wait, self.politeness.connection(host, &self.queue)).await {
            Ok(Some(held)) => Ok(held),
            _ => Err(crate::net::dial::NotConnected {
                why: crate::no_answer::NoAnswer::OwnLimit,
                message: format!(
                    "not connected: prodcheck's own per-host limit (`--per-host {}`) gave no turn to {host} within the run's queue limit ({} s); the slots were held by other items on the same host",
                    self.politeness.per_host(),
                    self.politeness.queue_limit().as_secs()
                ),
            }
            .outcome(crate::no_answer::Property::Reachability)),
        }
    }
}

/// A parameter that deserialized fine but makes no sense (an over-cap count, an empty list
/// that would assert nothing). The loader points at `field` in the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamIssue {
    pub field: &'static str,
    pub message: String,
    pub hint: Option<String>,
    /// The element of a list-valued `field` the issue is about (`assert`'s third expression).
    pub index: Option<usize>,
}

impl ParamIssue {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ParamIssue {
            field,
            message: message.into(),
            hint: None,
            index: None,
        }
    }
    /// Points at element `index` of the list `field` holds.
    pub fn at(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The issues of the list `field` holding `len` `things` (`URLs`, `paths`): empty (nothing
    /// would be checked; `empty_hint` says what to do), or longer than `cap`.
    pub fn list_size(
        field: &'static str,
        len: usize,
        cap: usize,
        things: &str,
        empty_hint: &str,
    ) -> Vec<ParamIssue> {
        if len == 0 {
            let message = format!("`{field}` is empty, so nothing would be checked");
            vec![ParamIssue::new(field, message).hint(empty_hint)]
        } else if len > cap {
            let message = format!("{len} {things}, more than the cap of {cap}");
            vec![ParamIssue::new(field, message)]
        } else {
            Vec::new()
        }
    }
}

/// An automated check. The parameters live in the implementing struct (deserialized from
/// the checklist's `check: { KIND: {...} }` block); `run` observes and reports.
#[async_trait]
pub trait Probe: Send + Sync + std::fmt::Debug {
    /// Semantic validation after deserialization, before anything runs.
    fn check_params(&self) -> Vec<ParamIssue> {
        Vec::new()
    }

    /// `check_params` for the item's network parameters (a literal address of the wrong
    /// family, a certificate without its key), for kinds that take them.
    fn check_net(&self, _net: &NetParams) -> Vec<ParamIssue> {
        Vec::new()
    }

    /// The item's own network parameters, for kinds that take them (its `proxy` replaces the
    /// run's for this item).
    fn net(&self) -> Option<&NetParams> {
        None
    }

    /// Disruptive probes (traffic bursts) run after all others, one at a time.
    fn disruptive(&self) -> bool {
        false
    }

    /// The hosts a disruptive probe's burst goes to (not paced, so not in
    /// [`Probe::planned_requests`]): a fleet keeps every other target's requests to them before
    /// the burst. Empty for probes that are not disruptive.
    fn burst_hosts(&self) -> Vec<String> {
        Vec::new()
    }

    /// The paced HTTP requests one attempt sends, per host: what the run plans its wall time
    /// from (`politeness::Plan`). Empty for probes that send none.
    fn planned_requests(&self) -> Vec<(String, u32)> {
        Vec::new()
    }

    /// Runs one attempt. Must not panic and must honour `ctx.timeout` for each network step.
    async fn run(&self, ctx: &ProbeContext) -> Outcome;
}
