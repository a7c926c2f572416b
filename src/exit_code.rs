//! The exit-code table (DESIGN.md) and the one function that maps a run's tally to it.
//! Codes are added, never renumbered: CI configurations depend on them.

use checks::Status;

use crate::checklist::Severity;

/// Every gating item passed (or was confirmed / waived).
pub const OK: u8 = 0;
/// At least one gating item failed (or a human declined it).
pub const FAILED: u8 = 1;
/// Usage error or invalid checklist / config: nothing ran.
pub const USAGE: u8 = 2;
/// No failure, but a gating probe could not be evaluated.
pub const PROBE_ERROR: u8 = 3;
/// No failure or error, but gating manual items are pending.
pub const PENDING: u8 = 4;
/// Interrupted by Ctrl-C; the partial report was still written.
pub const INTERRUPTED: u8 = 130;

/// One line per code, for `--help` and the README.
pub const TABLE: &[(u8, &str)] = &[
    (OK, "every gating item passed"),
    (FAILED, "a gating item failed"),
    (USAGE, "usage error or invalid checklist: nothing ran"),
    (PROBE_ERROR, "a gating probe could not be evaluated"),
    (PENDING, "gating manual items are pending"),
    (INTERRUPTED, "interrupted"),
];

/// Whether an item of `severity` can change the exit code.
pub fn gates(severity: Severity, fail_on_warning: bool) -> bool {
    match severity {
        Severity::Critical => true,
        Severity::Warning => fail_on_warning,
        Severity::Info => false,
    }
}

/// Maps final item statuses to the exit code. Precedence: 1 > 3 > 4 > 0 (2 never gets here);
/// an interrupted run is 130 whatever finished.
pub fn exit_code<I>(items: I, fail_on_warning: bool, interrupted: bool) -> u8
where
    I: IntoIterator<Item = (Severity, Status)>,
{
    if interrupted {
        return INTERRUPTED;
    }
    let mut code = OK;
    for (severity, status) in items {
        if !gates(severity, fail_on_warning) {
            continue;
        }
        let item_code = match status {
            Status::Fail | Status::Declined => FAILED,
            Status::Warn if fail_on_warning => FAILED,
            Status::Error => PROBE_ERROR,
            Status::Pending => PENDING,
            Status::Pass | Status::Warn | Status::Skip | Status::Confirmed | Status::Waived => OK,
        };
        code = worse(code, item_code);
    }
    code
}

fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        FAILED => 3,
        PROBE_ERROR => 2,
        PENDING => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Severity::*;
    use Status::*;

    #[test]
    fn precedence_is_fail_then_error_then_pending() {
        assert_eq!(
            exit_code([(Critical, Pass), (Critical, Confirmed)], false, false),
            OK
        );
        assert_eq!(
            exit_code([(Critical, Pending), (Critical, Error)], false, false),
            PROBE_ERROR
        );
        assert_eq!(
            exit_code(
                [(Critical, Error), (Critical, Fail), (Critical, Pending)],
                false,
                false
            ),
            FAILED
        );
        assert_eq!(
            exit_code([(Critical, Pending), (Critical, Pass)], false, false),
            PENDING
        );
        assert_eq!(exit_code([(Critical, Declined)], false, false), FAILED);
        assert_eq!(exit_code([(Critical, Fail)], false, true), INTERRUPTED);
    }

    #[test]
    fn warnings_and_info_gate_only_when_asked() {
        assert_eq!(
            exit_code(
                [(Warning, Fail), (Info, Fail), (Critical, Warn)],
                false,
                false
            ),
            OK
        );
        assert_eq!(exit_code([(Warning, Fail)], true, false), FAILED);
        assert_eq!(exit_code([(Critical, Warn)], true, false), FAILED);
        assert_eq!(exit_code([(Info, Error)], true, false), OK);
    }
}
