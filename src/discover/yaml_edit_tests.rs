use super::*;

fn edit(var: &str, value: Option<&str>, comment: &str) -> Edit {
    Edit {
        var: var.into(),
        value: value.map(str::to_string),
        comment: comment.into(),
    }
}

fn var<'a>(doc: &'a Node, env: &str, name: &str) -> Option<&'a Node> {
    doc.get("environments")?.get(env)?.get("vars")?.get(name)
}

#[test]
fn replaces_a_default_keeps_every_comment_and_aligns_with_the_old_one() {
    let text = "# project settings\nchecklists: checklists   # local overrides\n\nenvironments:\n  staging:\n    # the staging stack\n    vars:\n      base_url:   https://s.test     # set by me\n      health_url: ${base_url}/health # default\n\n# targets:\n#   shop: {}\n";
    let out = apply(
        text,
        "staging",
        &[edit(
            "health_url",
            Some("https://s.test/healthz"),
            "found: /healthz answers 200",
        )],
    )
    .expect("edited");
    assert_eq!(
        out,
        "# project settings\nchecklists: checklists   # local overrides\n\nenvironments:\n  staging:\n    # the staging stack\n    vars:\n      base_url:   https://s.test     # set by me\n      health_url: https://s.test/healthz  # found: /healthz answers 200\n\n# targets:\n#   shop: {}\n"
    );
}

#[test]
fn appends_missing_variables_after_the_last_one_before_trailing_comments() {
    let text = "environments:\n  staging:\n    vars:\n      base_url: https://s.test  # mine\n# a comment after the block\nstate: .prodcheck\n";
    let out = apply(
        text,
        "staging",
        &[
            edit("ws_url", None, "not found: no path upgraded"),
            edit("api_job", Some("api"), "found: scrapes s.test"),
        ],
    )
    .expect("edited");
    assert_eq!(
        out,
        "environments:\n  staging:\n    vars:\n      base_url: https://s.test  # mine\n      ws_url: ~                 # not found: no path upgraded\n      api_job: api              # found: scrapes s.test\n# a comment after the block\nstate: .prodcheck\n"
    );
}

#[test]
fn flow_mappings_become_blocks_with_their_values_and_comments() {
    let text = "environments:\n  staging: { vars: { base_url: \"https://s.test\", api_headers: { Authorization: \"Bearer ${env:T}\" } } }  # flow\n  production:\n    vars: {}\n";
    let out = apply(
        text,
        "staging",
        &[edit(
            "login_url",
            Some("https://s.test/login"),
            "found: sets session",
        )],
    )
    .expect("edited");
    assert_eq!(
        out,
        "environments:\n  staging: # flow\n    vars:\n      base_url: \"https://s.test\"\n      api_headers: { Authorization: \"Bearer ${env:T}\" }\n      login_url: https://s.test/login  # found: sets session\n  production:\n    vars: {}\n"
    );
    let doc = node::parse(&out).expect("parses");
    assert_eq!(
        var(&doc, "staging", "api_headers").map(Node::to_json),
        Some(serde_json::json!({"Authorization": "Bearer ${env:T}"}))
    );
}

#[test]
fn an_empty_flow_vars_and_a_multi_line_flow_with_comments() {
    let text = "environments:\n  production:\n    vars: {}   # nothing yet\n  staging:\n    vars: {\n      # the URL\n      base_url: https://s.test,\n      timeout: 5s\n    }\n";
    let out = apply(
        text,
        "production",
        &[edit("node_job", Some("node"), "found")],
    )
    .expect("edited");
    assert!(
        out.starts_with("environments:\n  production:\n    vars: # nothing yet\n      node_job: node  # found\n  staging:\n"),
        "{out}"
    );
    let out = apply(&out, "staging", &[edit("node_job", None, "not found")]).expect("edited");
    assert!(
        out.ends_with("  staging:\n    vars:\n      # the URL\n      base_url: https://s.test\n      timeout: 5s\n      node_job: ~  # not found\n"),
        "{out}"
    );
}

#[test]
fn a_missing_environment_or_file_section_is_created() {
    let out = apply(
        "checklists: lists\n",
        "staging",
        &[edit("api_job", Some("api"), "found")],
    )
    .expect("edited");
    assert_eq!(
        out,
        "checklists: lists\nenvironments:\n  staging:\n    vars:\n      api_job: api  # found\n"
    );
    let out = apply(
        "environments:\n  production:\n    vars:\n      base_url: https://p.test\n\n# end\n",
        "staging",
        &[edit("api_job", Some("api"), "found")],
    )
    .expect("edited");
    assert_eq!(
        out,
        "environments:\n  production:\n    vars:\n      base_url: https://p.test\n  staging:\n    vars:\n      api_job: api  # found\n\n# end\n"
    );
    let out = apply(
        "environments:   # none yet\n",
        "staging",
        &[edit("a", Some("1"), "x")],
    )
    .expect("edited");
    assert_eq!(
        out,
        "environments:   # none yet\n  staging:\n    vars:\n      a: 1  # x\n"
    );
    let out = apply("", "staging", &[edit("a", Some("1"), "x")]).expect("edited");
    assert_eq!(
        out,
        "environments:\n  staging:\n    vars:\n      a: 1  # x\n"
    );
}

#[test]
fn a_multi_line_old_value_is_replaced_whole_and_null_vars_become_a_block() {
    let text = "environments:\n  staging:\n    vars: ~  # to fill\n  prod:\n    vars:\n      protected_urls:\n        - https://p.test/admin\n        - https://p.test/internal\n      other: 1\n";
    let out = apply(
        text,
        "prod",
        &[edit(
            "protected_urls",
            Some("[\"https://p.test/admin\"]"),
            "found: 401",
        )],
    )
    .expect("edited");
    assert!(
        out.contains("    vars:\n      protected_urls: [\"https://p.test/admin\"]  # found: 401\n      other: 1\n"),
        "{out}"
    );
    let out = apply(&out, "staging", &[edit("a", Some("1"), "x")]).expect("edited");
    assert!(
        out.starts_with(
            "environments:\n  staging:\n    vars: # to fill\n      a: 1  # x\n  prod:\n"
        ),
        "{out}"
    );
}

#[test]
fn values_are_quoted_only_when_plain_text_would_change_them() {
    assert_eq!(
        render_str("https://s.test/healthz"),
        "https://s.test/healthz"
    );
    assert_eq!(
        render_str("dist/assets/index-*.js"),
        "dist/assets/index-*.js"
    );
    assert_eq!(render_str("*.js"), "\"*.js\"");
    assert_eq!(render_str("yes"), "yes");
    assert_eq!(render_str("1"), "\"1\"");
    assert_eq!(render_str("true"), "\"true\"");
    assert_eq!(render_str("a #b"), "\"a #b\"");
    assert_eq!(render_str("{x}"), "\"{x}\"");
    assert_eq!(render_str(""), "\"\"");
}

#[test]
fn a_broken_result_is_refused_instead_of_written() {
    let e = apply(
        "environments:\n  staging:\n    vars:\n      a: 1\n",
        "staging",
        &[edit("b", Some("[unclosed"), "x")],
    )
    .expect_err("invalid value");
    assert!(e.message.contains("invalid YAML"), "{e}");
    let e = apply("environments: [1]\n", "staging", &[]).expect_err("not a mapping");
    assert!(e.message.contains("must be a mapping"), "{e}");
}

#[test]
fn comment_columns_ignore_hashes_inside_quotes() {
    assert_eq!(comment_start(" \"a # b\"  # c"), Some(10));
    assert_eq!(comment_start(" 'it''s' # c"), Some(9));
    assert_eq!(comment_start(" a#b"), None);
}
