//! Flow mappings (`staging: { vars: { a: 1 } }`) rewritten as block mappings, entry per line,
//! so that the line editor can replace and append variables; entries keep their own text.

use super::{EditError, Key, err};

/// The pieces of a flow mapping's inside: its top-level entries and the comments met.
#[derive(Debug, Default, PartialEq)]
struct Flow {
    entries: Vec<String>,
    comments: Vec<String>,
    /// Line index of the closing brace and the text after it on that line.
    close_line: usize,
    trailing: String,
}

/// Splits the flow mapping opening at `lines[line][col]` (`{`) into entries.
fn split_flow(lines: &[String], line: usize, col: usize) -> Result<Flow, EditError> {
    let mut flow = Flow::default();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut current = String::new();
    for (li, text) in lines.iter().enumerate().skip(line) {
        let start = if li == line { col } else { 0 };
        let mut prev = ' ';
        let mut chars = text[start..].char_indices().peekable();
        while let Some((off, c)) = chars.next() {
            let i = start + off;
            match quote {
                Some('"') if c == '\\' => {
                    current.push(c);
                    if let Some((_, n)) = chars.next() {
                        current.push(n);
                    }
                    prev = c;
                    continue;
                }
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '#' && prev.is_whitespace() => {
                    flow.comments.push(text[i..].trim().to_string());
                    break;
                }
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '{' || c == '[' => {
                    depth += 1;
                    if depth == 1 {
                        prev = c;
                        continue;
                    }
                }
                None if c == '}' || c == ']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        push_entry(&mut flow.entries, &current);
                        flow.close_line = li;
                        flow.trailing = text[i + 1..].to_string();
                        return Ok(flow);
                    }
                }
                None if c == ',' && depth == 1 => {
                    push_entry(&mut flow.entries, &current);
                    current.clear();
                    prev = c;
                    continue;
                }
                None => {}
            }
            current.push(c);
            prev = c;
        }
        current.push(' ');
    }
    Err(err(line + 1, "unclosed flow mapping"))
}

fn push_entry(entries: &mut Vec<String>, text: &str) {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !t.is_empty() {
        entries.push(t);
    }
}

/// Rewrites `key: { a: 1, b: 2 }  # c` as `key:  # c` and one line per entry below it.
pub(super) fn blockify(
    lines: &mut Vec<String>,
    key: &Key<'_>,
    after: usize,
) -> Result<(), EditError> {
    let open = lines[key.line][after..]
        .find('{')
        .map(|o| after + o)
        .ok_or_else(|| err(key.line + 1, "expected a flow mapping"))?;
    let flow = split_flow(lines, key.line, open)?;
    let trailing = flow.trailing.trim();
    if !trailing.is_empty() && !trailing.starts_with('#') {
        return Err(err(
            flow.close_line + 1,
            "unexpected text after the flow mapping",
        ));
    }
    let mut head = lines[key.line][..after].to_string();
    if !trailing.is_empty() {
        head.push(' ');
        head.push_str(trailing);
    }
    let pad = " ".repeat(key.indent + 2);
    let mut block = vec![head];
    block.extend(flow.comments.iter().map(|c| format!("{pad}{c}")));
    block.extend(flow.entries.iter().map(|e| format!("{pad}{e}")));
    lines.splice(key.line..=flow.close_line, block);
    Ok(())
}
