//! The `prometheus` probe against a real Prometheus scraping itself on 127.0.0.1, so that
//! `up{job="self"} == 1` holds once the first scrape is recorded.

use crate::support::*;

#[test]
fn queries_are_held_against_thresholds_and_empty_answers_fail() {
    let Some(prom) = start_prometheus() else {
        return;
    };
    let url = format!("http://127.0.0.1:{}", prom.port);
    let ran = run_checklist(&checklist_of(
        "10s",
        &[
            (
                "up",
                &format!(
                    r#"prometheus: {{ url: "{url}", query: 'up{{job="self"}}', expect: "== 1" }}"#
                ),
            ),
            (
                "recorded",
                &format!(r#"prometheus: {{ url: "{url}/", query: "count(up)", expect: ">= 1" }}"#),
            ),
            (
                "rate",
                &format!(
                    r#"prometheus: {{ url: "{url}", query: "sum(up) * 0", expect: "< 0.05" }}"#
                ),
            ),
            (
                "down",
                &format!(
                    r#"prometheus: {{ url: "{url}", query: 'up{{job="self"}}', expect: "== 0" }}"#
                ),
            ),
            (
                "absent",
                &format!(r#"prometheus: {{ url: "{url}", query: "no_such_metric_total" }}"#),
            ),
            (
                "quiet",
                &format!(
                    r#"prometheus: {{ url: "{url}", query: 'ALERTS{{alertstate="firing"}}', empty: pass }}"#
                ),
            ),
            (
                "badql",
                &format!(r#"prometheus: {{ url: "{url}", query: "up{{", expect: "== 1" }}"#),
            ),
            (
                "nothere",
                &format!(
                    r#"prometheus: {{ url: "http://127.0.0.1:{}", query: up }}"#,
                    closed_port()
                ),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    for id in ["up", "recorded", "rate", "quiet"] {
        assert_eq!(
            item(&report, id)["status"],
            "pass",
            "{id}: {}",
            message(&report, id)
        );
    }
    assert!(
        message(&report, "up").contains("== 1"),
        "{}",
        message(&report, "up")
    );
    let down = message(&report, "down");
    assert_eq!(item(&report, "down")["status"], "fail", "{down}");
    assert!(down.contains("expected == 0, found up{"), "{down}");
    assert!(down.contains(r#"job="self"} = 1"#), "{down}");
    assert_status(&report, "absent", "fail");
    assert!(message(&report, "absent").contains("returned no series"));
    assert_status(&report, "badql", "error");
    assert!(
        message(&report, "badql").contains("bad_data"),
        "{}",
        message(&report, "badql")
    );
    // Prometheus is the instrument: when it cannot be asked, nothing was judged.
    assert_status(&report, "nothere", "error");
    assert!(
        message(&report, "nothere")
            .contains("refused the connection: the query could not be evaluated"),
        "{}",
        message(&report, "nothere")
    );
}

#[test]
fn unparsable_expect_is_refused_before_running() {
    let ran = run_checklist(&checklist_of(
        "5s",
        &[(
            "bad",
            r#"prometheus: { url: "http://127.0.0.1:9", query: up, expect: "< lots" }"#,
        )],
    ));
    assert_code!(ran, 2);
    assert!(ran.stderr.contains("needs a number"), "{}", ran.stderr);
}
