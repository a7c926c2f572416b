//! The `prometheus` probe against a real Prometheus scraping itself on 127.0.0.1, so that
//! `up{job="self"} == 1` holds once the first scrape is recorded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::*;

/// Whether the server already answers `up{job="self"}` with a sample.
fn scraped(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req =
        "GET /api/v1/query?query=up%7Bjob%3D%22self%22%7D HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.contains(r#""result":[{"#)
}

pub(crate) fn start_prometheus() -> Option<ServerProcess> {
    let binary = require_binary("prometheus", "prometheus")?;
    let dir = tempfile::tempdir().expect("prometheus dir");
    let port = closed_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\nscrape_configs:\n  - job_name: self\n    static_configs: [{{ targets: ['127.0.0.1:{port}'] }}]\n"
        ),
    )
    .expect("config");
    let log = dir.path().join("prometheus.log");
    let server = launch_prometheus(&binary, dir, port, &config);
    let recorded = wait_until(Duration::from_secs(30), || scraped(port));
    assert!(
        recorded,
        "no scrape recorded within 30s: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    Some(server)
}

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
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
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
    assert_eq!(item(&report, "absent")["status"], "fail");
    assert!(message(&report, "absent").contains("returned no series"));
    assert_eq!(
        item(&report, "badql")["status"],
        "error",
        "{}",
        message(&report, "badql")
    );
    assert!(
        message(&report, "badql").contains("bad_data"),
        "{}",
        message(&report, "badql")
    );
    // Prometheus is the instrument: when it cannot be asked, nothing was judged.
    assert_eq!(item(&report, "nothere")["status"], "error");
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
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("needs a number"), "{}", ran.stderr);
}
