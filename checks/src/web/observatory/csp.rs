//! Content-Security-Policy parsing and the Observatory CSP test: fallbacks to `default-src`,
//! nonces and hashes, `'strict-dynamic'`, broad sources, unsafe tokens, report-only.

use std::collections::{BTreeMap, BTreeSet};

use super::grade::Finding;

const HEADER: &str = "Content-Security-Policy";
/// Sources that allow almost anything ("DANGEROUSLY_BROAD").
const BROAD: [&str; 8] = [
    "ftp:",
    "http:",
    "https:",
    "*",
    "http://*",
    "http://*.*",
    "https://*",
    "https://*.*",
];
const UNSAFE_INLINE: [&str; 2] = ["'unsafe-inline'", "data:"];
const PASSIVE: [&str; 2] = ["img-src", "media-src"];
/// Directives whose sources load no content (reporting, framing).
const NOT_CONTENT: [&str; 3] = ["report-uri", "report-to", "frame-ancestors"];

/// A parsed policy: directive → lowercased sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub directives: BTreeMap<String, BTreeSet<String>>,
    /// A directive appeared twice in one policy (the browser uses the first).
    pub duplicates: bool,
}

impl Policy {
    pub fn get(&self, name: &str) -> Option<&BTreeSet<String>> {
        self.directives.get(name)
    }

    /// `script-src`, `style-src`, `object-src`… with the `default-src` then `*` fallback.
    pub fn effective(&self, name: &str) -> BTreeSet<String> {
        self.get(name)
            .or_else(|| self.get("default-src"))
            .cloned()
            .unwrap_or_else(|| BTreeSet::from(["*".to_string()]))
    }
}

/// Parses every CSP header value (several headers, or comma-separated policies, are all
/// enforced by browsers, so a directive present in several keeps only common sources).
pub fn parse(values: &[&str]) -> Result<Policy, String> {
    let mut merged = Policy::default();
    for policy_text in values.iter().flat_map(|v| v.split(',')) {
        let mut policy: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for directive in policy_text.split(';') {
            let mut tokens = directive.split_ascii_whitespace();
            let Some(name) = tokens.next() else { continue };
            let name = name.to_ascii_lowercase();
            if !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(format!("`{name}` is not a directive name"));
            }
            if policy.contains_key(&name) {
                merged.duplicates = true;
                continue;
            }
            let sources = tokens.map(|t| t.to_ascii_lowercase()).collect();
            policy.insert(name, sources);
        }
        for (name, sources) in policy {
            match merged.directives.get_mut(&name) {
                Some(existing) => existing.retain(|s| sources.contains(s)),
                None => {
                    merged.directives.insert(name, sources);
                }
            }
        }
    }
    if merged.directives.is_empty() {
        return Err("the policy holds no directive".into());
    }
    Ok(merged)
}

fn is_nonce_or_hash(source: &str) -> bool {
    ["'nonce-", "'sha256-", "'sha384-", "'sha512-"]
        .iter()
        .any(|p| source.starts_with(p))
}

fn is_scheme_source(source: &str) -> bool {
    source.ends_with(':')
        && source[..source.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
}

fn insecure_scheme(source: &str) -> bool {
    source.starts_with("http:") || source.starts_with("ftp:")
}

fn any_in(set: &BTreeSet<String>, list: &[&str]) -> Option<String> {
    set.iter().find(|s| list.contains(&s.as_str())).cloned()
}

/// The Observatory CSP test. `values` are the `Content-Security-Policy` header values,
/// `report_only` whether `Content-Security-Policy-Report-Only` was sent.
pub fn evaluate(values: &[&str], report_only: bool, https: bool) -> Finding {
    let scored = |result: &str, modifier: i32, pass: bool, message: String| {
        Finding::scored(HEADER, result, modifier, pass, message)
    };
    if values.is_empty() {
        return if report_only {
            scored(
                "csp-not-implemented-but-reporting-enabled",
                -25,
                false,
                "only Content-Security-Policy-Report-Only is sent: it reports but blocks nothing; also send an enforcing Content-Security-Policy".into(),
            )
        } else {
            scored(
                "csp-not-implemented",
                -25,
                false,
                "missing; send Content-Security-Policy, e.g. `default-src 'self'; object-src 'none'; frame-ancestors 'none'`".into(),
            )
        };
    }
    let policy = match parse(values) {
        Ok(p) => p,
        Err(e) => {
            return scored(
                "csp-header-invalid",
                -25,
                false,
                format!("cannot be parsed ({e}); write `directive source …; directive …`"),
            );
        }
    };
    let mut script = policy.effective("script-src");
    let style = policy.effective("style-src");
    let object = policy.effective("object-src");
    let uses_nonce_or_hash = script.iter().any(|s| is_nonce_or_hash(s));
    if uses_nonce_or_hash {
        script.remove("'unsafe-inline'");
    }
    if script.contains("'strict-dynamic'") {
        if !uses_nonce_or_hash {
            return scored(
                "csp-header-invalid",
                -25,
                false,
                "'strict-dynamic' without a nonce or hash in script-src blocks every script; add `'nonce-…'` or a hash".into(),
            );
        }
        script.retain(|s| !is_scheme_source(s) && s != "'self'" && s != "'unsafe-inline'");
    }

    let script_unsafe = any_in(&script, &UNSAFE_INLINE).or_else(|| any_in(&script, &BROAD));
    if let Some(src) = script_unsafe.or_else(|| any_in(&object, &BROAD)) {
        return scored(
            "csp-implemented-with-unsafe-inline",
            -20,
            false,
            format!(
                "allows `{src}` for scripts or objects, which defeats XSS protection; use `'self'`, nonces or hashes and `object-src 'none'`"
            ),
        );
    }
    if https {
        let active = policy
            .directives
            .iter()
            .filter(|(d, _)| !PASSIVE.contains(&d.as_str()) && !NOT_CONTENT.contains(&d.as_str()))
            .flat_map(|(d, srcs)| srcs.iter().map(move |s| (d, s)))
            .find(|(_, s)| insecure_scheme(s));
        if let Some((d, s)) = active {
            return scored(
                "csp-implemented-with-insecure-scheme",
                -20,
                false,
                format!(
                    "`{d}` allows `{s}` on an HTTPS site, so active content can load over plain HTTP; use https: sources"
                ),
            );
        }
    }
    if let Some(d) = ["script-src", "style-src"]
        .into_iter()
        .find(|d| policy.effective(d).contains("'unsafe-eval'"))
    {
        return scored(
            "csp-implemented-with-unsafe-eval",
            -10,
            false,
            format!("`{d}` allows `'unsafe-eval'`; remove it and avoid eval()"),
        );
    }
    if https
        && PASSIVE
            .iter()
            .any(|d| policy.effective(d).iter().any(|s| insecure_scheme(s)))
    {
        return scored(
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            -10,
            true,
            "img-src or media-src allows http:/ftp: on an HTTPS site (mixed passive content); use https: sources".into(),
        );
    }
    let mut finding = if let Some(src) =
        any_in(&style, &UNSAFE_INLINE).or_else(|| any_in(&style, &BROAD))
    {
        scored(
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            0,
            true,
            format!(
                "blocks unsafe scripts; style-src still allows `{src}` (acceptable, stricter is better)"
            ),
        )
    } else if policy
        .get("default-src")
        .is_some_and(|s| s.len() == 1 && s.contains("'none'"))
    {
        scored(
            "csp-implemented-with-no-unsafe-default-src-none",
            10,
            true,
            "default-src 'none' with no unsafe sources".into(),
        )
    } else {
        scored(
            "csp-implemented-with-no-unsafe",
            5,
            true,
            "no 'unsafe-inline', 'unsafe-eval' or broad sources for scripts".into(),
        )
    };
    if policy.duplicates && finding.modifier > 0 {
        finding = scored(
            "csp-header-duplicate-directives",
            0,
            true,
            "a directive is repeated (browsers use the first one); write each directive once"
                .into(),
        );
    }
    finding
}

/// The Observatory's informational CSP flags (not scored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Flags {
    /// `frame-ancestors` set in the header and not broad.
    pub anti_clickjacking: bool,
    /// `base-uri` missing or broad (injected `<base>` tags can redirect relative scripts).
    pub insecure_base_uri: bool,
    /// `form-action` missing or broad (injected forms can post anywhere).
    pub insecure_form_action: bool,
}

/// Flags of the policy in `values` (header and meta); `header_values` for frame-ancestors.
pub fn flags(values: &[&str], header_values: &[&str]) -> Option<Flags> {
    let policy = parse(values).ok()?;
    let weak = |d: &str| policy.get(d).is_none_or(|s| any_in(s, &BROAD).is_some());
    let framing = parse(header_values).ok();
    Some(Flags {
        anti_clickjacking: framing
            .as_ref()
            .and_then(|p| p.get("frame-ancestors"))
            .is_some_and(|s| any_in(s, &BROAD).is_none()),
        insecure_base_uri: weak("base-uri"),
        insecure_form_action: weak("form-action"),
    })
}

/// Whether the header policy sets `frame-ancestors` (which supersedes X-Frame-Options).
pub fn has_frame_ancestors(values: &[&str]) -> bool {
    parse(values).is_ok_and(|p| p.get("frame-ancestors").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(csp: &str, https: bool) -> (String, i32) {
        let f = evaluate(&[csp], false, https);
        (f.result, f.modifier)
    }

    #[test]
    fn observatory_csp_results() {
        let cases: &[(&str, &str, i32)] = &[
            (
                "default-src 'none'",
                "csp-implemented-with-no-unsafe-default-src-none",
                10,
            ),
            ("default-src 'self'", "csp-implemented-with-no-unsafe", 5),
            (
                "default-src 'self'; script-src 'self' 'unsafe-inline'",
                "csp-implemented-with-unsafe-inline",
                -20,
            ),
            (
                "script-src 'self'",
                "csp-implemented-with-unsafe-inline",
                -20,
            ), // object-src falls back to *
            (
                "default-src https:",
                "csp-implemented-with-unsafe-inline",
                -20,
            ),
            (
                "default-src 'self' data:",
                "csp-implemented-with-unsafe-inline",
                -20,
            ),
            (
                "default-src 'self'; script-src 'self' 'unsafe-eval'",
                "csp-implemented-with-unsafe-eval",
                -10,
            ),
            (
                "default-src 'self'; style-src 'self' 'unsafe-inline'",
                "csp-implemented-with-unsafe-inline-in-style-src-only",
                0,
            ),
            (
                "default-src 'self'; script-src 'nonce-abc' 'unsafe-inline'",
                "csp-implemented-with-no-unsafe",
                5,
            ),
            (
                "default-src 'self'; script-src 'strict-dynamic' 'nonce-abc' https: 'unsafe-inline'",
                "csp-implemented-with-no-unsafe",
                5,
            ),
            (
                "default-src 'self'; script-src 'strict-dynamic' 'self'",
                "csp-header-invalid",
                -25,
            ),
            (
                "default-src 'self'; connect-src http://api.example",
                "csp-implemented-with-insecure-scheme",
                -20,
            ),
            (
                "default-src 'self'; img-src http://cdn.example",
                "csp-implemented-with-insecure-scheme-in-passive-content-only",
                -10,
            ),
            (
                "default-src 'none'; default-src 'self'",
                "csp-header-duplicate-directives",
                0,
            ),
            (
                "default-src 'self'; sc{ript-src x",
                "csp-header-invalid",
                -25,
            ),
        ];
        for (csp, want, modifier) in cases {
            assert_eq!(result(csp, true), (want.to_string(), *modifier), "{csp}");
        }
        // Insecure schemes only matter on HTTPS sites.
        assert_eq!(
            result("default-src 'self'; img-src http://cdn.example", false).1,
            5
        );
    }

    #[test]
    fn missing_and_report_only() {
        assert_eq!(evaluate(&[], false, true).result, "csp-not-implemented");
        let f = evaluate(&[], true, true);
        assert_eq!(
            (f.result.as_str(), f.modifier),
            ("csp-not-implemented-but-reporting-enabled", -25)
        );
    }

    #[test]
    fn informational_flags() {
        let v = ["default-src 'self'; base-uri 'none'; frame-ancestors *"];
        let f = flags(&v, &v);
        assert_eq!(
            f,
            Some(Flags {
                anti_clickjacking: false,
                insecure_base_uri: false,
                insecure_form_action: true
            })
        );
        assert_eq!(flags(&[], &[]), None);
    }

    #[test]
    fn several_policies_intersect() {
        let p = parse(&["default-src 'self' https:", "default-src 'self'"]).unwrap_or_default();
        assert_eq!(p.get("default-src").map(|s| s.len()), Some(1));
        assert!(has_frame_ancestors(&[
            "default-src 'self'; frame-ancestors 'none'"
        ]));
    }
}
