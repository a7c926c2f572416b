//! Two `prodcheck serve` processes behind one real Prometheus running the shipped
//! `examples/prometheus/prometheus-shards.yml` and `rules.yml`: the hashmod job scrapes every
//! target through exactly one shard, the HA pair job through both; a stopped exporter shows as
//! `up == 0` for its targets and fires the shipped `ProdcheckShardDown`, the other keeps going.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use prodcheck::demo::pki;

use super::prometheus::{prom_query, wait_series};
use super::*;

/// Target names of prodcheck.yaml; hashmod 2 puts three in each shard (md5's low 64 bits
/// mod 2: `api-*` and `shop-eu` in 1, `web-*` and `pay-us` in 0; asserted below).
const TARGETS: [&str; 6] = ["api-eu", "api-us", "pay-us", "shop-eu", "web-eu", "web-us"];

/// A light checklist (one `tcp` item) for every target, each target pointing at `port`.
fn sharded_project(port: u16, ca: &pki::Pki) -> Project {
    let p = project(&[], ca);
    p.file(
        "checklists/ping.yaml",
        "name: ping\nvars:\n  port: ~\nsections:\n  - name: S\n    items:\n      - id: open\n        title: Port open\n        timeout: 1s\n        check: { tcp: { host: 127.0.0.1, port: \"${port}\" } }\n",
    );
    // `svc` and `slow` are served too (the exporter helper names them): their variables are
    // set as well, so no target leaves a served checklist unconfigured.
    let ca_file = p.path().join("ca.pem");
    let mut config = String::from("targets:\n");
    for t in TARGETS {
        config.push_str(&format!(
            "  {t}:\n    vars: {{ port: \"{port}\", base_url: \"https://localhost:{port}\", ca_file: \"{}\" }}\n",
            ca_file.display()
        ));
    }
    p.file("prodcheck.yaml", &config);
    p
}

/// Prometheus on the shipped shards config and rules, changed only where the test must: the
/// exporters' addresses (shard 0 and replica a on `a`, shard 1 and replica b on `b`), the
/// checklist, the target list, 1 s intervals and the shard alert's `for:`.
fn prometheus_shards(a: u16, b: u16) -> Option<ServerProcess> {
    let binary = require_binary("prometheus", "prometheus")?;
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus");
    let dir = tempfile::tempdir().expect("prometheus dir");
    let port = closed_port();
    let mut text =
        std::fs::read_to_string(examples.join("prometheus-shards.yml")).expect("example");
    let targets = format!("targets: [{}]", TARGETS.join(", "));
    for (from, to) in [
        ("127.0.0.1:9187", format!("127.0.0.1:{a}")),
        ("127.0.0.1:9188", format!("127.0.0.1:{b}")),
        ("127.0.0.1:9189", format!("127.0.0.1:{a}")),
        ("127.0.0.1:9190", format!("127.0.0.1:{b}")),
        ("checklist: [maintenance]", "checklist: [ping]".into()),
        ("targets: [api-eu, api-us, web-eu, web-us]", targets),
        ("scrape_interval: 1m", "scrape_interval: 1s".into()),
        ("evaluation_interval: 1m", "evaluation_interval: 1s".into()),
        ("scrape_timeout: 30s", "scrape_timeout: 1s".into()),
    ] {
        assert!(text.contains(from), "the example no longer has `{from}`");
        text = text.replace(from, &to);
    }
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, text).expect("config");
    let rules = std::fs::read_to_string(examples.join("rules.yml")).expect("rules");
    let shard_for = "(up{job=~\"prodcheck.*\", exporter!=\"\"}) == 0\n        for: 5m";
    assert!(rules.contains(shard_for), "ProdcheckShardDown changed");
    let rules = rules.replace(shard_for, &shard_for.replace("for: 5m", "for: 2s"));
    std::fs::write(dir.path().join("rules.yml"), rules).expect("rules");
    Some(launch_prometheus(&binary, dir, port, &config))
}

/// Waits (at most 60 s) until `expr` answers with series for which `done` holds; returns them
/// as `label value → sample value` keyed by `key`.
fn wait_by(
    prom: u16,
    expr: &str,
    key: &str,
    done: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let mut last = BTreeMap::new();
    let found = wait_until(Duration::from_secs(60), || {
        last = prom_query(prom, expr)
            .iter()
            .map(|s| {
                let label = s["metric"][key].as_str().unwrap_or("").to_string();
                let value = s["value"][1].as_str().and_then(|v| v.parse().ok());
                (label, value.unwrap_or(f64::NAN))
            })
            .collect();
        done(&last)
    });
    assert!(found, "`{expr}` never got there; last answer: {last:?}");
    last
}

#[test]
fn hashmod_shards_scrape_each_target_once_and_a_stopped_shard_alerts() {
    let ca = pki::Pki::new("serve shards CA").expect("CA");
    let open = RawServer::respond(b"");
    let p = sharded_project(open.addr.port(), &ca);
    let shard_a = exporter(&p, &["--checklist", "ping"]);
    let mut shard_b = Some(exporter(&p, &["--checklist", "ping"]));
    let (a, b) = (shard_a.port, shard_b.as_ref().map_or(0, |s| s.port));
    let Some(prom) = prometheus_shards(a, b) else {
        return;
    };
    let port = prom.port;
    let all: Vec<String> = TARGETS.iter().map(|t| t.to_string()).collect();

    // Sharded: every target's series once, from one exporter; together they cover all.
    let per_target = wait_by(
        port,
        r#"count by (target) (prodcheck_item_status{job="prodcheck-shards",item="open",status="pass"} == 1)"#,
        "target",
        |m| m.len() == TARGETS.len(),
    );
    assert_eq!(per_target.keys().cloned().collect::<Vec<_>>(), {
        let mut sorted = all.clone();
        sorted.sort();
        sorted
    });
    assert!(
        per_target.values().all(|n| *n == 1.0),
        "a target scraped by both shards: {per_target:?}"
    );
    // Over the whole run, not only now: each target's series came through one exporter.
    let exporters = wait_by(
        port,
        r#"count by (target) (count by (target, exporter) (count_over_time(prodcheck_run_exit_code{job="prodcheck-shards"}[1h])))"#,
        "target",
        |m| m.len() == TARGETS.len(),
    );
    assert!(
        exporters.values().all(|n| *n == 1.0),
        "a target was scraped through both shards: {exporters:?}"
    );
    // The shard each target landed on is hashmod's (md5, low 64 bits, mod 2), three a shard.
    let placed: BTreeMap<String, String> = prom_query(port, r#"up{job="prodcheck-shards"}"#)
        .iter()
        .map(|s| {
            let target = s["metric"]["instance"].as_str().unwrap_or("");
            let shard = s["metric"]["shard"].as_str().unwrap_or("?");
            (
                target.trim_start_matches("ping/").to_string(),
                shard.to_string(),
            )
        })
        .collect();
    let expected: BTreeMap<String, String> = [
        ("api-eu", "1"),
        ("api-us", "1"),
        ("pay-us", "0"),
        ("shop-eu", "1"),
        ("web-eu", "0"),
        ("web-us", "0"),
    ]
    .into_iter()
    .map(|(t, s)| (t.to_string(), s.to_string()))
    .collect();
    assert_eq!(placed, expected, "hashmod placed the targets otherwise");
    let (addr_a, addr_b) = (format!("127.0.0.1:{a}"), format!("127.0.0.1:{b}"));
    let shards = wait_by(
        port,
        r#"count by (exporter) (up{job="prodcheck-shards"} == 1)"#,
        "exporter",
        |m| m.values().sum::<f64>() == TARGETS.len() as f64,
    );
    assert_eq!(shards.get(&addr_a), Some(&3.0), "shard 0 (a): {shards:?}");
    assert_eq!(shards.get(&addr_b), Some(&3.0), "shard 1 (b): {shards:?}");
    let on_b = 3.0;

    // The HA pair: both replicas scrape every target.
    let pair = wait_by(
        port,
        r#"count by (target) (prodcheck_item_status{job="prodcheck-pair",item="open",status="pass"} == 1)"#,
        "target",
        |m| m.len() == TARGETS.len() && m.values().all(|n| *n == 2.0),
    );
    assert_eq!(pair.len(), TARGETS.len(), "{pair:?}");
    let calm = prom_query(port, r#"ALERTS{alertname="ProdcheckShardDown"}"#);
    assert!(calm.is_empty(), "a shard alert while both answer: {calm:?}");

    // Stop shard b (the PID this test started): its targets go down, the shipped alert fires
    // for it alone, shard a's targets and replica a keep being scraped.
    drop(shard_b.take());
    let down = wait_by(
        port,
        &format!(r#"count by (job) (up{{exporter="{addr_b}"}} == 0)"#),
        "job",
        |m| {
            m.get("prodcheck-shards") == Some(&on_b)
                && m.get("prodcheck-pair") == Some(&(TARGETS.len() as f64))
        },
    );
    assert_eq!(down.len(), 2, "{down:?}");
    let (alert, _) = wait_series(
        port,
        &format!(
            r#"ALERTS{{alertname="ProdcheckShardDown",job="prodcheck-shards",exporter="{addr_b}",alertstate="firing"}}"#
        ),
    );
    assert_eq!(alert["shard"], "1", "{alert}");
    assert_eq!(alert["severity"], "page", "{alert}");
    let (alert, _) = wait_series(
        port,
        &format!(
            r#"ALERTS{{alertname="ProdcheckShardDown",job="prodcheck-pair",exporter="{addr_b}",alertstate="firing"}}"#
        ),
    );
    assert_eq!(alert["replica"], "b", "{alert}");
    let quiet = prom_query(
        port,
        &format!(r#"ALERTS{{alertname="ProdcheckShardDown",exporter="{addr_a}"}}"#),
    );
    assert!(quiet.is_empty(), "the running exporter alerted: {quiet:?}");
    let up_a = prom_query(
        port,
        &format!(r#"count(up{{job="prodcheck-pair",exporter="{addr_a}"}} == 1)"#),
    );
    assert_eq!(
        up_a.first().and_then(|s| s["value"][1].as_str()),
        Some(TARGETS.len().to_string().as_str()),
        "replica a stopped covering every target: {up_a:?}"
    );
    drop(shard_a);
}
