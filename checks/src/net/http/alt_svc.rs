//! HTTP/3 advertisement: what an `Alt-Svc` header (RFC 7838) offers over QUIC, so the `http`
//! probe can report and require `h3` without speaking QUIC itself (browsers find h3 this way).

use serde_json::{Value, json};

/// The alternatives an `Alt-Svc` value offers: `(protocol id, authority)`, quotes removed.
/// `clear` (withdraw all) yields none.
pub fn alternatives(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in split_outside_quotes(value, ',') {
        // `h3=":443"; ma=86400; persist=1`: the first parameter is the alternative.
        let Some(first) = split_outside_quotes(&entry, ';').into_iter().next() else {
            continue;
        };
        if let Some((id, authority)) = first.split_once('=') {
            let id = id.trim().to_ascii_lowercase();
            let authority = authority.trim().trim_matches('"').to_string();
            if !id.is_empty() {
                out.push((id, authority));
            }
        }
    }
    out
}

fn split_outside_quotes(text: &str, sep: char) -> Vec<String> {
    let (mut parts, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c == sep && !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// What the `Alt-Svc` values of one response say about HTTP/3: (whether final `h3` is
/// offered, the evidence: `{ advertised, alt_svc, drafts }`).
pub fn h3(values: &[&str]) -> (bool, Value) {
    let all: Vec<(String, String)> = values.iter().flat_map(|v| alternatives(v)).collect();
    let h3: Vec<String> = all
        .iter()
        .filter(|(id, _)| id == "h3")
        .map(|(_, a)| a.clone())
        .collect();
    let drafts: Vec<String> = all
        .iter()
        .filter(|(id, _)| id.starts_with("h3-"))
        .map(|(id, _)| id.clone())
        .collect();
    let mut ev = json!({ "advertised": !h3.is_empty(), "alt_svc": values });
    if !h3.is_empty() {
        ev["authorities"] = json!(h3);
    }
    if !drafts.is_empty() {
        ev["drafts"] = json!(drafts);
    }
    (!h3.is_empty(), ev)
}

/// Why `require_h3` fails, in words, for the values seen (none, `clear`, drafts only, other).
pub fn missing(values: &[&str]) -> String {
    let all: Vec<(String, String)> = values.iter().flat_map(|v| alternatives(v)).collect();
    if values.is_empty() {
        "no HTTP/3 advertised: the response has no Alt-Svc header (add `Alt-Svc: h3=\":443\"; ma=86400` where QUIC is served)".into()
    } else if all.iter().any(|(id, _)| id.starts_with("h3-")) {
        format!(
            "no HTTP/3 advertised: Alt-Svc offers only draft versions (`{}`), which browsers no longer use; offer `h3`",
            values.join(", ")
        )
    } else {
        format!(
            "no HTTP/3 advertised: Alt-Svc (`{}`) offers no `h3`",
            values.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_are_read_with_parameters_and_quoted_commas() {
        let alts = alternatives(r#"h3=":443"; ma=86400, h3-29=":443", h2="alt.example:443""#);
        assert_eq!(
            alts,
            vec![
                ("h3".into(), ":443".into()),
                ("h3-29".into(), ":443".into()),
                ("h2".into(), "alt.example:443".into())
            ]
        );
        assert!(alternatives("clear").is_empty());
        assert!(h3(&[r#"H3=":8443""#]).0);
    }

    #[test]
    fn missing_h3_is_explained_by_what_was_there() {
        assert!(missing(&[]).contains("no Alt-Svc header"));
        assert!(missing(&[r#"h3-29=":443""#]).contains("only draft versions"));
        assert!(missing(&["clear"]).contains("offers no `h3`"));
        let (offered, ev) = h3(&[r#"h2=":443""#]);
        assert!(!offered);
        assert_eq!(ev["advertised"], false);
    }
}
