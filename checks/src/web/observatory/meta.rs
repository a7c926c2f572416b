//! The policies an HTML body can carry in `<meta>` tags and the Observatory honours: CSP from
//! `http-equiv` (frame-ancestors excepted, see csp.rs) and Referrer-Policy from `name="referrer"`.

/// What the `<meta>` tags of one page set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaPolicies {
    /// Every `<meta http-equiv="Content-Security-Policy" content="…">`, in order.
    pub csp: Vec<String>,
    /// The last `<meta name="referrer" content="…">`.
    pub referrer: Option<String>,
}

/// Reads the `<meta>` policies of `html`; other `http-equiv` names (X-Frame-Options, CORP,
/// Referrer-Policy) are ignored, as browsers and the Observatory ignore them.
pub fn policies(html: &str) -> MetaPolicies {
    let mut out = MetaPolicies::default();
    for attrs in meta_tags(html) {
        let get = |name: &str| attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let content = get("content").filter(|c| !c.is_empty());
        let Some(content) = content else { continue };
        // An http-equiv tag is never a name="referrer" tag, whatever its name says.
        if let Some(equiv) = get("http-equiv") {
            if equiv.trim().eq_ignore_ascii_case("content-security-policy") {
                out.csp.push(content.clone());
            }
        } else if get("name").is_some_and(|n| n.trim().eq_ignore_ascii_case("referrer")) {
            out.referrer = Some(content.clone());
        }
    }
    out
}

/// The attributes (lowercased name, entity-decoded value) of every `<meta>` tag.
fn meta_tags(html: &str) -> Vec<Vec<(String, String)>> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<meta").map(|i| from + i + 5) {
        if html[start..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-') {
            from = start;
            continue;
        }
        let (attrs, end) = attributes(html, start);
        out.push(attrs);
        from = end.max(start);
    }
    out
}

/// Parses attributes from byte `i` up to the closing `>`; returns them and where parsing stopped.
fn attributes(html: &str, mut i: usize) -> (Vec<(String, String)>, usize) {
    let b = html.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' {
            return (attrs, i);
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !b"=>/".contains(&b[i]) {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let (v, next) = match b.get(i) {
                Some(q @ (b'"' | b'\'')) => {
                    let end = html[i + 1..]
                        .find(*q as char)
                        .map_or(b.len(), |e| i + 1 + e);
                    (&html[i + 1..end], (end + 1).min(b.len()))
                }
                _ => {
                    let end = html[i..]
                        .find(|c: char| c.is_ascii_whitespace() || c == '>')
                        .map_or(b.len(), |e| i + e);
                    (&html[i..end], end)
                }
            };
            value = decode_entities(v);
            i = next;
        }
        if !name.is_empty() {
            attrs.push((name, value));
        }
        if i == start {
            i += 1;
        }
    }
}

/// The character references that show up in policies.
fn decode_entities(v: &str) -> String {
    if !v.contains('&') {
        return v.to_string();
    }
    [
        ("&quot;", "\""),
        ("&apos;", "'"),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(v.to_string(), |s, (from, to)| s.replace(from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csp_and_referrer_metas() {
        let html = r#"<html><head><META http-equiv=" Content-Security-Policy " content="default-src &apos;self&apos;">
            <meta charset=utf-8><meta content='no-referrer' http-equiv='referrer-policy'/>
            <meta name="referRer" content="x name=y"><meta name=referrer content=same-origin>
            <metadata name=referrer content=unsafe-url></head>"#;
        assert_eq!(
            policies(html),
            MetaPolicies {
                csp: vec!["default-src 'self'".to_string()],
                referrer: Some("same-origin".to_string()),
            }
        );
        assert_eq!(policies("<p>no meta</p><meta"), MetaPolicies::default());
    }
}
