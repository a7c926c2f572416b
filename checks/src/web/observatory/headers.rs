//! The Observatory header tests (HSTS, X-Content-Type-Options, X-Frame-Options, Referrer-Policy;
//! Cross-Origin-*-Policy in cross_origin.rs) plus unscored checks (Permissions-Policy, disclosure).

use super::csp;
use super::grade::Finding;

/// Response headers as (lowercased name, value), in the order received.
pub type Headers = [(String, String)];

/// Every value of header `name` (lowercase).
pub fn all<'a>(headers: &'a Headers, name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The first value of header `name` (lowercase).
pub fn first<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Strict-Transport-Security, judged against `min_age` seconds (Observatory: 15552000).
pub fn hsts(headers: &Headers, https: bool, min_age: u64) -> Finding {
    const H: &str = "Strict-Transport-Security";
    let good = "Strict-Transport-Security: max-age=63072000; includeSubDomains";
    if !https {
        return Finding::scored(
            H,
            "hsts-not-implemented-no-https",
            -20,
            false,
            format!(
                "the page is served over plain HTTP, where HSTS does not count; serve it over HTTPS with `{good}`"
            ),
        );
    }
    let Some(raw) = first(headers, "strict-transport-security") else {
        return Finding::scored(
            H,
            "hsts-not-implemented",
            -20,
            false,
            format!("missing; send `{good}`"),
        );
    };
    let value: String = raw.chars().take(1024).collect();
    match parse_max_age(&value) {
        None => Finding::scored(
            H,
            "hsts-header-invalid",
            -20,
            false,
            format!("`{value}` cannot be parsed (set twice, or no max-age); send one `{good}`"),
        ),
        Some(age) if age < min_age => Finding::scored(
            H,
            "hsts-implemented-max-age-less-than-six-months",
            -10,
            false,
            format!("max-age={age} is under {min_age} s; send `{good}`"),
        ),
        Some(age) => Finding::scored(
            H,
            "hsts-implemented-max-age-at-least-six-months",
            0,
            true,
            format!("max-age={age} (at least {min_age} s)"),
        ),
    }
}

/// `max-age` of an HSTS value; `None` when invalid (a comma means the header was set twice).
pub fn parse_max_age(value: &str) -> Option<u64> {
    if value.contains(',') {
        return None;
    }
    value.split(';').find_map(|part| {
        let part = part.trim().to_ascii_lowercase();
        let age = part.strip_prefix("max-age=")?;
        age.trim().trim_matches('"').parse().ok()
    })
}

pub fn x_content_type_options(headers: &Headers) -> Finding {
    const H: &str = "X-Content-Type-Options";
    match first(headers, "x-content-type-options") {
        None => Finding::scored(
            H,
            "x-content-type-options-not-implemented",
            -5,
            false,
            "missing; send `X-Content-Type-Options: nosniff`".into(),
        ),
        Some(v) if v.trim().eq_ignore_ascii_case("nosniff") => Finding::scored(
            H,
            "x-content-type-options-nosniff",
            0,
            true,
            "nosniff".into(),
        ),
        Some(v) => Finding::scored(
            H,
            "x-content-type-options-header-invalid",
            -5,
            false,
            format!("`{v}` is not valid; send `X-Content-Type-Options: nosniff`"),
        ),
    }
}

pub fn x_frame_options(headers: &Headers) -> Finding {
    const H: &str = "X-Frame-Options";
    if csp::has_frame_ancestors(&all(headers, "content-security-policy")) {
        return Finding::scored(
            H,
            "x-frame-options-implemented-via-csp",
            5,
            true,
            "framing controlled by CSP frame-ancestors".into(),
        );
    }
    let fix = "send `X-Frame-Options: DENY` (or SAMEORIGIN), or CSP `frame-ancestors 'none'`";
    match first(headers, "x-frame-options") {
        None => Finding::scored(
            H,
            "x-frame-options-not-implemented",
            -20,
            false,
            format!("missing, so the page can be framed (clickjacking); {fix}"),
        ),
        Some(v) => {
            let upper = v.trim().to_ascii_uppercase();
            if upper == "DENY" || upper == "SAMEORIGIN" {
                Finding::scored(H, "x-frame-options-sameorigin-or-deny", 5, true, upper)
            } else if upper.starts_with("ALLOW-FROM") {
                Finding::scored(
                    H,
                    "x-frame-options-allow-from-origin",
                    0,
                    true,
                    format!("`{v}` (obsolete; prefer CSP frame-ancestors)"),
                )
            } else {
                Finding::scored(
                    H,
                    "x-frame-options-header-invalid",
                    -20,
                    false,
                    format!("`{v}` is not valid and is ignored by browsers; {fix}"),
                )
            }
        }
    }
}

/// Referrer-Policy from the header lines and `<meta name="referrer">` (which comes last, so it
/// wins): the last recognised token decides.
pub fn referrer_policy(headers: &Headers, meta: Option<&str>) -> Finding {
    const H: &str = "Referrer-Policy";
    const PRIVATE: [&str; 4] = [
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ];
    const LEAKY: [&str; 4] = [
        "origin",
        "origin-when-cross-origin",
        "unsafe-url",
        "no-referrer-when-downgrade",
    ];
    let mut values = all(headers, "referrer-policy");
    values.extend(meta);
    if values.is_empty() {
        return Finding::scored(H, "referrer-policy-not-implemented", 0, true, "not set; browsers default to strict-origin-when-cross-origin (sending `Referrer-Policy: strict-origin-when-cross-origin` earns a bonus)".into());
    }
    let last = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .rfind(|t| PRIVATE.contains(&t.as_str()) || LEAKY.contains(&t.as_str()));
    let from_meta = if meta.is_some() {
        " (the <meta name=\"referrer\"> tag counts last)"
    } else {
        ""
    };
    match last {
        Some(t) if PRIVATE.contains(&t.as_str()) => Finding::scored(
            H,
            "referrer-policy-private",
            5,
            true,
            format!("{t}{from_meta}"),
        ),
        Some(t) => Finding::scored(
            H,
            "referrer-policy-unsafe",
            -5,
            false,
            format!(
                "`{t}`{from_meta} leaks URLs to other sites; use `strict-origin-when-cross-origin` or `no-referrer`"
            ),
        ),
        None => Finding::scored(
            H,
            "referrer-policy-header-invalid",
            -5,
            false,
            format!(
                "`{}` is not a recognised policy; use `strict-origin-when-cross-origin`",
                values.join(", ")
            ),
        ),
    }
}

/// Unscored: Permissions-Policy should be present.
pub fn permissions_policy(headers: &Headers) -> Finding {
    let ok = first(headers, "permissions-policy").is_some();
    let message = if ok {
        "present".into()
    } else {
        "missing; send e.g. `Permissions-Policy: camera=(), microphone=(), geolocation=()`".into()
    };
    Finding::info(
        "Permissions-Policy",
        if ok {
            "permissions-policy-implemented"
        } else {
            "permissions-policy-not-implemented"
        },
        ok,
        message,
    )
}

/// Unscored: `Server` carrying a version, and headers that name the stack.
pub fn disclosure(headers: &Headers) -> Vec<Finding> {
    let mut out = Vec::new();
    match first(headers, "server") {
        Some(v) if v.bytes().any(|b| b.is_ascii_digit()) => out.push(Finding::info(
            "Server",
            "server-version-disclosed",
            false,
            format!(
                "`{v}` discloses a version; send the product name only (nginx: `server_tokens off`)"
            ),
        )),
        _ => out.push(Finding::info(
            "Server",
            "server-version-not-disclosed",
            true,
            "no version disclosed".into(),
        )),
    }
    for name in ["X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"] {
        if let Some(v) = first(headers, &name.to_ascii_lowercase()) {
            out.push(Finding::info(
                name,
                "information-disclosure",
                false,
                format!("`{v}` tells attackers the stack; remove the header"),
            ));
        }
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect()
    }

    #[test]
    fn hsts_rules() {
        let m = |v: &str| hsts(&h(&[("Strict-Transport-Security", v)]), true, 15_552_000).modifier;
        assert_eq!(m("max-age=31536000; includeSubDomains"), 0);
        assert_eq!(m("max-age=300"), -10);
        assert_eq!(m("max-age=300, max-age=31536000"), -20);
        assert_eq!(m("includeSubDomains"), -20);
        assert_eq!(hsts(&h(&[]), true, 1).modifier, -20);
        assert_eq!(
            hsts(
                &h(&[("Strict-Transport-Security", "max-age=99999999")]),
                false,
                1
            )
            .result,
            "hsts-not-implemented-no-https"
        );
    }

    #[test]
    fn frame_options_rules() {
        let m = |pairs: &[(&str, &str)]| x_frame_options(&h(pairs)).modifier;
        assert_eq!(m(&[("X-Frame-Options", "deny")]), 5);
        assert_eq!(m(&[("X-Frame-Options", "ALLOW-FROM https://a")]), 0);
        assert_eq!(m(&[("X-Frame-Options", "ALLOWALL")]), -20);
        assert_eq!(m(&[]), -20);
        assert_eq!(
            m(&[
                ("X-Frame-Options", "ALLOWALL"),
                ("Content-Security-Policy", "frame-ancestors 'self'")
            ]),
            5
        );
    }

    #[test]
    fn referrer_last_recognised_token_wins() {
        let m = |v: &str| referrer_policy(&h(&[("Referrer-Policy", v)]), None).modifier;
        assert_eq!(m("unsafe-url, strict-origin-when-cross-origin"), 5);
        assert_eq!(m("no-referrer, bogus, unsafe-url"), -5);
        assert_eq!(m("bogus"), -5);
        assert_eq!(referrer_policy(&h(&[]), None).modifier, 0);
        assert_eq!(
            referrer_policy(
                &h(&[("Referrer-Policy", "unsafe-url")]),
                Some("no-referrer")
            )
            .modifier,
            5
        );
    }

    #[test]
    fn content_type_options_and_disclosure() {
        assert_eq!(
            x_content_type_options(&h(&[("X-Content-Type-Options", "sniff")])).modifier,
            -5
        );
        let d = disclosure(&h(&[("Server", "nginx/1.22.1"), ("X-Powered-By", "PHP/8")]));
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|f| f.status == crate::Status::Warn));
    }
}
