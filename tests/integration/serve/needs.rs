//! `needs:` through `serve`: a scrape answers what `run` reports — the cause fails, its
//! dependents are `skip` with `prodcheck_item_skipped_by{cause}` — and promtool accepts it.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{get_http, promtool_check_metrics, sample};
use crate::support::*;

#[test]
fn a_scrape_reports_the_cause_failing_and_its_dependents_skipped_by_it() {
    let port = closed_port();
    let p = Project::new();
    let mut text = format!(
        "name: shop\nsections:\n  - name: S\n    items:\n      - id: gateway-up\n        title: Gateway\n        timeout: 2s\n        check: {{ tcp: {{ host: 127.0.0.1, port: {port} }} }}\n"
    );
    for id in ["users", "orders", "payments", "search"] {
        text.push_str(&format!(
            "      - id: {id}\n        title: {id}\n        needs: [gateway-up]\n        timeout: 2s\n        check: {{ http: {{ url: \"http://127.0.0.1:{port}/{id}\" }} }}\n"
        ));
    }
    p.file("checklists/shop.yaml", &text);
    let log = p.path().join("serve.log");
    let child = Command::new(assert_cmd::cargo::cargo_bin("prodcheck"))
        .current_dir(p.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--checklist", "shop"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start prodcheck serve");
    let mut server = ServerProcess {
        child,
        port: 0,
        dir: tempfile::tempdir().expect("dir"),
        stop_signal: "-TERM",
    };
    let mut found = None;
    wait_until(Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        found = text
            .split_once("://127.0.0.1:")
            .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse::<u16>().ok());
        found.is_some()
    });
    server.port = found.unwrap_or_else(|| {
        panic!(
            "prodcheck serve did not start:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    server.wait_listening(Duration::from_secs(30), &log);

    let (status, body) = get_http(server.port, "/probe?checklist=shop", &[]);
    assert_eq!(status, 200, "{body}");
    let fail = ["item=\"gateway-up\"", "status=\"fail\""];
    assert_eq!(
        sample(&body, "prodcheck_item_status", &fail),
        Some(1.0),
        "{body}"
    );
    for id in ["users", "orders", "payments", "search"] {
        let item = format!("item=\"{id}\"");
        let skip = [item.as_str(), "status=\"skip\""];
        assert_eq!(
            sample(&body, "prodcheck_item_status", &skip),
            Some(1.0),
            "{body}"
        );
        let by = [item.as_str(), "cause=\"gateway-up\""];
        assert_eq!(
            sample(&body, "prodcheck_item_skipped_by", &by),
            Some(1.0),
            "{body}"
        );
    }
    let failing = body
        .lines()
        .filter(|l| l.starts_with("prodcheck_item_status{") && l.contains("status=\"fail\""))
        .count();
    assert_eq!(failing, 1, "only the cause fails: {body}");
    promtool_check_metrics(&body);
}
