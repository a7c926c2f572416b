//! Content-Security-Policy parsing and the Observatory CSP test: every header and `<meta>`
//! policy is enforced, so they are intersected; then nonces, `'strict-dynamic'`, broad sources.

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
/// Directives a `<meta>` policy may not set (HTML standard); they are dropped from it.
const NOT_IN_META: [&str; 3] = ["frame-ancestors", "report-uri", "sandbox"];
/// Directives the Observatory lets appear twice (the first wins); any other repeat is invalid.
const MAY_REPEAT: [&str; 2] = ["report-uri", "report-to"];
/// A policy shorter than this holds no directive (the Observatory's own floor: `img-src` − 1).
const SHORTEST_POLICY: usize = 6;

/// One policy: directive → lowercased sources (an empty `*-src` list is `'none'`).
pub type Policy = BTreeMap<String, BTreeSet<String>>;

/// Every enforced policy of a response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policies {
    pub header: Vec<Policy>,
    pub meta: Vec<Policy>,
    /// `report-uri` or `report-to` repeated inside one policy.
    pub repeated_reporting: bool,
}

fn parse_one(text: &str, repeated_reporting: &mut bool) -> Result<Policy, String> {
    let text = text.replace(['\r', '\n'], "");
    let text = text.trim();
    if text.len() < SHORTEST_POLICY {
        return Err(format!("`{text}` is too short to be a policy"));
    }
    let mut policy = Policy::new();
    for directive in text.split(';') {
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
            if MAY_REPEAT.contains(&name.as_str()) {
                *repeated_reporting = true;
                continue;
            }
            return Err(format!("`{name}` is set twice in one policy"));
        }
        let mut sources: BTreeSet<String> = tokens.map(|t| t.to_ascii_lowercase()).collect();
        if sources.is_empty() && name.ends_with("-src") {
            sources.insert("'none'".into());
        }
        policy.insert(name, sources);
    }
    Ok(policy)
}

/// Parses the header values and the `<meta>` policies (a value may hold several policies
/// separated by commas). Empty policies are dropped; one invalid policy makes it all invalid.
pub fn parse(header_values: &[&str], meta_values: &[&str]) -> Result<Policies, String> {
    let mut out = Policies::default();
    for (values, meta) in [(header_values, false), (meta_values, true)] {
        for text in values.iter().flat_map(|v| v.split(',')) {
            let mut policy = parse_one(text, &mut out.repeated_reporting)?;
            if meta {
                policy.retain(|d, _| !NOT_IN_META.contains(&d.as_str()));
            }
            if !policy.is_empty() {
                if meta {
                    out.meta.push(policy);
                } else {
                    out.header.push(policy);
                }
            }
        }
    }
    Ok(out)
}

fn is_fetch_directive(name: &str) -> bool {
    name != "default-src"
        && (name.ends_with("-src") || name.ends_with("-elem") || name.ends_with("-attr"))
}

fn is_nonce_or_hash(source: &str) -> bool {
    ["'nonce-", "'sha256-", "'sha384-", "'sha512-"]
        .iter()
        .any(|p| source.starts_with(p))
}

/// What one policy allows for `name` (with the `default-src` fallback); `None` = anything.
fn allowed(policy: &Policy, name: &str) -> Option<BTreeSet<String>> {
    policy
        .get(name)
        .or_else(|| {
            is_fetch_directive(name)
                .then(|| policy.get("default-src"))
                .flatten()
        })
        .cloned()
}

/// Script and style sources as browsers apply them: a nonce or hash cancels `'unsafe-inline'`;
/// `'strict-dynamic'` (with one) also cancels `'self'`, host and scheme sources.
fn normalise(name: &str, mut sources: BTreeSet<String>) -> BTreeSet<String> {
    if (name == "script-src" || name == "style-src") && sources.iter().any(|s| is_nonce_or_hash(s))
    {
        sources.remove("'unsafe-inline'");
        if name == "script-src" && sources.contains("'strict-dynamic'") {
            sources.retain(|s| s.starts_with('\'') && s != "'self'");
        }
    }
    sources
}

impl Policies {
    pub fn is_empty(&self) -> bool {
        self.header.is_empty() && self.meta.is_empty()
    }

    fn all(&self) -> impl Iterator<Item = &Policy> {
        self.header.iter().chain(&self.meta)
    }

    /// Sources every policy allows for `name` (exact matches, as the Observatory compares
    /// them); `None` when no policy restricts it, `'none'` when nothing is left in common.
    pub fn effective(&self, name: &str) -> Option<BTreeSet<String>> {
        intersect(
            self.all()
                .filter_map(|p| allowed(p, name).map(|s| normalise(name, s))),
        )
    }

    /// Like [`Policies::effective`], over the header policies only (frame-ancestors).
    pub fn header_effective(&self, name: &str) -> Option<BTreeSet<String>> {
        intersect(self.header.iter().filter_map(|p| allowed(p, name)))
    }

    fn names(&self) -> BTreeSet<&str> {
        self.all()
            .flat_map(|p| p.keys().map(String::as_str))
            .collect()
    }
}

fn intersect(sets: impl Iterator<Item = BTreeSet<String>>) -> Option<BTreeSet<String>> {
    let mut out: Option<BTreeSet<String>> = None;
    for set in sets {
        out = Some(match out {
            None => set,
            Some(acc) => acc.intersection(&set).cloned().collect(),
        });
    }
    out.map(|s| {
        if s.is_empty() {
            BTreeSet::from(["'none'".to_string()])
        } else {
            s
        }
    })
}

fn any_in(set: &BTreeSet<String>, lists: &[&[&str]]) -> Option<String> {
    set.iter()
        .find(|s| lists.iter().any(|l| l.contains(&s.as_str())))
        .cloned()
}

fn insecure_scheme(source: &str) -> bool {
    source.starts_with("http:") || source.starts_with("ftp:")
}

fn star() -> BTreeSet<String> {
    BTreeSet::from(["*".to_string()])
}

/// The Observatory CSP test over the `Content-Security-Policy` header values and `<meta>`
/// policies; `report_only` whether `Content-Security-Policy-Report-Only` was sent.
pub fn evaluate(
    header_values: &[&str],
    meta_values: &[&str],
    report_only: bool,
    https: bool,
) -> Finding {
    let scored = |result: &str, modifier: i32, pass: bool, message: String| {
        Finding::scored(HEADER, result, modifier, pass, message)
    };
    let invalid = |why: String| scored("csp-header-invalid", -25, false, why);
    let policies = match parse(header_values, meta_values) {
        Ok(p) => p,
        Err(e) => {
            return invalid(format!(
                "cannot be parsed ({e}); write `directive source …; directive …`, each directive once"
            ));
        }
    };
    if policies.is_empty() {
        return if report_only {
            scored(
                "csp-not-implemented-but-reporting-enabled",
                -25,
                false,
                "only Content-Security-Policy-Report-Only is sent: it reports but blocks nothing; also send an enforcing Content-Security-Policy".into(),
            )
        } else {
            let meta_only = if meta_values.is_empty() {
                ""
            } else {
                " (a <meta> policy cannot set frame-ancestors, report-uri or sandbox)"
            };
            scored(
                "csp-not-implemented",
                -25,
                false,
                format!(
                    "missing{meta_only}; send Content-Security-Policy, e.g. `default-src 'self'; object-src 'none'; frame-ancestors 'none'`"
                ),
            )
        };
    }
    if policies.all().any(|p| {
        allowed(p, "script-src").is_some_and(|s| {
            s.contains("'strict-dynamic'") && !s.iter().any(|x| is_nonce_or_hash(x))
        })
    }) {
        return invalid("'strict-dynamic' without a nonce or hash in script-src blocks every script; add `'nonce-…'` or a hash".into());
    }
    let script = policies.effective("script-src").unwrap_or_else(star);
    let style = policies.effective("style-src").unwrap_or_else(star);
    let object = policies.effective("object-src").unwrap_or_else(star);

    let script_unsafe = any_in(&script, &[&UNSAFE_INLINE, &BROAD]);
    if let Some(src) = script_unsafe.or_else(|| any_in(&object, &[&BROAD])) {
        return scored(
            "csp-implemented-with-unsafe-inline",
            -20,
            false,
            format!(
                "allows `{src}` for scripts or objects, which defeats XSS protection; use `'self'`, nonces or hashes and `object-src 'none'`"
            ),
        );
    }
    let passive: Vec<String> = PASSIVE
        .iter()
        .filter_map(|d| policies.effective(d))
        .flatten()
        .collect();
    if https {
        let names = policies.names();
        let active = names
            .iter()
            .filter(|d| !PASSIVE.contains(d) && !NOT_CONTENT.contains(d) && **d != "script-src")
            .filter_map(|d| policies.effective(d).map(|s| (d.to_string(), s)))
            .chain([("script-src".to_string(), script.clone())])
            .flat_map(|(d, srcs)| srcs.into_iter().map(move |s| (d.clone(), s)))
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
    if let Some(d) = [("script-src", &script), ("style-src", &style)]
        .into_iter()
        .find(|(_, s)| s.contains("'unsafe-eval'"))
        .map(|(d, _)| d)
    {
        return scored(
            "csp-implemented-with-unsafe-eval",
            -10,
            false,
            format!("`{d}` allows `'unsafe-eval'`; remove it and avoid eval()"),
        );
    }
    let mut finding = if https && passive.iter().any(|s| insecure_scheme(s)) {
        scored(
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            -10,
            true,
            "img-src or media-src allows http:/ftp: on an HTTPS site (mixed passive content); use https: sources".into(),
        )
    } else if let Some(src) = any_in(&style, &[&UNSAFE_INLINE, &BROAD]) {
        scored(
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            0,
            true,
            format!(
                "blocks unsafe scripts; style-src still allows `{src}` (acceptable, stricter is better)"
            ),
        )
    } else if policies
        .effective("default-src")
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
    if policies.repeated_reporting {
        finding = scored(
            "csp-implemented-but-duplicate-directives",
            0,
            true,
            format!(
                "{}, but report-uri or report-to is repeated (browsers use the first); write it once",
                finding.message
            ),
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

/// Flags of the policies in the header values and `<meta>` tags; `None` when there are none.
pub fn flags(header_values: &[&str], meta_values: &[&str]) -> Option<Flags> {
    let policies = parse(header_values, meta_values)
        .ok()
        .filter(|p| !p.is_empty())?;
    let weak = |d: &str, lists: &[&[&str]]| {
        policies
            .effective(d)
            .is_none_or(|s| any_in(&s, lists).is_some())
    };
    Some(Flags {
        anti_clickjacking: policies
            .header_effective("frame-ancestors")
            .is_some_and(|s| any_in(&s, &[&BROAD]).is_none()),
        insecure_base_uri: weak("base-uri", &[&BROAD, &UNSAFE_INLINE]),
        insecure_form_action: weak("form-action", &[&BROAD]),
    })
}

/// Whether a header policy sets `frame-ancestors` (which supersedes X-Frame-Options).
pub fn has_frame_ancestors(header_values: &[&str]) -> bool {
    parse(header_values, &[])
        .is_ok_and(|p| p.header.iter().any(|p| p.contains_key("frame-ancestors")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn informational_flags() {
        let v = ["default-src 'self'; base-uri 'none'; frame-ancestors *"];
        let f = flags(&v, &[]);
        assert_eq!(
            f,
            Some(Flags {
                anti_clickjacking: false,
                insecure_base_uri: false,
                insecure_form_action: true
            })
        );
        assert_eq!(flags(&[], &[]), None);
        // frame-ancestors in <meta> does not count.
        let m = flags(&["default-src 'self'"], &["frame-ancestors 'none'"]);
        assert_eq!(m.map(|f| f.anti_clickjacking), Some(false));
    }

    #[test]
    fn several_policies_intersect() {
        let p =
            parse(&["default-src 'self' https:", "default-src 'self'"], &[]).unwrap_or_default();
        assert_eq!(p.effective("default-src").map(|s| s.len()), Some(1));
        // A directive one policy lacks falls back to that policy's default-src.
        let p = parse(&["default-src 'self'"], &["img-src https://cdn"]).unwrap_or_default();
        assert_eq!(
            p.effective("img-src"),
            Some(BTreeSet::from(["'none'".to_string()]))
        );
        assert!(has_frame_ancestors(&[
            "default-src 'self'; frame-ancestors 'none'"
        ]));
        // Insecure schemes only matter on HTTPS sites.
        let f = evaluate(
            &["default-src 'self'; img-src http://cdn.example"],
            &[],
            false,
            false,
        );
        assert_eq!(f.modifier, 5);
        let f = evaluate(&["default-src 'self'; sc{ript-src x"], &[], false, true);
        assert_eq!(f.result, "csp-header-invalid");
    }
}
