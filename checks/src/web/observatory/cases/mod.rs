//! The MDN HTTP Observatory's own test cases (mdn/mdn-http-observatory `test/*.test.js` at
//! commit 94042bbfbf9f1af722ad9114ada6d271dcb525b9), kept as data and run through our rules.
//!
//! `observatory.json` holds facts, not code: headers and `<meta>` in, result name, modifier and
//! pass flag out. To update, read the suite at a newer commit and diff it against this file.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::grade::{Finding, status_for};
use super::{cors, csp, headers, meta};
use crate::web::security_headers;

/// The Observatory commit the cases come from (also in the JSON).
const COMMIT: &str = "94042bbfbf9f1af722ad9114ada6d271dcb525b9";

#[derive(Deserialize)]
struct Doc {
    commit: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    file: String,
    it: String,
    headers: Vec<(String, String)>,
    #[serde(default)]
    html: String,
    #[serde(default = "yes")]
    https: bool,
    origin: Option<String>,
    result: Option<String>,
    modifier: Option<i32>,
    pass: Option<bool>,
    skip: Option<String>,
    flags: Option<BTreeMap<String, bool>>,
}

fn yes() -> bool {
    true
}

/// The finding prodcheck gives for the result family of `result`.
fn finding_for(case: &Case, h: &[(String, String)], result: &str) -> Option<Finding> {
    if result.starts_with("cross-origin-resource-sharing") {
        return Some(cors::evaluate(
            headers::first(h, "access-control-allow-origin"),
            case.origin.as_deref(),
            headers::first(h, "access-control-allow-credentials"),
        ));
    }
    let header = [
        ("hsts-", "Strict-Transport-Security"),
        ("csp-", "Content-Security-Policy"),
        ("x-content-type-options-", "X-Content-Type-Options"),
        ("x-frame-options-", "X-Frame-Options"),
        ("referrer-policy-", "Referrer-Policy"),
        ("corp-", "Cross-Origin-Resource-Policy"),
        ("coop-", "Cross-Origin-Opener-Policy"),
        ("coep-", "Cross-Origin-Embedder-Policy"),
        ("cookies-", "Set-Cookie"),
    ]
    .iter()
    .find(|(prefix, _)| result.starts_with(prefix))
    .map(|(_, header)| *header)?;
    security_headers::findings(h, &case.html, case.https, 15_552_000)
        .into_iter()
        .find(|f| f.header == header)
}

/// `None` when the case agrees, else what differs.
fn check(case: &Case) -> Option<String> {
    let h: Vec<(String, String)> = case
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    if let Some(want) = &case.flags {
        let meta_csp = meta::policies(&case.html).csp;
        let meta_csp: Vec<&str> = meta_csp.iter().map(String::as_str).collect();
        let got = csp::flags(&headers::all(&h, "content-security-policy"), &meta_csp)
            .map(|f| serde_json::to_value(f).unwrap_or_default());
        let wrong: Vec<String> = want
            .iter()
            .filter(|(k, v)| got.as_ref().and_then(|g| g[k.as_str()].as_bool()) != Some(**v))
            .map(|(k, v)| format!("{k} should be {v}"))
            .collect();
        return (!wrong.is_empty()).then(|| format!("{}, got {got:?}", wrong.join(", ")));
    }
    let (Some(result), Some(modifier), Some(pass)) = (&case.result, case.modifier, case.pass)
    else {
        return Some("the case has neither flags nor result, modifier and pass".into());
    };
    let Some(got) = finding_for(case, &h, result) else {
        return Some(format!("no finding for {result}"));
    };
    let want = (result.as_str(), modifier, status_for(pass, modifier));
    (want != (got.result.as_str(), got.modifier, got.status)).then(|| {
        format!(
            "want {want:?}, got ({}, {}, {:?}): {}",
            got.result, got.modifier, got.status, got.message
        )
    })
}

#[test]
fn every_observatory_case_agrees() {
    let doc: Doc = match serde_json::from_str(include_str!("observatory.json")) {
        Ok(d) => d,
        Err(e) => panic!("observatory.json: {e}"),
    };
    assert_eq!(doc.commit, COMMIT, "the module doc and the data disagree");
    let mut per_file: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for case in &doc.cases {
        if let Some(why) = &case.skip {
            assert!(!why.is_empty());
            skipped.push(format!("{}: {}", case.file, case.it));
            continue;
        }
        let counts = per_file.entry(case.file.as_str()).or_default();
        counts.0 += 1;
        match check(case) {
            None => counts.1 += 1,
            Some(why) => failures.push(format!("{} — {}: {why}", case.file, case.it)),
        }
    }
    for (file, (total, ok)) in &per_file {
        println!("{file}: {ok}/{total}");
    }
    assert!(
        failures.is_empty(),
        "{} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Followed deliberately not: HSTS preload list (2) and grading over a bad certificate (1).
    assert_eq!(skipped.len(), 3, "{skipped:?}");
}
