//! The values a watched trigger took over the window, kept in bounded memory: past
//! [`MAX_SAMPLES`] neighbouring samples merge (the worse status wins), so an hour at 1 s costs
//! what ten minutes do.

use checks::{Evidence, Status};
use serde::Serialize;
use serde::ser::SerializeStruct;

pub use crate::units::short;

/// Samples kept per trigger before neighbours merge.
pub const MAX_SAMPLES: usize = 2048;

/// One evaluation of a trigger (or several merged ones).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Offset from the start of the watch.
    #[serde(rename = "t_ms")]
    pub at_ms: u64,
    pub status: Status,
    /// The number the trigger judged (query result, p99, latency), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// How bad a status is for a trigger: a breach outranks blindness, which outranks a pass.
fn rank(s: Status) -> u8 {
    match s {
        Status::Fail => 4,
        Status::Error => 3,
        Status::Warn => 2,
        Status::Pass => 1,
        Status::Skip => 0,
    }
}

/// `a` and the later `b` as one sample: the start of `a`, the worse status and its value.
fn merge(a: Sample, b: Sample) -> Sample {
    let worse = if rank(a.status) > rank(b.status) {
        a
    } else {
        b
    };
    Sample {
        at_ms: a.at_ms,
        status: worse.status,
        value: worse.value,
    }
}

/// A trigger's samples, at most [`MAX_SAMPLES`] of them whatever the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// How many evaluations each stored sample stands for (doubles at each merge).
    stride: u32,
    samples: Vec<Sample>,
    /// The sample being filled while `stride > 1`, and how many evaluations it holds.
    pending: Option<(Sample, u32)>,
    evaluations: u32,
    /// The values' unit (`ms` for latencies, empty for a query result).
    unit: &'static str,
}

impl Default for Series {
    fn default() -> Self {
        Series {
            stride: 1,
            samples: Vec::new(),
            pending: None,
            evaluations: 0,
            unit: "",
        }
    }
}

impl Series {
    /// Records the unit of the values (the first one seen sticks).
    pub fn set_unit(&mut self, unit: &'static str) {
        if self.unit.is_empty() {
            self.unit = unit;
        }
    }

    pub fn unit(&self) -> &'static str {
        self.unit
    }

    /// `0.0123`, `430ms`: a value as the views and reports print it.
    pub fn show(&self, v: f64) -> String {
        let text = if v.abs() >= 1000.0 || v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.4}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        };
        format!("{text}{}", self.unit)
    }

    pub fn push(&mut self, sample: Sample) {
        self.evaluations += 1;
        let (merged, count) = match self.pending.take() {
            Some((p, n)) => (merge(p, sample), n + 1),
            None => (sample, 1),
        };
        if count < self.stride {
            self.pending = Some((merged, count));
            return;
        }
        self.samples.push(merged);
        if self.samples.len() >= MAX_SAMPLES {
            self.samples = self
                .samples
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => merge(*a, *b),
                    [a] => *a,
                    _ => unreachable!("chunks(2) yields one or two samples"),
                })
                .collect();
            self.stride *= 2;
        }
    }

    /// Stored samples, oldest first (the one being filled last).
    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .chain(self.pending.iter().map(|(s, _)| s))
    }

    pub fn evaluations(&self) -> u32 {
        self.evaluations
    }

    /// How many evaluations had each status.
    pub fn count(&self, status: Status) -> usize {
        // Merged samples hide counts; the watch keeps exact counts in its trigger state.
        self.samples().filter(|s| s.status == status).count()
    }

    /// The largest value seen (for a one-line summary).
    pub fn max_value(&self) -> Option<f64> {
        self.samples()
            .filter_map(|s| s.value)
            .fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v))))
    }
}

impl Serialize for Series {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let samples: Vec<&Sample> = self.samples().collect();
        let mut st = s.serialize_struct("Series", 4)?;
        st.serialize_field("evaluations", &self.evaluations)?;
        if !self.unit.is_empty() {
            st.serialize_field("unit", self.unit)?;
        }
        st.serialize_field("evaluations_per_sample", &self.stride)?;
        st.serialize_field("samples", &samples)?;
        st.end()
    }
}

/// The number a trigger judged, read from its probe's evidence: a Prometheus query's first
/// value, a latency probe's p99, an HTTP probe's latency.
pub fn value_of(evidence: &Evidence) -> Option<(f64, &'static str)> {
    let number = |v: &serde_json::Value| match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if let Some(first) = evidence
        .get("values")
        .and_then(|v| v.as_array())
        .and_then(|a| a.first())
    {
        return first.get("value").and_then(number).map(|v| (v, ""));
    }
    ["p99_ms", "p95_ms", "latency_ms"]
        .iter()
        .find_map(|k| evidence.get(*k).and_then(number))
        .map(|v| (v, "ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: u64, status: Status, value: f64) -> Sample {
        Sample {
            at_ms,
            status,
            value: Some(value),
        }
    }

    #[test]
    fn memory_is_bounded_and_a_single_failure_survives_every_merge() {
        let mut series = Series::default();
        // One hour at one evaluation per second, one failure in the middle.
        for t in 0..3600u64 {
            let status = if t == 1800 {
                Status::Fail
            } else {
                Status::Pass
            };
            series.push(sample(t * 1000, status, t as f64));
        }
        assert_eq!(series.evaluations(), 3600);
        let stored: Vec<&Sample> = series.samples().collect();
        assert!(stored.len() <= MAX_SAMPLES, "{} samples", stored.len());
        assert!(stored.len() >= MAX_SAMPLES / 2);
        assert_eq!(series.count(Status::Fail), 1, "the failure was merged away");
        let fail = stored
            .iter()
            .find(|s| s.status == Status::Fail)
            .expect("a fail");
        assert_eq!(
            fail.value,
            Some(1800.0),
            "the failing sample keeps its value"
        );
        assert!(stored.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
        // A day costs no more than an hour.
        for t in 3600..86_400u64 {
            series.push(sample(t * 1000, Status::Pass, 0.0));
        }
        assert!(series.samples().count() <= MAX_SAMPLES);
    }

    #[test]
    fn values_come_from_each_probe_kinds_evidence() {
        let ev = |v: serde_json::Value| v.as_object().expect("an object").clone();
        assert_eq!(
            value_of(&ev(
                serde_json::json!({"values": [{"series": {}, "value": 0.25}]})
            )),
            Some((0.25, ""))
        );
        assert_eq!(
            value_of(&ev(serde_json::json!({"p50_ms": 1, "p99_ms": 430.5}))),
            Some((430.5, "ms"))
        );
        assert_eq!(
            value_of(&ev(serde_json::json!({"latency_ms": 12}))),
            Some((12.0, "ms"))
        );
        assert_eq!(value_of(&ev(serde_json::json!({"status": 200}))), None);
    }
}
