//! A fleet larger than one batch, streamed (JSON and human only) and rendered whole (a format
//! that is not streamed asked for too): the same reports, to the byte but for times.

use crate::support::*;

/// 150 targets: five batches at the default concurrency (32 targets a batch). Most pass,
/// every 7th fails (exit 2), every 11th errors (exit 3), so the run exits 1 (a failure
/// outranks an error); enough names that the clean line is cut and more than 8 targets share
/// an exit code.
fn big_fleet() -> Project {
    let p = Project::new();
    p.file(
        "c.yaml",
        "name: codes\nvars:\n  code: ~\nsections:\n  - name: S\n    items:\n      - id: check\n        title: Check\n        fix: make it pass\n        check: { exec: { shell: \"exit ${code}\" } }\n      - id: always\n        title: Always fine\n        check: { exec: { shell: \"exit 0\" } }\n",
    );
    let mut config = String::from("targets:\n");
    for n in 0..150 {
        let code = if n % 11 == 5 {
            3
        } else if n % 7 == 3 {
            2
        } else {
            0
        };
        config.push_str(&format!(
            "  service-{n:03}: {{ vars: {{ code: \"{code}\" }}, labels: {{ n: \"{n}\" }} }}\n"
        ));
    }
    p.file("prodcheck.yaml", &config);
    p
}

/// Times masked: a digit run followed by `ms`, `s `, `.`, `:`, `-`, `T` or `Z` becomes `N`.
fn mask_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let time =
            rest.starts_with("ms") || rest == "s " || rest.starts_with(['.', ':', '-', 'T', 'Z']);
        if time {
            out.push('N');
        } else {
            out.extend(&chars[start..i]);
        }
    }
    out
}

/// The JSON report with its times zeroed, after checking it is exactly the pretty document.
fn json_without_times(text: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(text).expect("the report is JSON");
    let pretty = serde_json::to_string_pretty(&value).expect("pretty");
    assert_eq!(
        format!("{pretty}\n"),
        text,
        "not the one pretty-printed document"
    );
    fn zero(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if k == "duration_ms" || k == "started_at" {
                        *v = serde_json::Value::Null;
                    } else {
                        zero(v);
                    }
                }
            }
            serde_json::Value::Array(list) => list.iter_mut().for_each(zero),
            _ => {}
        }
    }
    zero(&mut value);
    value
}

#[test]
fn a_streamed_fleet_writes_the_reports_the_whole_report_renders() {
    let p = big_fleet();
    // A first run leaves history, so the next ones report what did not change.
    let first = run(p.cmd().args(["run", "c.yaml", "--all-targets"]));
    assert_code!(first, 1);
    let read = |name: &str| std::fs::read_to_string(p.path().join(name)).expect(name);

    // Whole: TAP is not streamed, so this run renders the one report as before.
    let whole = run(p.cmd().args([
        "run",
        "c.yaml",
        "--all-targets",
        "--report",
        "json=whole.json",
        "--report",
        "human=whole.txt",
        "--report",
        "tap=whole.tap",
    ]));
    assert_code!(whole, 1);
    // Streamed: every report asked for can be.
    let streamed = run(p.cmd().args([
        "run",
        "c.yaml",
        "--all-targets",
        "--report",
        "json=streamed.json",
        "--report",
        "human=streamed.txt",
    ]));
    assert_code!(streamed, 1);

    let (a, b) = (read("whole.json"), read("streamed.json"));
    let streamed_json = json_without_times(&b);
    assert_eq!(json_without_times(&a), streamed_json);
    assert_eq!(streamed_json["items"].as_array().map(Vec::len), Some(300));
    assert_eq!(streamed_json["targets"].as_array().map(Vec::len), Some(150));
    assert_eq!(
        streamed_json["summary"]["error"], 14,
        "{}",
        streamed_json["summary"]
    );
    assert_eq!(streamed_json["targets"][149]["name"], "service-149");
    assert_eq!(streamed_json["targets"][5]["summary"]["error"], 1);

    let (a, b) = (read("whole.txt"), read("streamed.txt"));
    assert_eq!(mask_times(&a), mask_times(&b));
    assert!(b.contains(" · 150 targets"), "{b}");
    assert!(
        b.contains("Targets: 19 exit 1 (service-003, service-010, service-017, service-024, service-031, service-045, service-052, service-059 (+11 more)), 14 exit 3 (service-005, service-016, service-027, service-038, service-049, service-060, service-071, service-082 (+6 more)), 117 exit 0\n"),
        "{b}"
    );
    assert!(
        b.contains("✔ 117 target(s) passed: service-000, service-001"),
        "{b}"
    );
    assert!(
        b.contains("━━ service-003 {n=3} — exit 1: a gating item failed"),
        "{b}"
    );

    // The default human report on stdout, streamed, is the one a whole run prints.
    let tap_too = run(p
        .cmd()
        .args(["run", "c.yaml", "--all-targets", "--report", "tap=t.tap"]));
    let alone = run(p.cmd().args(["run", "c.yaml", "--all-targets"]));
    assert_code!(alone, 1);
    assert_eq!(mask_times(&tap_too.stdout), mask_times(&alone.stdout));
    assert!(
        alone.stdout.ends_with("exit 1: a gating item failed\n"),
        "{}",
        alone.stdout
    );
}

/// 40 targets at `--concurrency 1` would be two batches of 32 and 8; target 0's `rate_limit`
/// bursts the host every target's `http` item uses, so the fleet must run as one batch and the
/// burst come after every other target's request there (a burst at the end of the first batch
/// would leave the second batch's requests meeting a limiter prodcheck itself had tripped).
#[test]
fn a_burst_on_a_host_other_targets_use_comes_after_all_their_requests() {
    use axum::Router;
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use std::sync::{Arc, Mutex};

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let (pages, bursts) = (seen.clone(), seen.clone());
    let app = Router::new()
        .route(
            "/t/{n}",
            get(move |Path(n): Path<String>| async move {
                pages.lock().expect("log").push(format!("t/{n}"));
                "ok\n"
            }),
        )
        .route(
            "/burst",
            get(move || async move {
                let mut log = bursts.lock().expect("log");
                log.push("burst".into());
                let sent = log.iter().filter(|p| *p == "burst").count();
                if sent > 5 {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "1")],
                        "slow down\n",
                    )
                        .into_response()
                } else {
                    "ok\n".into_response()
                }
            }),
        );
    let server = AppServer::start(app);
    let base = format!("http://{}", server.addr);
    let p = Project::new();
    p.file(
        "c.yaml",
        &format!(
            "name: shared\nvars:\n  n: ~\nsections:\n  - name: S\n    items:\n      - id: page\n        title: Page answers\n        check: {{ http: {{ url: \"{base}/t/${{n}}\" }} }}\n      - id: rl\n        title: Burst is limited\n        check: {{ rate_limit: {{ url: \"{base}/burst\" }} }}\n"
        ),
    );
    let mut config = String::from("targets:\n");
    for n in 0..40 {
        let tailoring = if n == 0 {
            String::new()
        } else {
            ", not_applicable: { rl: only target 0 bursts }".to_string()
        };
        config.push_str(&format!(
            "  t{n:02}: {{ vars: {{ n: \"{n}\" }}{tailoring} }}\n"
        ));
    }
    p.file("prodcheck.yaml", &config);
    let ran = run(p.cmd().args([
        "run",
        "c.yaml",
        "--all-targets",
        "--concurrency",
        "1",
        "--pace",
        "1000",
        "--report",
        "json=r.json",
    ]));
    assert_code!(ran, 0);
    let log = seen.lock().expect("log").clone();
    let pages = log.iter().filter(|p| p.starts_with("t/")).count();
    assert_eq!(pages, 40, "{log:?}");
    let last_page = log.iter().rposition(|p| p.starts_with("t/"));
    let first_burst = log.iter().position(|p| p == "burst");
    assert!(
        matches!((last_page, first_burst), (Some(l), Some(b)) if l < b),
        "every page request before the burst: {log:?}"
    );
}
