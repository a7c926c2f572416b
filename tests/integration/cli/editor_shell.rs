//! Editor and shell integration: the committed `checklists/schema.json` (used through the
//! `yaml-language-server` comment) never goes stale; completions and the man page come from clap.

#[test]
fn committed_schema_matches_prodcheck_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/checklists/schema.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == prodcheck::schema::checklist_schema(),
        "checklists/schema.json is stale or missing; regenerate it with\n  cargo run -q -- schema > checklists/schema.json"
    );
}

#[test]
fn shipped_checklists_point_editors_at_the_schema() {
    for (name, text) in prodcheck::catalog::SHIPPED {
        assert!(
            text.starts_with("# yaml-language-server: $schema=./schema.json"),
            "checklists/{name}.yaml lacks the schema comment"
        );
    }
}

#[test]
fn completions_and_man_page_are_generated_from_the_cli() {
    use crate::support::*;
    let p = Project::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef prodcheck"),
        ("fish", "complete -c prodcheck"),
    ] {
        let ran = p.case().args(["completions", shell]).run();
        assert!(ran.stdout.contains(marker), "{shell}: {}", ran.stdout);
        assert!(
            ran.stdout.contains("signoff"),
            "{shell} knows the subcommands"
        );
    }
    let ran = p.case().arg("man").stdout_has(".TH prodcheck").run();
    assert!(ran.stdout.contains("waive"));
    assert_eq!(run(p.cmd().args(["completions", "tcsh"])).code, 2);
}
