//! One exit-code assertion for the whole suite: when the code is wrong it shows what the run
//! said (the report on stdout, the diagnostics on stderr), so a failure explains itself.

use crate::support::cli::Ran;

/// Something that ended with an exit code and can show what it reported.
pub trait Exited {
    fn exit_code(&self) -> i32;
    fn shown(&self) -> String;
}

impl Exited for Ran {
    fn exit_code(&self) -> i32 {
        self.code
    }

    fn shown(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }
}

/// The exit code of a one-item run with that item's JSON (what the per-probe helpers return).
impl Exited for (i32, &serde_json::Value) {
    fn exit_code(&self) -> i32 {
        self.0
    }

    fn shown(&self) -> String {
        format!("--- report ---\n{:#}", self.1)
    }
}

/// Asserts that `ran` exited with `code`; on a mismatch panics with both codes, the optional
/// `context` and what the run reported. Use through [`assert_code!`].
#[track_caller]
pub fn check_code(ran: &impl Exited, code: i32, context: Option<String>) {
    if ran.exit_code() != code {
        let context = context.map(|c| format!(" ({c})")).unwrap_or_default();
        panic!(
            "exit code {} where {code} was expected{context}\n{}",
            ran.exit_code(),
            ran.shown()
        );
    }
}

/// `assert_code!(ran, 0)` or `assert_code!(ran, 1, "after {n} runs")`: the exit code of a
/// finished run, showing its report and diagnostics when it differs. For the one-item helpers
/// that return `(code, item)`: `assert_code!((code, &it), 1)`.
macro_rules! assert_code {
    ($ran:expr, $code:expr $(,)?) => {
        $crate::support::check_code(&$ran, $code, None)
    };
    ($ran:expr, $code:expr, $($context:tt)+) => {
        $crate::support::check_code(&$ran, $code, Some(format!($($context)+)))
    };
}
pub(crate) use assert_code;

/// Asserts that report item `id` ended with `status`; on a mismatch shows the whole item (its
/// message and evidence).
#[track_caller]
pub fn assert_status(report: &serde_json::Value, id: &str, status: &str) {
    let it = crate::support::item(report, id);
    assert_eq!(it["status"], status, "item `{id}`:\n{it:#}");
}

/// Asserts a one-item run's `(code, item)`: its exit code, its status and a phrase of its
/// message, showing the item on a mismatch; returns the item for further checks.
#[track_caller]
pub fn assert_item(
    (code, it): (i32, serde_json::Value),
    expected: i32,
    status: &str,
    phrase: &str,
) -> serde_json::Value {
    check_code(&(code, &it), expected, None);
    assert_eq!(it["status"], status, "{it:#}");
    let message = crate::support::item_message(&it);
    assert!(
        message.contains(phrase),
        "no {phrase:?} in the message:\n{it:#}"
    );
    it
}
