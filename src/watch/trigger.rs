//! When a watched trigger fires. As a Prometheus alerting rule with `for:`: it fires when it
//! has failed at every evaluation for its `for:` duration; a pass resets it; a failed
//! evaluation (`error`) neither resets nor fires it, but blindness as long as `for:` does.

use std::time::Duration;

use checks::figures::Figures;
use checks::{Outcome, Status};

use super::series::{Sample, Series, Tally, short, value_of};

/// Why a trigger stopped holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    /// It failed at every evaluation from `since` to `at`, at least its `for:`.
    Breach { since: Duration, at: Duration },
    /// It could not be evaluated from `since` to `at`, at least its `for:` (and two
    /// evaluations): the rollout is unwatched.
    Blind { since: Duration, at: Duration },
}

/// One trigger's state during a watch.
#[derive(Debug, Clone)]
pub struct TriggerState {
    pub id: String,
    /// `for:`.
    pub sustain: Duration,
    /// The watch's interval (blindness must span at least two evaluations).
    every: Duration,
    pub series: Series,
    /// Offset of the first failure of the current breach.
    breach_since: Option<Duration>,
    /// Offset of the first error of the current run of errors.
    blind_since: Option<Duration>,
    /// The longest breach that did not fire: (evaluations, span).
    longest_breach: (u32, Duration),
    breach_evaluations: u32,
    counts: [u32; 5],
    /// The latest outcome (its message and evidence go into the report).
    pub last: Option<Outcome>,
    pub fired: Option<Fired>,
}

impl TriggerState {
    pub fn new(id: &str, sustain: Duration, every: Duration) -> Self {
        TriggerState {
            id: id.to_string(),
            sustain,
            every,
            series: Series::default(),
            breach_since: None,
            blind_since: None,
            longest_breach: (0, Duration::ZERO),
            breach_evaluations: 0,
            counts: [0; 5],
            last: None,
            fired: None,
        }
    }

    /// Records one evaluation at offset `at`; returns whether the trigger fired with it.
    pub fn observe(&mut self, at: Duration, outcome: Outcome) -> Option<Fired> {
        let status = outcome.status;
        self.counts[Status::ALL.iter().position(|s| *s == status).unwrap_or(0)] += 1;
        let value = value_of(&outcome.evidence);
        if let Some((_, unit)) = value {
            self.series.set_unit(unit);
        }
        self.series.push(Sample {
            at_ms: at.as_millis() as u64,
            status,
            value: value.map(|(v, _)| v),
        });
        self.last = Some(outcome);
        if self.fired.is_some() {
            return None;
        }
        match status {
            Status::Fail => {
                self.blind_since = None;
                let since = *self.breach_since.get_or_insert(at);
                self.breach_evaluations += 1;
                let held = at.saturating_sub(since);
                if held > self.longest_breach.1 || self.longest_breach.0 == 0 {
                    self.longest_breach = (self.breach_evaluations, held);
                }
                if held >= self.sustain {
                    self.fired = Some(Fired::Breach { since, at });
                }
            }
            Status::Error => {
                let since = *self.blind_since.get_or_insert(at);
                let held = at.saturating_sub(since);
                if held >= self.sustain.max(self.every) {
                    self.fired = Some(Fired::Blind { since, at });
                }
            }
            Status::Pass | Status::Warn | Status::Skip => {
                self.breach_since = None;
                self.blind_since = None;
                self.breach_evaluations = 0;
            }
        }
        self.fired
    }

    pub fn evaluations(&self) -> u32 {
        self.series.evaluations()
    }

    /// How many evaluations ended with `status`.
    pub fn count(&self, status: Status) -> u32 {
        self.counts[Status::ALL.iter().position(|s| *s == status).unwrap_or(0)]
    }

    /// `breaching for 40s of 5m` while a breach is under way (for the live view).
    pub fn state_line(&self, now: Duration) -> Option<String> {
        if let Some(since) = self.breach_since.filter(|_| self.fired.is_none()) {
            return Some(format!(
                "failing for {} of its for: {}",
                short(now.saturating_sub(since)),
                short(self.sustain)
            ));
        }
        if let Some(since) = self.blind_since.filter(|_| self.fired.is_none()) {
            return Some(format!(
                "no answer for {}",
                short(now.saturating_sub(since))
            ));
        }
        None
    }

    /// The trigger's verdict over the watch, as one probe outcome (`None`: never evaluated).
    /// A breach still under way when the window ends is a warning: it has not lasted its
    /// `for:`, but nobody saw it end either.
    pub fn outcome(&self, elapsed: Duration) -> Option<Outcome> {
        let last = self.last.as_ref()?;
        let n = self.evaluations();
        let mut outcome = match self.fired {
            Some(Fired::Breach { since, at }) => Outcome::fail(format!(
                "failed at every evaluation for {} (its for: {}) from +{} to +{}: {}",
                short(at - since),
                short(self.sustain),
                short(since),
                short(at),
                last.message
            )),
            Some(Fired::Blind { since, at }) => Outcome::error(format!(
                "could not be evaluated for {} (from +{} to +{}), so the rollout went unwatched: {}",
                short(at - since),
                short(since),
                short(at),
                last.message
            )),
            None => {
                if let Some(since) = self.breach_since {
                    Outcome::warn(format!(
                        "still failing when the watch ended ({} of its for: {}); watch longer before promoting: {}",
                        short(elapsed.saturating_sub(since)),
                        short(self.sustain),
                        last.message
                    ))
                } else if let Some(since) = self.blind_since {
                    Outcome::warn(format!(
                        "not answering when the watch ended (for {}): {}",
                        short(elapsed.saturating_sub(since)),
                        last.message
                    ))
                } else {
                    let brief = match self.longest_breach {
                        (0, _) => String::new(),
                        (k, d) => format!(
                            "; failed briefly ({k} evaluation{} over {}, under its for: {})",
                            if k == 1 { "" } else { "s" },
                            short(d),
                            short(self.sustain)
                        ),
                    };
                    Outcome::pass(format!(
                        "held at {n} evaluation{} over {}{brief}; last: {}",
                        if n == 1 { "" } else { "s" },
                        short(elapsed),
                        last.message
                    ))
                }
            }
        };
        outcome.evidence = last.evidence.clone();
        if let Some(Fired::Breach { since, at } | Fired::Blind { since, at }) = self.fired {
            let ms = |d: Duration| d.as_millis() as u64;
            outcome.evidence.insert("since_ms".into(), ms(since).into());
            outcome.evidence.insert("fired_at_ms".into(), ms(at).into());
        }
        outcome.evidence.insert("evaluations".into(), n.into());
        Tally {
            pass: u64::from(self.count(Status::Pass)),
            fail: u64::from(self.count(Status::Fail)),
            error: u64::from(self.count(Status::Error)),
        }
        .write(&mut outcome.evidence);
        outcome
            .evidence
            .insert("for_ms".into(), (self.sustain.as_millis() as u64).into());
        Some(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn run(sustain: u64, statuses: &str) -> TriggerState {
        let mut t = TriggerState::new("t", S * sustain as u32, S);
        for (i, c) in statuses.chars().enumerate() {
            let status = match c {
                'p' => Status::Pass,
                'f' => Status::Fail,
                'e' => Status::Error,
                'w' => Status::Warn,
                _ => unreachable!(),
            };
            t.observe(S * i as u32, Outcome::new(status, "x"));
        }
        t
    }

    #[test]
    fn a_breach_fires_only_once_it_has_lasted_its_for() {
        // for: 3s at 1 s: failures at 2,3,4 span 2 s; the fourth (5) makes 3 s.
        assert_eq!(run(3, "ppfffp").fired, None);
        assert_eq!(
            run(3, "ppffffp").fired,
            Some(Fired::Breach {
                since: S * 2,
                at: S * 5
            })
        );
        // `for: 0s` fires on the first failure.
        assert_eq!(run(0, "pf").fired, Some(Fired::Breach { since: S, at: S }));
    }

    #[test]
    fn a_pass_resets_the_breach_and_an_error_does_not() {
        assert_eq!(run(3, "ffpffpff").fired, None, "spikes shorter than for");
        // An error in the middle of a breach neither resets it nor fires it: the failure
        // after it, 3 s after the first, does.
        assert_eq!(run(3, "ffe").fired, None);
        assert_eq!(
            run(3, "ffeff").fired,
            Some(Fired::Breach {
                since: Duration::ZERO,
                at: S * 3
            })
        );
    }

    #[test]
    fn blindness_as_long_as_for_stops_the_watch_and_one_error_does_not() {
        assert_eq!(run(3, "pepep").fired, None);
        assert_eq!(
            run(3, "peeee").fired,
            Some(Fired::Blind {
                since: S,
                at: S * 4
            })
        );
        // With `for: 0s` blindness still needs two evaluations.
        assert_eq!(run(0, "pe").fired, None);
        assert!(run(0, "pee").fired.is_some());
    }

    #[test]
    fn the_verdict_says_what_happened() {
        let t = run(3, "ppffpp");
        let o = t.outcome(S * 6).expect("evaluated");
        assert_eq!(o.status, Status::Pass);
        assert!(
            o.message
                .starts_with("held at 6 evaluations over 6s; failed briefly (2 evaluations over 1s, under its for: 3s)"),
            "{}",
            o.message
        );
        assert_eq!(o.evidence["evaluations_fail"], 2);
        let o = run(3, "ppff").outcome(S * 4).expect("evaluated");
        assert_eq!(o.status, Status::Warn, "{}", o.message);
        assert!(o.message.contains("still failing when the watch ended"));
        let o = run(1, "pff").outcome(S * 3).expect("evaluated");
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.message
                .starts_with("failed at every evaluation for 1s (its for: 1s) from +1s to +2s: x"),
            "{}",
            o.message
        );
        assert!(run(1, "").outcome(S).is_none());
    }
}
