//! The exit-code table (DESIGN.md). Codes are added, never renumbered: CI configurations
//! depend on them. Which verdict contributes which code is decided in `verdict`; which
//! user-facing failure maps to which code is decided in `error`.

/// Every gating item passed (or was confirmed / waived).
pub const OK: u8 = 0;
/// At least one gating item failed (or a human declined it).
pub const FAILED: u8 = 1;
/// Usage error or invalid checklist / config / state: nothing ran.
pub const USAGE: u8 = 2;
/// No failure, but a gating probe could not be evaluated.
pub const PROBE_ERROR: u8 = 3;
/// No failure or error, but gating manual items are pending.
pub const PENDING: u8 = 4;
/// prodcheck itself could not do its work: its runtime or the demo's servers did not start,
/// or a report could not be written after the run (a failed gate keeps 1).
pub const ENVIRONMENT: u8 = 5;
/// `--automated` only: no failure or error, but gating automated items are unconfigured
/// (variables unset). Without `--automated` they gate like pending manual items (4).
pub const UNCONFIGURED: u8 = 6;
/// Interrupted by Ctrl-C; the partial report was still written.
pub const INTERRUPTED: u8 = 130;

/// One line per code, for `--help` and the README.
pub const TABLE: &[(u8, &str)] = &[
    (OK, "every gating item passed"),
    (FAILED, "a gating item failed"),
    (USAGE, "usage error or invalid checklist: nothing ran"),
    (PROBE_ERROR, "a gating probe could not be evaluated"),
    (PENDING, "gating manual items are pending"),
    (
        ENVIRONMENT,
        "prodcheck could not do its own work (runtime, demo servers, writing a report)",
    ),
    (
        UNCONFIGURED,
        "--automated: gating items are unconfigured (variables unset)",
    ),
    (INTERRUPTED, "interrupted"),
];

/// The more serious of two codes of a finished run. Precedence: 1 > 3 > 6 > 4 > 0 (2 and 5 never
/// come from verdicts; 130 is decided before any verdict is compared).
pub fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        FAILED => 4,
        PROBE_ERROR => 3,
        UNCONFIGURED => 2,
        PENDING => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// What a run's code becomes when its reports could not be written: a failed gate or an
/// interruption keeps its code (the decision stands); anything else becomes 5, because a gate
/// must not pass without its evidence.
pub fn after_report_failure(run_code: u8) -> u8 {
    match run_code {
        FAILED | INTERRUPTED => run_code,
        _ => ENVIRONMENT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_fail_then_error_then_pending() {
        let fold = |codes: &[u8]| codes.iter().fold(OK, |a, b| worse(a, *b));
        assert_eq!(fold(&[OK, OK]), OK);
        assert_eq!(fold(&[PENDING, PROBE_ERROR]), PROBE_ERROR);
        assert_eq!(fold(&[PROBE_ERROR, FAILED, PENDING]), FAILED);
        assert_eq!(fold(&[PENDING, OK]), PENDING);
        assert_eq!(fold(&[PENDING, UNCONFIGURED]), UNCONFIGURED);
        assert_eq!(fold(&[UNCONFIGURED, PROBE_ERROR]), PROBE_ERROR);
    }

    #[test]
    fn a_report_that_cannot_be_written_never_leaves_a_pass() {
        assert_eq!(after_report_failure(OK), ENVIRONMENT);
        assert_eq!(after_report_failure(PENDING), ENVIRONMENT);
        assert_eq!(after_report_failure(UNCONFIGURED), ENVIRONMENT);
        assert_eq!(after_report_failure(PROBE_ERROR), ENVIRONMENT);
        assert_eq!(after_report_failure(FAILED), FAILED);
        assert_eq!(after_report_failure(INTERRUPTED), INTERRUPTED);
    }
}
