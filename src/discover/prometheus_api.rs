//! Prometheus's HTTP API as discovery asks it: one paced GET per call through the pacer, the
//! `data` of a `success` answer, size-capped.

use serde_json::Value;

use super::polite::Pacer;

/// Prometheus answers read up to this size (the target list of a large server is big).
const CAP: u64 = 4 * 1024 * 1024;

pub(super) struct Api<'a> {
    pub(super) pacer: &'a Pacer,
    pub(super) base: String,
}

impl Api<'_> {
    pub(super) fn url(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut u = match url::Url::parse(&format!("{}{path}", self.base)) {
            Ok(u) => u,
            Err(_) => return format!("{}{path}", self.base),
        };
        if !params.is_empty() {
            u.query_pairs_mut().extend_pairs(params);
        }
        u.to_string()
    }

    /// `data` of a successful API answer.
    pub(super) async fn data(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let url = self.url(path, params);
        let page = self
            .pacer
            .get(&url, &[("accept", "application/json")], CAP)
            .await
            .map_err(|r| r.reason().to_string())?;
        if page.body.truncated {
            return Err(format!(
                "{path}: the answer is larger than {} MiB",
                CAP >> 20
            ));
        }
        let doc: Value = serde_json::from_slice(&page.body.bytes)
            .map_err(|_| format!("{path} answered {} with no JSON", page.status))?;
        if doc["status"] != "success" {
            let why = doc["error"].as_str().unwrap_or("no error text");
            return Err(format!("{path} answered {}: {why}", page.status));
        }
        Ok(doc["data"].clone())
    }

    /// The label names of the series `selector` matches (none when unanswered).
    pub(super) async fn labels(&self, selector: &str) -> Vec<String> {
        self.strings("/api/v1/labels", &[("match[]", selector)])
            .await
    }

    pub(super) async fn strings(&self, path: &str, params: &[(&str, &str)]) -> Vec<String> {
        self.data(path, params)
            .await
            .ok()
            .and_then(|d| d.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
}
