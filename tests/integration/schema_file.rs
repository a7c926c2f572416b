//! `checklists/schema.json` is the committed copy of `prodcheck schema` that editors use
//! through the `yaml-language-server` comment; it must never go stale.

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
