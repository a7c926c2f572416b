//! Signed sign-offs and waivers with real `ssh-keygen` keys made in a temp dir: the review
//! flow counts, and forged, hand-edited or self-approved records are reported in every format.

use std::path::{Path, PathBuf};

use crate::support::{Project, closed_port, item, json, require_binary, run};

const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";

/// A section whose items name the `sre` group as approvers, with or without four eyes.
fn checklist(four_eyes: bool, refused: &str) -> String {
    let http = |id: &str| {
        format!(
            "      - id: {id}\n        title: {id} title\n        timeout: 2s\n        check: {{ http: {{ url: \"{refused}\" }} }}\n"
        )
    };
    format!(
        "name: signed\nsections:\n  - name: Release\n    approvers: [sre]\n    four_eyes: {four_eyes}\n    items:\n      - id: runbook\n        title: Runbook reviewed\n        manual: {{ how: Read it., every: 30d }}\n{}{}",
        http("down"),
        http("down-too")
    )
}

/// A fresh ed25519 key pair `dir/name`; returns the private key's path.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    key
}

/// `PRINCIPAL KEYTYPE KEY` for allowed_signers.
fn signer(principal: &str, key: &Path) -> String {
    let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
    let fields: Vec<&str> = public.split_whitespace().take(2).collect();
    format!("{principal} {}\n", fields.join(" "))
}

struct Setup {
    p: Project,
    keys: tempfile::TempDir,
    refused: String,
}

impl Setup {
    fn new() -> Option<Setup> {
        require_binary("ssh-keygen", "openssh-client")?;
        let keys = tempfile::tempdir().expect("key dir");
        for name in ["ada", "bob", "mallory"] {
            keygen(keys.path(), name);
        }
        let s = Setup {
            p: Project::new(),
            keys,
            refused: format!("http://127.0.0.1:{}/", closed_port()),
        };
        s.trust(&[(ADA, "ada"), (BOB, "bob")]);
        s.p.file(
            ".prodcheck/approvers.yaml",
            &format!("groups:\n  sre: [{ADA}, {BOB}]\n"),
        );
        s.p.file("c.yaml", &checklist(true, &s.refused));
        Some(s)
    }

    fn key(&self, name: &str) -> String {
        self.keys.path().join(name).display().to_string()
    }

    /// Writes allowed_signers: each principal with the named key.
    fn trust(&self, owners: &[(&str, &str)]) {
        let text: String = owners
            .iter()
            .map(|(who, key)| signer(who, &self.keys.path().join(key)))
            .collect();
        self.p.file(".prodcheck/allowed_signers", &text);
    }

    fn ok(&self, args: &[&str]) -> String {
        let ran = run(self.p.cmd().args(args));
        assert_eq!(ran.code, 0, "{args:?}: {}{}", ran.stdout, ran.stderr);
        ran.stdout
    }

    fn request_waiver(&self, item: &str) {
        self.ok(&[
            "waive",
            "c.yaml",
            item,
            "--reason",
            "vendor fix pending",
            "--until",
            "2999-12-31",
            "--risk",
            "high",
            "--requested-by",
            ADA,
        ]);
    }
}

#[test]
fn a_requested_and_approved_signoff_and_waiver_count() {
    let Some(s) = Setup::new() else { return };
    let ran = run(s.p.cmd().args(["run", "c.yaml", "--confirm", "runbook"]));
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("--confirm `runbook`: the item names approvers, so only a sign-off signed by one of them confirms it"),
        "{}",
        ran.stderr
    );
    let ran = run(s
        .p
        .cmd()
        .args(["run", "c.yaml", "--only", "runbook", "--report", "json"]));
    assert_eq!(ran.code, 4, "{}", ran.stdout);
    assert!(
        item(&json(&ran), "runbook")["message"]
            .as_str()
            .is_some_and(
                |m| m.starts_with("not confirmed: only a sign-off signed by an approver counts")
            ),
        "{}",
        ran.stdout
    );
    s.ok(&["signoff", "c.yaml", "runbook", "--requested-by", ADA]);
    let ran = run(s
        .p
        .cmd()
        .args(["run", "c.yaml", "--only", "runbook", "--report", "json"]));
    assert_eq!(
        ran.code, 4,
        "a request alone confirms nothing: {}",
        ran.stdout
    );
    let runbook = item(&json(&ran), "runbook").clone();
    assert!(
        runbook["message"]
            .as_str()
            .is_some_and(|m| m.contains("awaiting approval (`prodcheck approve signed runbook`)")),
        "{runbook}"
    );

    let out = s.ok(&[
        "approve",
        "c.yaml",
        "runbook",
        "--key",
        &s.key("bob"),
        "--by",
        BOB,
    ]);
    assert!(
        out.contains("approved `runbook` in `signed` as bob@example.com"),
        "{out}"
    );
    s.request_waiver("down");
    s.ok(&[
        "approve",
        "c.yaml",
        "down",
        "--key",
        &s.key("bob"),
        "--by",
        BOB,
    ]);
    let signed = std::fs::read_to_string(s.p.path().join(".prodcheck/waivers.yaml")).expect("read");
    assert!(signed.contains("-----BEGIN SSH SIGNATURE-----"), "{signed}");

    let ran = run(s
        .p
        .cmd()
        .args(["run", "c.yaml", "--skip", "down-too", "--report", "json"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let runbook = item(&report, "runbook");
    assert_eq!(runbook["status"], "confirmed", "{runbook}");
    assert!(
        runbook["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("confirmed by bob@example.com until ")),
        "{runbook}"
    );
    let down = item(&report, "down");
    assert_eq!(down["status"], "waived", "{down}");
    assert_eq!(down["waiver"]["by"], BOB);
    assert_eq!(down["waiver"]["requested_by"], ADA);
    assert_eq!(down["waiver"]["risk"], "high");
    assert!(
        down["message"].as_str().is_some_and(|m| m.starts_with(
            "waived by bob@example.com until 2999-12-31, high risk: vendor fix pending"
        )),
        "{down}"
    );

    let ran = run(s.p.cmd().args(["validate", "c.yaml"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("waivers.yaml (1 records, signatures checked)"),
        "{}",
        ran.stdout
    );
}

#[test]
fn edited_foreign_and_self_approved_records_do_not_count_in_any_format() {
    let Some(s) = Setup::new() else { return };
    // Self-approval is refused when it is made...
    let ran = run(s.p.cmd().args([
        "waive",
        "c.yaml",
        "down-too",
        "--reason",
        "mine",
        "--until",
        "2999-12-31",
        "--risk",
        "low",
        "--key",
        &s.key("ada"),
        "--by",
        ADA,
    ]));
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("self-approved: requested and approved by `ada@example.com`"),
        "{}",
        ran.stderr
    );
    // ...and when four eyes are required later, an earlier one stops counting.
    s.p.file("c.yaml", &checklist(false, &s.refused));
    s.ok(&[
        "waive",
        "c.yaml",
        "down-too",
        "--reason",
        "mine",
        "--until",
        "2999-12-31",
        "--risk",
        "low",
        "--key",
        &s.key("ada"),
        "--by",
        ADA,
    ]);
    s.p.file("c.yaml", &checklist(true, &s.refused));

    // A sign-off approved properly, then its validity stretched by hand.
    s.ok(&["signoff", "c.yaml", "runbook", "--requested-by", ADA]);
    s.ok(&[
        "approve",
        "c.yaml",
        "runbook",
        "--key",
        &s.key("bob"),
        "--by",
        BOB,
    ]);
    let path = s.p.path().join(".prodcheck/signoffs.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    let edited = text.replace("until: \"20", "until: \"29");
    assert_ne!(edited, text, "{text}");
    std::fs::write(&path, edited).expect("edit");

    // Mallory's own key is trusted, but mallory is none of the item's approvers.
    s.request_waiver("down");
    s.trust(&[
        (ADA, "ada"),
        (BOB, "bob"),
        ("mallory@example.com", "mallory"),
    ]);
    let ran = run(s.p.cmd().args([
        "approve",
        "c.yaml",
        "down",
        "--key",
        &s.key("mallory"),
        "--by",
        "mallory@example.com",
    ]));
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("approver `mallory@example.com` is not among the item's approvers (sre = ada@example.com, bob@example.com)"),
        "{}",
        ran.stderr
    );
    // A waiver "approved by bob" with mallory's key, while mallory's key was trusted as bob's.
    s.trust(&[(ADA, "ada"), (BOB, "mallory")]);
    s.ok(&[
        "approve",
        "c.yaml",
        "down",
        "--key",
        &s.key("mallory"),
        "--by",
        BOB,
    ]);
    s.trust(&[(ADA, "ada"), (BOB, "bob")]);

    let reasons = [
        "the signature does not match the record: it was changed after signing",
        "signed by a key that is not in",
        "self-approved: requested and approved by `ada@example.com`",
    ];
    let ran = run(s.p.cmd().args([
        "run",
        "c.yaml",
        "--report",
        "json",
        "--report",
        "junit=r.xml",
        "--report",
        "markdown=r.md",
        "--report",
        "human=r.txt",
        "--report",
        "tap=r.tap",
    ]));
    assert_ne!(ran.code, 0, "{}", ran.stdout);
    let report = json(&ran);
    for (id, status, reason) in [
        ("runbook", "pending", reasons[0]),
        ("down", "fail", reasons[1]),
        ("down-too", "fail", reasons[2]),
    ] {
        let i = item(&report, id);
        assert_eq!(i["status"], status, "{i}");
        assert!(
            i["message"].as_str().is_some_and(|m| m.contains(reason)),
            "{i}"
        );
        let rejected = &i["evidence"]["rejected_records"][0];
        assert!(
            rejected["reason"]
                .as_str()
                .is_some_and(|m| m.contains(reason)),
            "{i}"
        );
    }
    for file in ["r.xml", "r.md", "r.txt", "r.tap"] {
        let text = std::fs::read_to_string(s.p.path().join(file)).expect("report file");
        for reason in reasons {
            assert!(text.contains(reason), "{file} lacks `{reason}`:\n{text}");
        }
    }
    let human = std::fs::read_to_string(s.p.path().join("r.txt")).expect("human");
    assert!(
        human.contains("3 rejected sign-off(s)/waiver(s) on record (they do not count):"),
        "{human}"
    );
    assert!(
        human.contains("waiver of down by bob@example.com: signed by a key that is not in"),
        "{human}"
    );

    let ran = run(s.p.cmd().args(["validate", "c.yaml"]));
    assert_eq!(ran.code, 2, "{}", ran.stdout);
    for (file, reason) in [
        (
            "signoffs.yaml:4: rejected the sign-off of `runbook`",
            reasons[0],
        ),
        ("waivers.yaml:4: rejected the waiver of `down`", reasons[1]),
        (
            "rejected the waiver of `down-too` in `signed` by ada@example.com",
            reasons[2],
        ),
    ] {
        let line = ran.stdout.lines().find(|l| l.contains(file));
        assert!(
            line.is_some_and(|l| l.contains(reason)),
            "`{file}` … `{reason}` in:\n{}",
            ran.stdout
        );
    }
}
