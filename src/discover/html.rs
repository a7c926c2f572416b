//! What a page's HTML names: its links (`href`, `src`, `action`, `ws://` literals) resolved
//! against the page, and which of them are content-hashed static assets (`app.3f2a1c9b.js`).
//! A plain scan, not a parser: discovery only needs candidates, each verified by a request.

/// Links at most taken from one page.
const MAX_LINKS: usize = 500;

/// Every URL the page names in `href=`, `src=`, `action=` or a `ws(s)://` literal, resolved
/// against `page_url`, in order of appearance, without duplicates.
pub fn links(page_url: &str, html: &str) -> Vec<String> {
    let Ok(base) = url::Url::parse(page_url) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let lower = html.to_ascii_lowercase();
    for attr in ["href=", "src=", "action="] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(attr) {
            let start = from + at + attr.len();
            from = start;
            let Some(value) = attribute_value(&html[start..]) else {
                continue;
            };
            if let Ok(u) = base.join(value.trim())
                && matches!(u.scheme(), "http" | "https")
            {
                push(&mut out, u.to_string());
            }
            if out.len() >= MAX_LINKS {
                return out;
            }
        }
    }
    for scheme in ["ws://", "wss://"] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(scheme) {
            let start = from + at;
            let end = html[start..]
                .find(|c: char| c.is_whitespace() || "\"'`<>)".contains(c))
                .map_or(html.len(), |e| start + e);
            push(&mut out, html[start..end].to_string());
            from = end.max(start + 1);
        }
    }
    out
}

fn push(out: &mut Vec<String>, u: String) {
    if !out.contains(&u) {
        out.push(u);
    }
}

/// The value after `attr=`: quoted with `"` or `'`, or bare up to whitespace or `>`.
fn attribute_value(rest: &str) -> Option<&str> {
    let mut chars = rest.chars();
    match chars.next()? {
        q @ ('"' | '\'') => {
            let inner = &rest[1..];
            inner.find(q).map(|e| &inner[..e])
        }
        _ => {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap_or(rest.len());
            Some(&rest[..end])
        }
    }
}

/// Whether one dot/dash-separated part of a file name is a content hash: hex of 6+ characters
/// with a digit, or 8–22 characters of base64url mixing digits and both cases (Vite, esbuild).
fn is_hash(part: &str) -> bool {
    let digit = part.chars().any(|c| c.is_ascii_digit());
    let hex = part.len() >= 6 && part.chars().all(|c| c.is_ascii_hexdigit());
    let b64 = (8..=22).contains(&part.len())
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && part.chars().any(|c| c.is_ascii_uppercase())
        && part.chars().any(|c| c.is_ascii_lowercase());
    digit && (hex || b64)
}

/// The name before the hash and the separator, when `file` (`index-BkP3Qe1z.js`) is hashed:
/// `("index", '-')`.
pub fn hashed(file: &str) -> Option<(String, char)> {
    let (stem, _ext) = file.rsplit_once('.')?;
    let mut prefix_end = None;
    for (i, c) in stem.char_indices() {
        if c == '.' || c == '-' {
            let tail = &stem[i + 1..];
            let part = tail.split(['.', '-']).next().unwrap_or_default();
            if is_hash(part) {
                prefix_end = Some((i, c));
                break;
            }
        }
    }
    let (i, sep) = prefix_end?;
    Some((stem[..i].to_string(), sep))
}

/// The hashed static assets among `links` on the same host as `page_url` first, scripts
/// before stylesheets before the rest.
pub fn hashed_assets(page_url: &str, links: &[String]) -> Vec<String> {
    let host = url::Url::parse(page_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string));
    let mut assets: Vec<(bool, u8, String)> = links
        .iter()
        .filter_map(|l| {
            let u = url::Url::parse(l).ok()?;
            let file = u.path_segments()?.next_back()?.to_string();
            hashed(&file)?;
            let rank = if file.ends_with(".js") || file.ends_with(".mjs") {
                0
            } else if file.ends_with(".css") {
                1
            } else {
                2
            };
            Some((u.host_str().map(str::to_string) != host, rank, l.clone()))
        })
        .collect();
    assets.sort_by_key(|a| (a.0, a.1));
    assets.into_iter().map(|(_, _, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_the_page_and_include_websocket_literals() {
        let html = r#"<a href="/login">in</a><script src='/assets/index-BkP3Qe1z.js'></script>
            <link href=/static/app.3f2a1c9b.css rel=stylesheet><form action="/search">
            <script>new WebSocket("ws://shop.test/ws")</script><a href="mailto:x@y">m</a>"#;
        assert_eq!(
            links("http://shop.test/home", html),
            [
                "http://shop.test/login",
                "http://shop.test/static/app.3f2a1c9b.css",
                "http://shop.test/assets/index-BkP3Qe1z.js",
                "http://shop.test/search",
                "ws://shop.test/ws",
            ]
        );
    }

    #[test]
    fn only_content_hashed_names_count_as_assets() {
        assert_eq!(hashed("index-BkP3Qe1z.js"), Some(("index".into(), '-')));
        assert_eq!(hashed("main.3f2a1c.js"), Some(("main".into(), '.')));
        assert_eq!(hashed("app.3f2a1c9b.chunk.js"), Some(("app".into(), '.')));
        for plain in [
            "jquery-3.6.0.min.js",
            "main.js",
            "bootstrap5.js",
            "favicon.ico",
            "react-dom.production.min.js",
        ] {
            assert_eq!(hashed(plain), None, "{plain}");
        }
        let links = [
            "http://cdn.test/x/app.3f2a1c9b.js".to_string(),
            "http://shop.test/a/site.3f2a1c9b.css".to_string(),
            "http://shop.test/a/main-BkP3Qe1z.js".to_string(),
            "http://shop.test/a/main.js".to_string(),
        ];
        assert_eq!(
            hashed_assets("http://shop.test/", &links),
            [
                "http://shop.test/a/main-BkP3Qe1z.js",
                "http://shop.test/a/site.3f2a1c9b.css",
                "http://cdn.test/x/app.3f2a1c9b.js",
            ]
        );
    }
}
