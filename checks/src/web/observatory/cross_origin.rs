//! Cross-Origin-Opener/Embedder/Resource-Policy: COOP and COEP are structured-field tokens
//! (case-sensitive, sent once), CORP a case-insensitive keyword read from the header only.

use super::grade::Finding;
use super::headers::{Headers, all};

/// Cross-Origin-Opener/Embedder-Policy: a structured-field token (case-sensitive, parameters
/// such as `report-to` allowed) sent once; `strong` values earn +10, `neutral` 0.
fn policy_token(
    headers: &Headers,
    header: &str,
    prefix: &str,
    strong: &[&str],
    neutral: &str,
) -> Finding {
    let values = all(headers, &header.to_ascii_lowercase());
    let Some(raw) = values.first() else {
        return not_implemented(header, prefix, strong);
    };
    let value: String = raw.chars().take(1024).collect();
    let token = super::sf::token(&value);
    match token {
        _ if values.len() > 1 => invalid(
            header,
            prefix,
            strong,
            &format!(
                "sent {} times (`{}`); browsers ignore it",
                values.len(),
                values.join("`, `")
            ),
        ),
        Some(t) if strong.contains(&t) => Finding::scored(
            header,
            &format!("{prefix}-implemented-with-{t}"),
            10,
            true,
            value.trim().to_string(),
        ),
        Some(t) if t == neutral => Finding::scored(
            header,
            &format!("{prefix}-implemented-with-{t}"),
            0,
            true,
            value.trim().to_string(),
        ),
        Some(t)
            if strong.contains(&t.to_ascii_lowercase().as_str())
                || t.eq_ignore_ascii_case(neutral) =>
        {
            invalid(
                header,
                prefix,
                strong,
                &format!(
                    "`{t}` is case-sensitive and browsers ignore it; write `{}`",
                    t.to_ascii_lowercase()
                ),
            )
        }
        _ => invalid(
            header,
            prefix,
            strong,
            &format!(
                "`{}` is not a valid policy (a bare token, optionally `; report-to=\"endpoint\"`)",
                value.trim()
            ),
        ),
    }
}

fn not_implemented(header: &str, prefix: &str, strong: &[&str]) -> Finding {
    Finding::scored(
        header,
        &format!("{prefix}-not-implemented"),
        0,
        true,
        format!(
            "not set (optional; `{}` earns a bonus)",
            strong.first().unwrap_or(&"")
        ),
    )
}

fn invalid(header: &str, prefix: &str, strong: &[&str], why: &str) -> Finding {
    Finding::scored(
        header,
        &format!("{prefix}-header-invalid"),
        -5,
        false,
        format!("{why}; send one of {} once", strong.join(", ")),
    )
}

/// Cross-Origin-Resource-Policy from the header only (no `<meta>`); repeated lines are joined
/// with `, ` and so invalid; the value is case-insensitive.
pub fn corp(headers: &Headers) -> Finding {
    const H: &str = "Cross-Origin-Resource-Policy";
    let strong = ["same-origin", "same-site"];
    let values = all(headers, "cross-origin-resource-policy");
    if values.is_empty() {
        return not_implemented(H, "corp", &strong);
    }
    let joined: String = values.join(", ").chars().take(256).collect();
    let t = joined.trim().to_ascii_lowercase();
    match t.as_str() {
        "same-origin" | "same-site" => Finding::scored(
            H,
            &format!("corp-implemented-with-{t}"),
            10,
            true,
            t.clone(),
        ),
        "cross-origin" => {
            Finding::scored(H, "corp-implemented-with-cross-origin", 0, true, t.clone())
        }
        _ => invalid(
            H,
            "corp",
            &strong,
            &format!("`{joined}` is not a valid policy"),
        ),
    }
}

pub fn coop(headers: &Headers) -> Finding {
    policy_token(
        headers,
        "Cross-Origin-Opener-Policy",
        "coop",
        &[
            "same-origin",
            "same-origin-allow-popups",
            "noopener-allow-popups",
        ],
        "unsafe-none",
    )
}

pub fn coep(headers: &Headers) -> Finding {
    policy_token(
        headers,
        "Cross-Origin-Embedder-Policy",
        "coep",
        &["require-corp", "credentialless"],
        "unsafe-none",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::observatory::headers::tests::h;

    #[test]
    fn cross_origin_policies() {
        assert_eq!(
            coop(&h(&[("Cross-Origin-Opener-Policy", "same-origin")])).modifier,
            10
        );
        assert_eq!(
            coep(&h(&[("Cross-Origin-Embedder-Policy", "unsafe-none")])).modifier,
            0
        );
        assert_eq!(
            corp(&h(&[("Cross-Origin-Resource-Policy", "everyone")])).modifier,
            -5
        );
    }
}
