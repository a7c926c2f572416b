//! Every invalid fixture is rejected by `validate` with exit 2 and its exact diagnostic
//! (snapshots under `tests/integration/cli/snapshots`).

use crate::support::*;

#[test]
fn invalid_fixtures_have_exact_diagnostics() {
    let dir = std::path::Path::new("tests/fixtures/invalid");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "expected at least 20 fixtures, found {}",
        files.len()
    );
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let ran = run(prodcheck().args(["validate", file.to_str().unwrap_or_default()]));
        assert_code!(ran, 2, "{name} must be rejected");
        let location = format!("{}:", file.display());
        assert!(
            ran.stderr.contains(&location),
            "{name}: diagnostic lacks file:line:col:\n{}",
            ran.stderr
        );
        insta::assert_snapshot!(name, ran.stderr);
    }
}

#[test]
fn a_directory_validates_every_file_and_shipped_checklists_are_valid() {
    let ran = run(prodcheck().args(["validate", "checklists"]));
    assert_code!(ran, 0);
    for name in ["pre-deploy", "deploy", "post-deploy", "maintenance"] {
        assert!(
            ran.stdout.contains(&format!("ok checklists/{name}.yaml")),
            "{}",
            ran.stdout
        );
    }
    let ran = run(prodcheck().args(["validate", "tests/fixtures/invalid"]));
    assert_code!(ran, 2);
}
