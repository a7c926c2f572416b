//! Secret redaction: every value that came from `${env:…}` is replaced by `***` in every
//! report, message, history line and error — including its percent-encoded form in URLs.

use std::sync::RwLock;

use serde_json::Value;

/// The secrets of the checklist being run, for output that no report sees (panic messages).
static ACTIVE: RwLock<Option<Redactor>> = RwLock::new(None);

/// Makes `redactor` the one the panic hook applies.
pub fn activate(redactor: &Redactor) {
    if let Ok(mut slot) = ACTIVE.write() {
        *slot = Some(redactor.clone());
    }
}

/// Replaces the default panic output with a redacted one-line report: a panic is a bug in
/// prodcheck, and its message may quote a value that came from `${env:…}`.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        // `prodcheck show … | head`: the reader went away. Not a bug; end as a process killed
        // by SIGPIPE would (128 + 13), quietly, as `cat` and `grep` do.
        if payload.starts_with("failed printing to std") && payload.contains("Broken pipe") {
            std::process::exit(141);
        }
        let message = match ACTIVE.read() {
            Ok(guard) => guard
                .as_ref()
                .map(|r| r.redact(&payload))
                .unwrap_or(payload),
            Err(_) => "(message withheld)".to_string(),
        };
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "prodcheck: internal error{place}: {message}\nThis is a bug in prodcheck; please report it."
        );
    }));
}

/// Replaces known secret values with `***`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    needles: Vec<String>,
}

/// Secrets shorter than this are not redacted: replacing every `a` would wreck the report
/// while protecting nothing.
const MIN_SECRET_LEN: usize = 3;

impl Redactor {
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(secrets: I) -> Self {
        let mut needles = Vec::new();
        for s in secrets {
            let s = s.as_ref();
            if s.chars().count() < MIN_SECRET_LEN {
                continue;
            }
            needles.push(s.to_string());
            let encoded = percent_encode(s, b"");
            if encoded != s {
                needles.push(encoded);
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Redactor { needles }
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), "***");
            }
        }
        out
    }

    pub fn redact_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.redact(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => {
                let old = std::mem::take(map);
                for (k, mut v) in old {
                    self.redact_json(&mut v);
                    map.insert(self.redact(&k), v);
                }
            }
            _ => {}
        }
    }
}

/// `s` with every byte percent-encoded except ASCII letters, digits, `-._~` (RFC 3986's
/// unreserved characters: a URL component) and `keep`.
pub fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_plain_and_percent_encoded_forms() {
        let r = Redactor::new(["p@ss word", "ab"]);
        assert_eq!(r.redact("user:p@ss word@h"), "user:***@h");
        assert_eq!(
            r.redact("url=redis://:p%40ss%20word@h"),
            "url=redis://:***@h"
        );
        assert_eq!(r.redact("ab stays"), "ab stays");
        let mut v = serde_json::json!({"k": ["x p@ss word"], "p@ss word": 1});
        r.redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"k": ["x ***"], "***": 1}));
    }
}
