//! Plain-text layout shared by the terminal report and its parts: the width lines are kept to
//! off a terminal, and comma-separated lists wrapped under an indent.

/// Lines are wrapped (id lists) or cut (the attention list) to this width off a terminal.
pub(super) const WIDTH: usize = 100;

/// `text` cut to `max` characters with an ellipsis (one line of the attention list, an SVG
/// label that must fit its column).
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars()
            .take(max.saturating_sub(1))
            .chain(['…'])
            .collect()
    }
}

/// `words` joined by ", " and wrapped to `width`, each line indented by `indent`.
pub(super) fn wrap(words: &[&str], indent: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for (i, w) in words.iter().enumerate() {
        let piece = if i + 1 < words.len() {
            format!("{w},")
        } else {
            w.to_string()
        };
        if !line.is_empty() && indent.len() + line.len() + 1 + piece.len() > width {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines
}
