//! A fleet's reports written as its targets finish, so memory stays flat as the fleet grows:
//! each target's part of every requested format goes to a temporary file and its counts into
//! bounded folds; at the end each document is put together, byte for byte what rendering the
//! whole report gives. Streams the formats a fleet run writes in bulk (JSON and human); the
//! others still render the whole report ([`FleetSink::streams`] tells which).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::PathBuf;
use std::time::Duration;

use super::human_fleet::FleetFold;
use super::json::{self, ITEMS_SLOT};
use super::{Format, HumanReporter, Report, ReportTarget, TargetReport};
use crate::exit_code;
use crate::status::Status;

/// Where the targets go in the pretty-printed JSON document (`title` always follows them).
const TARGETS_SLOT: &str = "\n  \"targets\": [],\n";

/// Every requested report of a fleet run, written a target at a time.
pub struct FleetSink {
    outputs: Vec<Output>,
    verbosity: u8,
    /// The first target's view without its items: checklist, title, file, start.
    head: Option<Report>,
    targets: usize,
    summary: BTreeMap<&'static str, usize>,
    /// The worst item exit code so far.
    exit_code: u8,
}

/// One requested report: its format, where it goes, and what is written of it so far.
struct Output {
    format: Format,
    path: Option<PathBuf>,
    /// JSON: the items, each as the document writes it; human: the targets' parts.
    parts: BufWriter<File>,
    /// JSON: the `targets` entries.
    entries: BufWriter<File>,
    /// Items (JSON) written so far.
    written: usize,
    /// Human: the bounded fold of the targets written so far, and whether the text so far
    /// (from its heading on, which ends with a blank line) ends with a blank line.
    fold: FleetFold,
    ends_blank: bool,
}

impl FleetSink {
    /// Whether every requested format can be streamed (the human report to stdout unless
    /// another report claims it).
    pub fn streams(targets: &[ReportTarget]) -> bool {
        targets
            .iter()
            .all(|t| matches!(t.format, Format::Human | Format::Json))
    }

    /// The sink of the reports `targets` asks for (human to stdout unless one claims it).
    pub fn new(targets: &[ReportTarget], verbosity: u8) -> io::Result<FleetSink> {
        let stdout_claimed = targets.iter().any(|t| t.path.is_none());
        let implicit = (!stdout_claimed).then_some(ReportTarget {
            format: Format::Human,
            path: None,
        });
        let outputs = implicit
            .iter()
            .chain(targets)
            .map(|t| {
                Ok(Output {
                    format: t.format,
                    path: t.path.clone(),
                    parts: BufWriter::new(tempfile::tempfile()?),
                    entries: BufWriter::new(tempfile::tempfile()?),
                    written: 0,
                    fold: FleetFold::default(),
                    ends_blank: true,
                })
            })
            .collect::<io::Result<Vec<Output>>>()?;
        Ok(FleetSink {
            outputs,
            verbosity,
            head: None,
            targets: 0,
            summary: Status::ALL.iter().map(|s| (s.as_str(), 0)).collect(),
            exit_code: exit_code::OK,
        })
    }

    /// The worst exit code of the items written so far.
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }

    /// Writes `target`'s part (its `view`, items naming it) of every report.
    pub fn add(&mut self, target: &TargetReport, view: &Report) -> io::Result<()> {
        self.targets += 1;
        for item in &view.items {
            *self.summary.entry(item.status.as_str()).or_default() += 1;
            self.exit_code = exit_code::worse(self.exit_code, item.exit_code);
        }
        if self.head.is_none() {
            self.head = Some(view.clone_head());
        }
        let human = HumanReporter {
            verbosity: self.verbosity,
        };
        for out in &mut self.outputs {
            match out.format {
                Format::Json => {
                    let mut text = String::new();
                    for item in &view.items {
                        if out.written > 0 {
                            text.push_str(",\n");
                        }
                        let value = serde_json::to_value(item).unwrap_or(serde_json::Value::Null);
                        json::element(&value, &mut text);
                        out.written += 1;
                    }
                    out.parts.write_all(text.as_bytes())?;
                    let mut entry = String::new();
                    if self.targets > 1 {
                        entry.push_str(",\n");
                    }
                    json::element(&json::target_value(target, view.summary()), &mut entry);
                    out.entries.write_all(entry.as_bytes())?;
                }
                _ => {
                    let mut text = String::new();
                    plain_if(out.path.is_some(), || {
                        human.fleet_part(target, view, &mut out.fold, &mut text)
                    });
                    if !text.is_empty() {
                        out.ends_blank = text.ends_with("\n\n");
                    }
                    out.parts.write_all(text.as_bytes())?;
                }
            }
        }
        Ok(())
    }

    /// Puts every report together, in the order they were asked for (the human report first
    /// when it goes to stdout unasked), and returns the run's exit code.
    pub fn finish(
        self,
        environment: Option<String>,
        duration: Duration,
        interrupted: bool,
    ) -> Result<u8, (String, u8)> {
        let code = if interrupted {
            exit_code::INTERRUPTED
        } else {
            self.exit_code
        };
        let Some(head) = self.head else {
            return Err(("no target was run".into(), code));
        };
        let report = Report {
            environment,
            duration,
            exit_code: code,
            interrupted,
            ..head
        };
        let human = HumanReporter {
            verbosity: self.verbosity,
        };
        for out in self.outputs {
            let plain = out.path.is_some();
            let frame = match out.format {
                Format::Json => json_frame(&report, &self.summary, out.written)
                    .map_err(|e| (format!("cannot write the JSON report: {e}"), code))?,
                _ => plain_if(plain, || {
                    let count = format!(" · {} targets", self.targets);
                    let end =
                        human.fleet_end(&out.fold, out.ends_blank, &self.summary, code, duration);
                    (human.heading(&report, &count), String::new(), end)
                }),
            };
            write_out(out, frame).map_err(|e| (e, code))?;
        }
        Ok(code)
    }
}

impl Report {
    /// A copy of everything but the items, changes and recent runs.
    fn clone_head(&self) -> Report {
        Report {
            checklist: self.checklist.clone(),
            title: self.title.clone(),
            file: self.file.clone(),
            environment: self.environment.clone(),
            started_at: self.started_at,
            duration: self.duration,
            exit_code: self.exit_code,
            interrupted: self.interrupted,
            fail_on_warning: self.fail_on_warning,
            items: Vec::new(),
            changes: None,
            recent_runs: Vec::new(),
            watch: None,
            targets: Vec::new(),
        }
    }
}

/// The text around a report's streamed parts: `.0` + parts + `.1` + entries + `.2`.
type Frame = (String, String, String);

/// The JSON document split where the items and the targets go (as `JsonReporter` writes it).
fn json_frame(
    report: &Report,
    summary: &BTreeMap<&'static str, usize>,
    items: usize,
) -> Result<Frame, String> {
    let mut doc = json::document(report, summary.clone());
    doc["targets"] = serde_json::json!([]);
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    let (upto_targets, after) = text
        .split_once(TARGETS_SLOT)
        .ok_or("no `targets` in the document")?;
    let open_targets = "\n  \"targets\": [\n";
    let close = format!("\n  ],\n{after}\n");
    match upto_targets.split_once(ITEMS_SLOT) {
        Some((head, middle)) if items > 0 => Ok((
            format!("{head}\n  \"items\": [\n"),
            format!("\n  ],\n{middle}{open_targets}"),
            close,
        )),
        _ => Ok((
            format!("{upto_targets}{open_targets}"),
            String::new(),
            close,
        )),
    }
}

/// Writes one report: its frame around its parts, to its file or stdout.
fn write_out(out: Output, frame: Frame) -> Result<(), String> {
    let parts = rewind(out.parts).map_err(|e| format!("cannot read back a report part: {e}"))?;
    let entries =
        rewind(out.entries).map_err(|e| format!("cannot read back a report part: {e}"))?;
    let write = |sink: &mut dyn Write| -> io::Result<()> {
        sink.write_all(frame.0.as_bytes())?;
        io::copy(&mut &parts, sink)?;
        sink.write_all(frame.1.as_bytes())?;
        io::copy(&mut &entries, sink)?;
        sink.write_all(frame.2.as_bytes())?;
        sink.flush()
    };
    match &out.path {
        None => write(&mut io::stdout().lock()).map_err(|e| format!("cannot write to stdout: {e}")),
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
            }
            let done = File::create(path).and_then(|f| write(&mut BufWriter::new(f)));
            done.map_err(|e| format!("cannot write report `{}`: {e}", path.display()))
        }
    }
}

/// The temporary file behind `w`, flushed and read from its start.
fn rewind(w: BufWriter<File>) -> io::Result<File> {
    let mut file = w.into_inner().map_err(|e| e.into_error())?;
    file.rewind()?;
    Ok(file)
}

/// Runs `render` with colours off when the report goes to a file (as `emit_reports` does).
fn plain_if<T>(plain: bool, render: impl FnOnce() -> T) -> T {
    if !plain {
        return render();
    }
    let saved = colored::control::SHOULD_COLORIZE.should_colorize();
    colored::control::set_override(false);
    let out = render();
    colored::control::set_override(saved);
    out
}
