//! Property tests of the checklist loader, in-process: arbitrary bytes and mutated valid
//! checklists never panic, and every rejection is a positioned diagnostic.

use prodcheck::checklist::{Source, VarSources, load};
use proptest::prelude::*;

const VALID: &str = r#"name: props
title: A valid checklist to mutate
vars: { base_url: "https://example.com", port: 443 }
defaults: { timeout: 5s, retries: 1 }
sections:
  - name: Web
    items:
      - id: health
        title: Health answers
        tags: [health]
        check:
          http:
            url: ${base_url}/health
            expect: { status: [200, 204], json: { /status: ok }, max_latency: 2s }
      - id: port
        title: Port open
        check: { tcp: { host: example.com, port: "${port}", tls: true } }
  - name: People
    items:
      - id: runbook
        title: Runbook current
        severity: warning
        manual:
          how: |
            Open the runbook; it names the on-call rotation.
          every: 30d
"#;

fn check(text: &str) {
    let source = Source {
        file: "fuzz.yaml".into(),
        text: text.to_string(),
    };
    let env = |_: &str| None;
    if let Err(diags) = load(&source, &VarSources::default(), &env) {
        assert!(
            !diags.is_empty(),
            "a rejection carries at least one diagnostic"
        );
        for d in diags {
            assert_eq!(d.file, "fuzz.yaml");
            assert!(d.pos.line >= 1, "diagnostic without a line: {d:?}");
            assert!(!d.message.is_empty());
            let _ = d.render();
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for e in edits {
        match e {
            Edit::Delete(at, len) if !s.is_empty() => {
                let at = at % s.len();
                let end = (at + len).min(s.len());
                s.drain(at..end);
            }
            Edit::Insert(at, piece) => {
                let at = if s.is_empty() { 0 } else { at % (s.len() + 1) };
                for (i, c) in piece.chars().enumerate() {
                    s.insert(at + i, c);
                }
            }
            Edit::DuplicateLine(n) | Edit::SwapLines(n, _) => {
                let text: String = s.iter().collect();
                let mut lines: Vec<&str> = text.lines().collect();
                if lines.is_empty() {
                    continue;
                }
                let a = n % lines.len();
                match e {
                    Edit::DuplicateLine(_) => lines.insert(a, lines[a]),
                    Edit::SwapLines(_, m) => {
                        let b = m % lines.len();
                        lines.swap(a, b);
                    }
                    _ => {}
                }
                s = lines.join("\n").chars().collect();
            }
            _ => {}
        }
    }
    s.into_iter().collect()
}

fn edit() -> impl Strategy<Value = Edit> {
    let piece = proptest::string::string_regex(r#"[-:{}\[\]"'\n #&*!|>%@$a-z0-9,.~]{1,12}"#)
        .expect("regex");
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, l)| Edit::Delete(a, l)),
        (any::<usize>(), piece).prop_map(|(a, p)| Edit::Insert(a, p)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_valid_checklists_never_panic(edits in proptest::collection::vec(edit(), 1..6)) {
        check(&apply(VALID, &edits));
    }
}

#[test]
fn the_unmutated_checklist_is_valid() {
    let source = Source {
        file: "fuzz.yaml".into(),
        text: VALID.into(),
    };
    assert!(load(&source, &VarSources::default(), &|_| None).is_ok());
}

#[test]
fn an_alias_bomb_is_rejected_quickly() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..12 {
        let prev = (b'a' + i - 1) as char;
        let cur = (b'a' + i) as char;
        text.push_str(&format!("{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    text.push_str("name: bomb\nsections: []\n");
    let started = std::time::Instant::now();
    let source = Source {
        file: "bomb.yaml".into(),
        text,
    };
    let result = load(&source, &VarSources::default(), &|_| None);
    assert!(result.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
