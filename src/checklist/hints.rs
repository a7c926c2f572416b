//! Diagnostic wording: serde's messages made to read like prodcheck's, hints for the common
//! mistakes, and "did you mean" suggestions by edit distance.

/// serde's wording, made to read like the rest of prodcheck's messages.
pub fn tidy(message: &str) -> String {
    // The list of valid names moves to the hint.
    let message = match message.split_once(", expected ") {
        Some((head, _))
            if head.starts_with("unknown field") || head.starts_with("unknown variant") =>
        {
            head
        }
        _ => message,
    };
    message
        .replace("unknown variant", "unknown value")
        .replace("invalid type: unit value", "invalid type: empty value")
}

/// A hint derived from serde's message, for the common mistakes.
pub fn hint_for(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("unknown field ")
        && let Some((_, expected)) = rest.split_once(", expected ")
    {
        let field = rest.split('`').nth(1).unwrap_or_default();
        let names: Vec<&str> = expected
            .trim_start_matches("one of ")
            .split([',', ' '])
            .map(|n| n.trim_matches('`'))
            .filter(|n| !n.is_empty() && *n != "or")
            .collect();
        let suggestion = closest(field, &names)
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        return Some(format!(
            "{suggestion}valid fields here: {}",
            expected.trim_start_matches("one of ")
        ));
    }
    if message.starts_with("missing field") {
        return Some("add the field; see `prodcheck schema` for the checklist format".into());
    }
    if message.starts_with("unknown variant") {
        return message
            .split_once(", expected ")
            .map(|(_, e)| format!("valid values: {}", e.trim_start_matches("one of ")));
    }
    None
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // Optimal string alignment distance: edits plus adjacent transpositions (`tsl` → `tls`).
    fn distance(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        d[0] = (0..=b.len()).collect();
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[i - 2][j - 2] + 1);
                }
                d[i][j] = best;
            }
        }
        d[a.len()][b.len()]
    }
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_suggestions() {
        assert_eq!(closest("tsl", &["http", "tls", "tcp"]), Some("tls"));
        assert_eq!(closest("database", &["http", "tls"]), None);
    }
}
