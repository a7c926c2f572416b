//! Checklists for tests: one builder that writes the YAML a test needs (sections, items,
//! timeouts, probe blocks in flow style), so no test module writes its own.

use std::fmt::Write as _;

/// A checklist under construction; [`Checklist::build`] writes it as YAML.
///
/// ```ignore
/// Checklist::new("t").section("S").item(Item::check("up", r#"http: { url: "…" }"#).timeout("5s"))
/// ```
pub struct Checklist {
    name: String,
    title: Option<String>,
    sections: Vec<(String, String)>,
}

impl Checklist {
    pub fn new(name: &str) -> Checklist {
        Checklist {
            name: name.into(),
            title: None,
            sections: Vec::new(),
        }
    }

    pub fn title(mut self, title: &str) -> Checklist {
        self.title = Some(title.into());
        self
    }

    /// Starts a section; items go into the last section started (`S` when none was).
    pub fn section(mut self, name: &str) -> Checklist {
        self.sections.push((name.into(), String::new()));
        self
    }

    pub fn item(mut self, item: Item) -> Checklist {
        let text = item.to_yaml();
        self.last().push_str(&text);
        self
    }

    /// Item YAML written by hand (each line indented by six spaces, `- id:` first).
    pub fn raw_items(mut self, yaml: &str) -> Checklist {
        self.last().push_str(yaml);
        self
    }

    fn last(&mut self) -> &mut String {
        if self.sections.is_empty() {
            self.sections.push(("S".into(), String::new()));
        }
        let last = self.sections.len() - 1;
        &mut self.sections[last].1
    }

    pub fn build(&self) -> String {
        let mut text = format!("name: {}\n", self.name);
        if let Some(title) = &self.title {
            let _ = writeln!(text, "title: {title}");
        }
        text.push_str("sections:\n");
        for (name, items) in &self.sections {
            let _ = write!(text, "  - name: {name}\n    items:\n{items}");
        }
        text
    }
}

/// One item: an automated `check` (flow style or a block) or a `manual` confirmation.
pub struct Item {
    id: String,
    title: String,
    timeout: Option<String>,
    lines: Vec<String>,
    body: String,
}

impl Item {
    /// An item whose `check:` is the flow-style probe block `check` (`exec: { shell: "exit 0" }`).
    pub fn check(id: &str, check: &str) -> Item {
        Item::with_body(id, format!("check: {{ {check} }}"))
    }

    /// An item whose `check:` is `kind:` followed by `params`, lines already indented by ten
    /// spaces (a block mapping).
    pub fn check_block(id: &str, kind: &str, params: &str) -> Item {
        Item::check_lines(id, &format!("          {kind}:\n{params}"))
    }

    /// An item whose `check:` mapping is `lines`, written by hand and indented by ten spaces.
    pub fn check_lines(id: &str, lines: &str) -> Item {
        Item::with_body(id, format!("check:\n{lines}"))
    }

    /// A manual item; `manual` is its flow-style mapping (`{ how: Read it., every: 30d }`).
    pub fn manual(id: &str, manual: &str) -> Item {
        Item::with_body(id, format!("manual: {manual}"))
    }

    fn with_body(id: &str, body: String) -> Item {
        Item {
            id: id.into(),
            title: id.into(),
            timeout: None,
            lines: Vec::new(),
            body,
        }
    }

    pub fn title(mut self, title: &str) -> Item {
        self.title = title.into();
        self
    }

    pub fn timeout(mut self, timeout: &str) -> Item {
        self.timeout = Some(timeout.into());
        self
    }

    /// Another field of the item (`severity: warning`), written before the check.
    pub fn field(mut self, key: &str, value: &str) -> Item {
        self.lines.push(format!("{key}: {value}"));
        self
    }

    fn to_yaml(&self) -> String {
        let mut text = format!("      - id: {}\n        title: {}\n", self.id, self.title);
        if let Some(timeout) = &self.timeout {
            let _ = writeln!(text, "        timeout: {timeout}");
        }
        for line in &self.lines {
            let _ = writeln!(text, "        {line}");
        }
        let _ = writeln!(text, "        {}", self.body);
        text
    }
}

/// A checklist with one item per `(id, check)`, each under `timeout`; `check` is the probe
/// block in YAML flow style (`exec: { shell: "exit 0" }`).
pub fn checklist_of(timeout: &str, items: &[(&str, &str)]) -> String {
    items
        .iter()
        .fold(Checklist::new("t").section("S"), |list, (id, check)| {
            list.item(Item::check(id, check).timeout(timeout))
        })
        .build()
}
