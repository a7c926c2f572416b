//! `prodcheck docs`: a checklist as a Markdown runbook, with resolved parameters, manual
//! `how`, cadences and fixes, secrets redacted.

use crate::support::*;

#[test]
fn docs_renders_a_runbook_with_parameters_how_and_fix() {
    let p = Project::new();
    p.file(
        "c.yaml",
        r#"name: svc
title: Service runbook
vars:
  base_url: https://shop.example
sections:
  - name: Web
    items:
      - id: health
        title: Health answers
        fix: Restart the service.
        docs: https://wiki.example/health
        every: 7d
        check:
          http:
            url: ${base_url}/health
            headers: { Authorization: "Bearer ${env:DOCS_TOKEN}" }
            expect: { status: 200 }
      - id: runbook
        title: Runbook current
        manual: { how: Open the runbook and check the on-call rota., every: 30d }
"#,
    );
    let ran = p
        .case()
        .env("DOCS_TOKEN", "docs-canary-secret")
        .args(["docs", "c.yaml"])
        .run();
    let text = ran.stdout;
    for want in [
        "# svc — Service runbook",
        "### `health` — Health answers",
        "automated: `http` · every 7d",
        "`url: https://shop.example/health`",
        "- Fix: Restart the service.",
        "- Docs: <https://wiki.example/health>",
        "### `runbook` — Runbook current",
        "manual sign-off · every 30d",
        "How to confirm: Open the runbook and check the on-call rota.",
        "2 items: 1 automated, 1 confirmed by a person.",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
    assert!(
        !text.contains("docs-canary-secret"),
        "secret leaked:\n{text}"
    );
    assert!(text.contains("Bearer ***"), "{text}");
}

#[test]
fn docs_of_a_shipped_checklist_names_what_is_unset() {
    let p = Project::new();
    p.case()
        .args(["docs", "pre-deploy"])
        .stdout_has("`warn_days: 30`")
        .stdout_has("Needs (no default, set per environment): `base_url`")
        .run();
}
