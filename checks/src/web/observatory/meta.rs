//! `<meta http-equiv>` policies from an HTML body: the Observatory also reads CSP,
//! Referrer-Policy and Cross-Origin-Resource-Policy from them (frame-ancestors excepted).

/// Every `<meta http-equiv="NAME" content="…">` in `html` as (lowercased name, content).
pub fn http_equiv(html: &str) -> Vec<(String, String)> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<meta").map(|i| from + i) {
        let end = lower[start..].find('>').map_or(lower.len(), |i| start + i);
        let tag = &html[start..end];
        if let (Some(name), Some(content)) = (attr(tag, "http-equiv"), attr(tag, "content")) {
            out.push((name.trim().to_ascii_lowercase(), content));
        }
        from = end;
    }
    out
}

/// The value of attribute `name` in one tag (quoted with `"` or `'`, or bare).
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name).map(|i| from + i) {
        from = i + name.len();
        let before_ok = i == 0 || lower.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = tag[from..].trim_start();
        let Some(value) = rest.strip_prefix('=') else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let value = value.trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or_default().to_string(),
            _ => value
                .split(|c: char| c.is_ascii_whitespace() || c == '/')
                .next()
                .unwrap_or_default()
                .to_string(),
        });
    }
    None
}

/// Headers plus the meta policies the Observatory honours, as one header list; header values
/// come first, so "first value" lookups keep the header's precedence.
pub fn with_meta(headers: &[(String, String)], html: &str) -> Vec<(String, String)> {
    let mut all = headers.to_vec();
    for (name, content) in http_equiv(html) {
        if matches!(
            name.as_str(),
            "content-security-policy" | "referrer-policy" | "cross-origin-resource-policy"
        ) {
            all.push((name, content));
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_http_equiv_metas() {
        let html = r#"<html><head><META http-equiv="Content-Security-Policy" content="default-src 'self'">
            <meta charset=utf-8><meta content='no-referrer' http-equiv='referrer-policy'/></head>"#;
        assert_eq!(
            http_equiv(html),
            vec![
                (
                    "content-security-policy".to_string(),
                    "default-src 'self'".to_string()
                ),
                ("referrer-policy".to_string(), "no-referrer".to_string()),
            ]
        );
        assert!(http_equiv("<p>no meta</p>").is_empty());
    }
}
