//! Durations written the short way every report, view and message shows them (`430ms`,
//! `1m 30s`), in one place so the terminal, HTML and the watch agree.

use std::time::Duration;

/// `1m 30s` for a duration rounded to the second (milliseconds under one).
pub fn short(d: Duration) -> String {
    if d < Duration::from_secs(1) && !d.is_zero() {
        return format!("{}ms", d.as_millis());
    }
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}
