//! The figures other layers read from a probe's evidence, as types: reports, `serve`, `watch`
//! and the HTML pictures read these, probes write them, and the JSON evidence is their form.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::no_answer::NoAnswer;
use crate::outcome::{Evidence, Outcome, Status};

/// A set of figures a probe records at the top level of its evidence, one key a field.
pub trait Figures: Serialize + DeserializeOwned {
    /// These figures as `evidence` holds them; `None` when the probe did not record them.
    fn read(evidence: &Evidence) -> Option<Self> {
        serde_json::from_value(serde_json::Value::Object(evidence.clone())).ok()
    }

    /// Writes these figures into `evidence`.
    fn write(&self, evidence: &mut Evidence) {
        if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(self) {
            evidence.extend(map);
        }
    }
}

impl Outcome {
    /// This outcome with `figures` written into its evidence.
    pub fn with_figures(mut self, figures: &impl Figures) -> Self {
        figures.write(&mut self.evidence);
        self
    }
}

/// `tls`: every certificate of the chain the server presented (`chain`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertChain {
    pub chain: Vec<ChainCert>,
}
impl Figures for CertChain {}

/// One certificate of a chain: days left against the thresholds its lifetime resolves to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainCert {
    pub subject: String,
    /// RFC 3339.
    pub not_after: String,
    pub days_left: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_days: Option<i64>,
}

/// `tls`: when the certificate that expires first does (`earliest_expiring`), else the
/// server's own (`not_after`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertExpiry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_expiring: Option<Expiring>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
}
impl Figures for CertExpiry {}

/// The certificate of a chain that expires first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expiring {
    #[serde(default)]
    pub position: usize,
    #[serde(default)]
    pub subject: String,
    /// RFC 3339.
    pub not_after: String,
    #[serde(default)]
    pub days_left: i64,
}

impl CertExpiry {
    /// Unix seconds at which the earliest-expiring certificate (else the server's) expires.
    pub fn expires_at(&self) -> Option<f64> {
        let text = match &self.earliest_expiring {
            Some(e) => &e.not_after,
            None => self.not_after.as_ref()?,
        };
        let at = humantime::parse_rfc3339(text).ok()?;
        Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64())
    }
}

/// `security_headers`: the Observatory grade and score, and what each header test scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeaderGrade {
    /// The URL asked for.
    pub url: String,
    /// Where redirects ended, when elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    pub grade: String,
    pub score: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_grade: Option<String>,
    pub findings: Vec<HeaderFinding>,
}
impl Figures for HeaderGrade {}

/// The result of one header test: the points it added or took (`modifier`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderFinding {
    /// The header the test is about (`Strict-Transport-Security`).
    pub header: String,
    /// `pass`, `warn` or `fail`.
    pub status: Status,
    /// The Observatory result name (`hsts-implemented-max-age-less-than-six-months`).
    pub result: String,
    /// Points added to or taken from the score.
    pub modifier: i32,
    /// What is wrong and what good looks like.
    pub message: String,
}

/// `latency`: the percentiles of the samples, the item's bounds on them, the error rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyFigures {
    pub url: String,
    pub sample_count: u64,
    #[serde(flatten)]
    pub percentiles: Percentiles,
    /// The item's bounds (`max:`), present when it sets any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Percentiles>,
    /// Share of samples that were errors, in percent.
    pub error_rate: f64,
}
impl Figures for LatencyFigures {}

/// p50, p95, p99 and the slowest, in milliseconds (each absent when unknown).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<f64>,
}

impl Percentiles {
    /// `(name, milliseconds)` of each known figure, p50 first.
    pub fn named(&self) -> Vec<(&'static str, Option<f64>)> {
        vec![
            ("p50", self.p50_ms),
            ("p95", self.p95_ms),
            ("p99", self.p99_ms),
            ("max", self.max_ms),
        ]
    }
}

/// `http`: the time to the response of the last request, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseTime {
    pub latency_ms: u64,
}
impl Figures for ResponseTime {}

/// `disk`: the free share of the filesystem, in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskFree {
    pub free_percent: f64,
}
impl Figures for DiskFree {}

/// `file`: the age of the newest matching file, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileAge {
    pub age_s: u64,
}
impl Figures for FileAge {}

/// `prometheus`: the samples a query returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryValues {
    pub values: Vec<QuerySample>,
}
impl Figures for QueryValues {}

/// One sample: its labels and its value (a number, or Prometheus' text for one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuerySample {
    pub series: serde_json::Value,
    pub value: serde_json::Value,
}

/// A probe's one number and its unit: what a watched trigger judges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub value: f64,
    /// `ms`, or empty for a plain number.
    pub unit: &'static str,
}

impl Reading {
    /// A Prometheus query's first value, else a latency item's p99 (p95), else an HTTP
    /// item's response time.
    pub fn of(evidence: &Evidence) -> Option<Reading> {
        let number = |v: &serde_json::Value| match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        };
        if let Some(first) = QueryValues::read(evidence).and_then(|q| q.values.into_iter().next()) {
            return number(&first.value).map(|value| Reading { value, unit: "" });
        }
        let ms = |value| Reading { value, unit: "ms" };
        let p = Percentiles::read(evidence).unwrap_or_default();
        p.p99_ms
            .or(p.p95_ms)
            .or_else(|| ResponseTime::read(evidence).map(|t| t.latency_ms as f64))
            .map(ms)
    }
}
impl Figures for Percentiles {}

/// Where a web item's request went (`url`, else `base_url`) and the proxy it went through
/// (`proxy`, credentials redacted), which the runner adds when the probe did not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Via {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Written as `proxy` in the evidence; named apart from the `proxy` parameter in code.
    #[serde(rename = "proxy", default, skip_serializing_if = "Option::is_none")]
    pub proxy_used: Option<serde_json::Value>,
}
impl Figures for Via {}

/// A probe that panicked: what it said (the runner records it; a retry would not help).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternalError {
    pub internal_error: String,
}
impl Figures for InternalError {}

/// Why a probe got no answer it could judge (`no_answer`: a [`NoAnswer`] name), written by
/// the network probes and `dns` under the rule in `no_answer.rs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unanswered {
    pub no_answer: String,
}
impl Figures for Unanswered {}

impl Unanswered {
    /// The typed reason; `None` for a name this build does not know.
    pub fn why(&self) -> Option<NoAnswer> {
        NoAnswer::from_name(&self.no_answer)
    }
}

/// `tls`: whether the presented chain verifies to a trusted root (expiry aside) and whether
/// the server's certificate matches the name asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertTrust {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname_match: Option<bool>,
}
impl Figures for CertTrust {}

#[cfg(test)]
#[path = "figures_tests.rs"]
mod tests;
