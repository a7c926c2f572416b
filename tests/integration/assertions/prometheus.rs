//! `assert:` and `expect: { fail, warn }` on `prometheus` against a real Prometheus scraping
//! itself: the answer's samples as `[{metric, value}]`, each operator passing and failing.

use crate::support::start_prometheus;
use crate::support::*;

fn prom(url: &str, query: &str, asserts: &[&str]) -> String {
    let list: Vec<String> = asserts.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "prometheus: {{ url: \"{url}\", query: '{query}', assert: [{}] }}",
        list.join(", ")
    )
}

#[test]
fn assertions_hold_and_fail_on_samples_with_the_actual_value() {
    let Some(server) = start_prometheus() else {
        return;
    };
    let url = format!("http://127.0.0.1:{}", server.port);
    let up = r#"up{job="self"}"#;
    let passing = [
        "/0/value == 1",
        "/0/value != 0",
        "/0/value < 2",
        "/0/value <= 1",
        "/0/value > 0",
        "/0/value >= 1",
        "/0/metric/job matches ^se",
        "/0/metric/instance contains 127.0.0.1",
        "/0/metric/__name__ exists",
        "/0/metric/env absent",
        ". every /value == 1",
        ". any /metric/job == self",
    ];
    let failing: [(&str, &str, &str); 6] = [
        ("job", "/0/metric/job == api", r#"found "self""#),
        ("value", "/0/value < 1", "found 1"),
        (
            "regex",
            "/0/metric/job matches ^api$",
            r#"found "self", which does not match"#,
        ),
        (
            "label",
            "/0/metric/env exists",
            "`/0/metric/env` is not there",
        ),
        (
            "every",
            ". every /value == 0",
            "element 0: `/value == 0`: found 1",
        ),
        (
            "any",
            ". any /metric/job == api",
            r#"none of 1 elements holds (found "self")"#,
        ),
    ];
    let mut items: Vec<(String, String)> = vec![("ok".into(), prom(&url, up, &passing))];
    items.extend(
        failing
            .iter()
            .map(|(id, a, _)| (id.to_string(), prom(&url, up, &[a]))),
    );
    let refs: Vec<(&str, &str)> = items
        .iter()
        .map(|(i, c)| (i.as_str(), c.as_str()))
        .collect();
    let ran = run_checklist(&checklist_of("10s", &refs));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let ok = item(&report, "ok");
    assert_eq!(ok["status"], "pass", "{ok}");
    assert_eq!(ok["evidence"]["assertions"][0]["actual"], 1.0, "{ok}");
    assert_eq!(ok["evidence"]["assertions"][6]["actual"], "self", "{ok}");
    for (id, _, shows) in failing {
        assert_eq!(
            item(&report, id)["status"],
            "fail",
            "{id}: {}",
            item(&report, id)
        );
        let m = message(&report, id);
        assert!(m.contains(shows), "{id}: message lacks `{shows}`: {m}");
    }
}

#[test]
fn expect_warn_levels_say_how_close_the_value_came() {
    let Some(server) = start_prometheus() else {
        return;
    };
    let url = format!("http://127.0.0.1:{}", server.port);
    let ran = run_checklist(&checklist_of(
        "10s",
        &[
            (
                "ceiling",
                &format!(
                    r#"prometheus: {{ url: "{url}", query: "sum(up) * 0.8", expect: {{ fail: "< 1", warn: "< 0.5" }} }}"#
                ),
            ),
            (
                "floor",
                &format!(
                    r#"prometheus: {{ url: "{url}", query: "count(up)", expect: {{ fail: ">= 1", warn: ">= 3" }} }}"#
                ),
            ),
            (
                "calm",
                &format!(
                    r#"prometheus: {{ url: "{url}", query: "count(up)", expect: {{ fail: ">= 1", warn: ">= 1" }} }}"#
                ),
            ),
            (
                "over",
                &format!(
                    r#"prometheus: {{ url: "{url}", query: "sum(up) * 2", expect: {{ fail: "< 1", warn: "< 0.5" }} }}"#
                ),
            ),
        ],
    ));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(item(&report, "ceiling")["status"], "warn");
    let m = message(&report, "ceiling");
    assert!(
        m.contains("0.8, 80% of the 1 limit (warn level < 0.5"),
        "{m}"
    );
    assert_eq!(item(&report, "floor")["status"], "warn");
    let m = message(&report, "floor");
    assert!(m.contains("1, 0 above the 1 floor (warn level >= 3"), "{m}");
    assert_eq!(item(&report, "calm")["status"], "pass");
    assert_eq!(item(&report, "over")["status"], "fail");
    assert!(
        message(&report, "over").contains("found 2"),
        "{}",
        message(&report, "over")
    );
}
