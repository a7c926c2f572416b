//! What a watch shows while it runs: on a terminal a live view (what is watched, the last value
//! of each trigger, time left), in CI one plain line per evaluation. Both go to stderr.

use std::time::Duration;

use checks::Status;
use colored::Colorize;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::series::short;
use super::{TriggerState, View, Window};
use crate::redact::Redactor;

/// A trigger's last value with its unit: `0.0123`, `430ms` …
fn value(t: &TriggerState) -> String {
    match t.series.samples().last().and_then(|s| s.value) {
        Some(v) => t.series.show(v),
        None => String::new(),
    }
}

fn last_status(t: &TriggerState) -> Option<Status> {
    t.last.as_ref().map(|o| o.status)
}

/// `pass 0.012`, `FAIL 0.31 (failing for 40s of its for: 5m)`, `FIRED …`.
fn trigger_text(t: &TriggerState, at: Duration) -> String {
    let Some(status) = last_status(t) else {
        return "waiting".into();
    };
    let word = if t.fired.is_some() {
        "FIRED".to_string()
    } else if status == Status::Pass {
        "pass".to_string()
    } else {
        status.as_str().to_uppercase()
    };
    let mut text = word;
    let v = value(t);
    if !v.is_empty() {
        text.push(' ');
        text.push_str(&v);
    }
    if let Some(state) = t.state_line(at) {
        text.push_str(&format!(" ({state})"));
    }
    text
}

/// One line per evaluation, for CI logs: `watch +1m30s 4/21: id pass 0.01 · id FAIL …`.
pub struct LineView {
    pub window: Window,
}

impl View for LineView {
    fn evaluated(&mut self, n: u32, at: Duration, triggers: &[TriggerState]) {
        let parts: Vec<String> = triggers
            .iter()
            .map(|t| format!("{} {}", t.id, trigger_text(t, at)))
            .collect();
        eprintln!(
            "watch +{} {n}/{}: {}",
            short(at),
            self.window.evaluations(),
            parts.join(" · ")
        );
    }
    fn tick(&mut self, _: Duration, _: &[TriggerState]) {}
    fn done(&mut self) {}
}

/// A live view on a terminal: a header with the time left and a line per trigger with its
/// last value and the last message of a trigger that is not passing.
pub struct LiveView {
    window: Window,
    what: String,
    multi: MultiProgress,
    header: ProgressBar,
    lines: Vec<ProgressBar>,
    redactor: Redactor,
}

impl LiveView {
    pub fn new(window: Window, what: &str, ids: &[String], redactor: Redactor) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let header = multi.add(ProgressBar::new_spinner());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {wide_msg}") {
            header.set_style(style);
        }
        header.enable_steady_tick(Duration::from_millis(120));
        let width = ids.iter().map(|i| i.len()).max().unwrap_or(0);
        let lines = ids
            .iter()
            .map(|id| {
                let bar = multi.add(ProgressBar::new_spinner());
                if let Ok(style) = ProgressStyle::with_template("  {prefix} {wide_msg}") {
                    bar.set_style(style);
                }
                bar.set_prefix(format!("{id:<width$}"));
                bar.set_message("waiting for the first evaluation".dimmed().to_string());
                bar
            })
            .collect();
        let mut view = LiveView {
            window,
            what: what.to_string(),
            multi,
            header,
            lines,
            redactor,
        };
        view.tick(Duration::ZERO, &[]);
        view
    }
}

impl View for LiveView {
    fn evaluated(&mut self, _: u32, at: Duration, triggers: &[TriggerState]) {
        for (bar, t) in self.lines.iter().zip(triggers) {
            let mut text = trigger_text(t, at);
            let status = last_status(t);
            if status.is_some_and(|s| s != Status::Pass)
                && let Some(last) = &t.last
            {
                text.push_str(&format!(" — {}", self.redactor.redact(&last.message)));
            }
            let text = match (t.fired.is_some(), status) {
                (true, _) | (_, Some(Status::Fail)) => text.red().to_string(),
                (_, Some(Status::Error | Status::Warn)) => text.yellow().to_string(),
                (_, Some(Status::Pass)) => text.green().to_string(),
                _ => text,
            };
            bar.set_message(text);
        }
        self.tick(at, triggers);
    }

    fn tick(&mut self, at: Duration, _: &[TriggerState]) {
        let left = self.window.length.saturating_sub(at);
        self.header.set_message(format!(
            "watching {} — {} left of {}, every {}",
            self.what,
            short(left),
            short(self.window.length),
            short(self.window.every)
        ));
    }

    fn done(&mut self) {
        for bar in &self.lines {
            bar.finish_and_clear();
        }
        self.header.finish_and_clear();
        let _ = self.multi.clear();
    }
}
