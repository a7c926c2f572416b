//! Manual items: asking a human on the terminal (y / n / s / ?), with an optional note.
//! Prompts go to stderr so that a report on stdout stays clean.

use std::io::{BufRead, Write};

use crate::checklist::Item;

/// What a human answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Confirmed {
        note: Option<String>,
    },
    Declined {
        note: Option<String>,
    },
    /// Skipped at the prompt: the item stays pending.
    Skipped,
}

/// Asks for one manual item. Implementations block; the runner calls them off the runtime.
pub trait Prompter: Send + Sync {
    fn ask(&self, section: &str, item: &Item, how: &str) -> Answer;
}

/// Reads answers from stdin, prints prompts on stderr.
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn ask(&self, section: &str, item: &Item, how: &str) -> Answer {
        let stdin = std::io::stdin();
        let mut err = std::io::stderr();
        let _ = writeln!(err, "\n[{section}] {} ({})", item.title, item.id);
        let _ = writeln!(err, "  {}", how.replace('\n', "\n  "));
        loop {
            let _ = write!(err, "Confirmed? [y]es / [n]o / [s]kip / [?] details: ");
            let _ = err.flush();
            let mut line = String::new();
            match stdin.lock().read_line(&mut line) {
                Ok(0) | Err(_) => return Answer::Skipped, // stdin closed: nobody can answer
                Ok(_) => {}
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => {
                    return Answer::Confirmed {
                        note: read_note(&stdin, &mut err),
                    };
                }
                "n" | "no" => {
                    return Answer::Declined {
                        note: read_note(&stdin, &mut err),
                    };
                }
                "s" | "skip" => return Answer::Skipped,
                "?" | "" => {
                    let _ = writeln!(
                        err,
                        "  id: {}\n  severity: {}\n  tags: {}\n  how: {}",
                        item.id,
                        item.severity.as_str(),
                        item.tags.join(", "),
                        how
                    );
                }
                other => {
                    let _ = writeln!(err, "  `{other}` is not an answer: type y, n, s or ?");
                }
            }
        }
    }
}

fn read_note(stdin: &std::io::Stdin, err: &mut std::io::Stderr) -> Option<String> {
    let _ = write!(err, "Note (optional, Enter to skip): ");
    let _ = err.flush();
    let mut line = String::new();
    stdin.lock().read_line(&mut line).ok()?;
    let note = line.trim();
    (!note.is_empty()).then(|| note.to_string())
}
