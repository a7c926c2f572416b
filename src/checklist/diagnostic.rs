//! A problem found in a checklist or config file, rendered the way compilers do:
//! `file:line:col`, the source line, a caret under the spot, and a `help:` line.

use colored::Colorize;

use super::node::Pos;

/// One error pointing into a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
    /// The source line at `pos` (without its newline), if the file has one.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `pos` in `text` (the file's contents, for the source line).
    pub fn new(file: &str, text: &str, pos: Pos, message: impl Into<String>) -> Self {
        let source_line = (pos.line > 0)
            .then(|| text.lines().nth(pos.line as usize - 1).map(str::to_string))
            .flatten();
        Diagnostic {
            file: file.to_string(),
            pos,
            message: message.into(),
            hint: None,
            source_line,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn maybe_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    /// `file:line:col`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.pos.line, self.pos.col)
    }

    /// The multi-line rendering (colours follow the global `colored` override).
    pub fn render(&self) -> String {
        let mut out = format!("{}: {}\n", "error".red().bold(), self.message.bold());
        let gutter = self.pos.line.to_string().len();
        let pad = " ".repeat(gutter);
        out.push_str(&format!(
            "{pad}{} {}\n",
            "-->".blue().bold(),
            self.location()
        ));
        if let Some(line) = &self.source_line {
            let col = (self.pos.col.max(1) - 1) as usize;
            let width = token_width(line, col);
            let lead: String = line
                .chars()
                .take(col)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("{pad} {}\n", "|".blue().bold()));
            out.push_str(&format!(
                "{} {} {line}\n",
                self.pos.line.to_string().blue().bold(),
                "|".blue().bold()
            ));
            out.push_str(&format!(
                "{pad} {} {lead}{}\n",
                "|".blue().bold(),
                "^".repeat(width).red().bold()
            ));
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!(
                "{pad} {} {}: {hint}\n",
                "=".blue().bold(),
                "help".bold()
            ));
        }
        out
    }
}

/// Width of the token starting at `col`: a quoted string, or up to the next YAML delimiter.
fn token_width(line: &str, col: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(col).collect();
    let Some(&first) = rest.first() else { return 1 };
    if first == '"' || first == '\'' {
        let end = rest.iter().skip(1).position(|&c| c == first).map(|p| p + 2);
        return end.unwrap_or(rest.len()).max(1);
    }
    if first == '[' || first == '{' {
        return 1;
    }
    let stop = rest
        .iter()
        .enumerate()
        .position(|(i, &c)| {
            c == ','
                || c == '}'
                || c == ']'
                || c == '#' && i > 0
                || (c == ':' && rest.get(i + 1).is_none_or(|n| n.is_whitespace()))
        })
        .unwrap_or(rest.len());
    let token: String = rest[..stop].iter().collect();
    token.trim_end().chars().count().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_and_caret() {
        colored::control::set_override(false);
        let text = "name: x\nsections:\n  - tsl: { host: a }\n";
        let d = Diagnostic::new(
            "f.yaml",
            text,
            Pos {
                line: 3,
                col: 5,
                src: 0,
            },
            "unknown probe kind `tsl`",
        )
        .hint("valid kinds: http, tcp");
        let r = d.render();
        assert!(r.contains("--> f.yaml:3:5"), "{r}");
        assert!(r.contains("3 |   - tsl: { host: a }"), "{r}");
        assert!(r.contains("  |     ^^^\n"), "{r}");
        assert!(r.contains("= help: valid kinds"), "{r}");
    }

    #[test]
    fn caret_covers_quoted_strings() {
        assert_eq!(token_width(r#"  url: "http://x y" # c"#, 7), 12);
        assert_eq!(token_width("  timeout: 10 parsecs", 11), 10);
    }
}
