//! A fleet planned in batches: every target's checklist is loaded and checked once before
//! anything is sent (and then dropped), and each batch of targets is loaded again when its turn
//! comes, so a run holds a batch's checklists, never the whole fleet's.

use super::approval::{self, Trust};
use super::observe::{self, Shared};
use super::plan::{self, Plan};
use super::request::RunRequest;
use crate::checklist::{Diagnostic, ItemBody, load};
use crate::error::CliError;
use crate::fleet::Target;
use crate::state::State;

/// A checked fleet: what every batch shares.
pub struct Fleet<'a> {
    request: &'a RunRequest,
    targets: Vec<Option<&'a Target>>,
    record: (State, Trust),
    /// Every target's secrets (deduplicated): what the run's redactor hides.
    pub secrets: Vec<String>,
    /// Paced requests per host over the whole fleet, in first-seen order.
    requests: Vec<(String, u32)>,
    /// The run is one batch: a human may be asked about a manual item (prompts come after
    /// every probe, as in any run), or a disruptive probe's host is also another target's
    /// (its burst must come after every other target's requests there, as in any run).
    pub one_batch: bool,
}

impl<'a> Fleet<'a> {
    /// Loads every target's checklist once and reports every problem, as [`Plan::build`]
    /// does, keeping only the secrets and the planned requests.
    pub fn check(request: &'a RunRequest) -> Result<Fleet<'a>, CliError> {
        let fleet = true;
        let env = |name: &str| std::env::var(name).ok();
        let selection = plan::selection(request);
        let mut problems: Vec<(String, Vec<Diagnostic>)> = Vec::new();
        let mut unset: Vec<(String, Vec<Diagnostic>)> = Vec::new();
        let mut selectors = None;
        let mut proxy_error = None;
        let mut secrets: Vec<String> = Vec::new();
        // Per host, in first-seen order: its paced requests; beside them, the last target that
        // plans requests to it and how many targets do. One copy of each host name is kept
        // (and one index): a fleet of 10,000 targets has as many hosts.
        let mut requests: Vec<(String, u32)> = Vec::new();
        let mut spread: Vec<(usize, usize)> = Vec::new();
        let mut hosts: std::collections::HashMap<String, usize> = Default::default();
        // The hosts a disruptive probe bursts, and the target that bursts them.
        let mut bursts: Vec<(String, usize)> = Vec::new();
        let mut prompts = false;
        let targets = request.target_list();
        for (index, target) in targets.iter().enumerate() {
            let sources = plan::sources_for(request, *target);
            let checklist = match load(&request.source, &sources, &env) {
                Ok(c) => c,
                Err(d) => {
                    problems.push((plan::name_of(*target), d));
                    continue;
                }
            };
            if selectors.is_none() {
                selectors = Some(plan::check_selectors(&checklist, request));
            }
            if request.strict_vars {
                let d = plan::unset_targets(&checklist, &request.source, &selection);
                if !d.is_empty() {
                    unset.push((plan::name_of(*target), d));
                }
            }
            if proxy_error.is_none()
                && let Err(e) = plan::proxy_setting(request.proxy.as_deref(), &sources)
            {
                let name = target.map(|t| t.name.as_str()).unwrap_or_default();
                proxy_error = Some(format!("target `{name}`: {e}"));
            }
            for s in &checklist.secrets {
                if !secrets.contains(s) {
                    secrets.push(s.clone());
                }
            }
            for (_, item) in checklist.items().filter(|(_, i)| selection.selects(i)) {
                match &item.body {
                    ItemBody::Check(check) => {
                        for (host, n) in check.probe.planned_requests() {
                            let at = match hosts.get(&host) {
                                Some(at) => *at,
                                None => {
                                    hosts.insert(host.clone(), requests.len());
                                    requests.push((host, 0));
                                    spread.push((index, 0));
                                    requests.len() - 1
                                }
                            };
                            requests[at].1 += n;
                            let seen = &mut spread[at];
                            if seen.1 == 0 || seen.0 != index {
                                *seen = (index, seen.1 + 1);
                            }
                        }
                        bursts.extend(check.probe.burst_hosts().into_iter().map(|h| (h, index)));
                    }
                    ItemBody::Manual(_) => prompts |= request.interactive,
                }
            }
        }
        plan::diagnostics(problems, fleet, request)?;
        match selectors {
            None => return Err(CliError::usage("no target selected", None)),
            Some(result) => result?,
        }
        plan::diagnostics(unset, fleet, request)?;
        let record = approval::on_record(&request.config.state_dir).map_err(plan::state_error)?;
        if let Some(message) = proxy_error {
            return Err(CliError::usage(
                message,
                Some("write `--proxy env`, `--proxy none` or `--proxy http://host:port`"),
            ));
        }
        // A burst on a host another target sends requests to.
        let shared_burst = bursts.iter().any(|(host, by)| {
            hosts
                .get(host)
                .is_some_and(|at| spread[*at].1 > 1 || spread[*at].0 != *by)
        });
        drop(hosts);
        Ok(Fleet {
            request,
            targets,
            record,
            secrets,
            requests,
            one_batch: prompts || shared_burst,
        })
    }

    /// The request the fleet was checked for.
    pub fn request(&self) -> &'a RunRequest {
        self.request
    }

    /// How many targets a batch holds: twice `--concurrency` (at least 32), so every slot has
    /// work until the batch's last probes, and a batch's checklists, items and evidence stay
    /// small (about 45 KB a target of three items); the whole fleet when it must be one batch.
    pub fn batch_size(&self) -> usize {
        if self.one_batch {
            return self.targets.len().max(1);
        }
        (self.request.concurrency * 2).max(32)
    }

    /// The plans of the batches, in target order, each built when it is asked for.
    pub fn batches(&self) -> impl Iterator<Item = Result<Plan<'a>, CliError>> + '_ {
        self.targets
            .chunks(self.batch_size())
            .map(|batch| Plan::build_for(self.request, batch.to_vec(), Some(&self.record)))
    }

    /// One concurrency bound and one politeness for every batch.
    pub fn shared(&self) -> Shared {
        observe::shared(
            plan::politeness(self.request.per_host, self.request.pace),
            self.requests.clone(),
            self.request.concurrency,
        )
    }

    /// The whole fleet's paced requests and the least wall time they need (`-v`).
    pub fn pacing_plan(&self) -> checks::politeness::Plan {
        plan::politeness(self.request.per_host, self.request.pace).plan(self.requests.clone())
    }
}
