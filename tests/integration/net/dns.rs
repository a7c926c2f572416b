//! The `dns` probe against a real authoritative DNS server (hickory-server, in-process) on
//! 127.0.0.1 serving a test zone with every record type and the policy records.

use std::net::SocketAddr;

use crate::support::*;

const ZONE: &str = r#"
$ORIGIN example.test.
$TTL 300
@        IN SOA   ns1.example.test. admin.example.test. 2024010101 3600 600 86400 300
@        IN NS    ns1.example.test.
ns1      IN A     127.0.0.1
www      IN A     127.0.0.10
www      IN A     127.0.0.11
www      IN AAAA  ::1
alias    IN CNAME www.example.test.
dangling IN CNAME gone.example.test.
@        IN MX    10 mail.example.test.
mail     IN A     127.0.0.20
@        IN TXT   "v=spf1 mx -all"
@        IN CAA   0 issue "letsencrypt.org"
_dmarc   IN TXT   "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
host     IN A     127.0.0.30
weak     IN TXT   "v=spf1 mx ?all"
weak     IN CAA   0 issue "pki.goog"
_dmarc.weak IN TXT "v=DMARC1; p=none"
"#;

/// The demo's hickory-server on 127.0.0.1, serving `ZONE`; stops on drop.
fn dns_server() -> Background {
    Background::spawn(|| async {
        let dns = prodcheck::demo::dns::serve("example.test.", ZONE)
            .await
            .expect("dns server");
        Background::hold(dns.addr, dns)
    })
}

/// A checklist with one `dns` item per `(id, params)`, all against `ns`.
fn checklist(ns: SocketAddr, items: &[(&str, &str)]) -> String {
    items
        .iter()
        .fold(
            Checklist::new("dns").section("DNS"),
            |list, (id, params)| {
                let check = format!("dns: {{ nameserver: \"{ns}\", {params} }}");
                list.item(Item::check(id, &check).timeout("5s"))
            },
        )
        .build()
}

fn status_and_message(report: &serde_json::Value, id: &str) -> (String, String) {
    let it = item(report, id);
    (
        it["status"].as_str().unwrap_or_default().to_string(),
        it["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn every_record_type_and_policy_check_against_a_real_server() {
    let server = dns_server();
    let cases: &[(&str, &str, &str, &str)] = &[
        // id, params, expected status, expected message fragment
        (
            "a",
            "name: www.example.test, expect: [127.0.0.10, 127.0.0.11], exact: true",
            "pass",
            "A 127.0.0.10, 127.0.0.11",
        ),
        (
            "a-exact",
            "name: www.example.test, expect: [127.0.0.10], exact: true",
            "fail",
            "A has unexpected `127.0.0.11` (exact: true)",
        ),
        (
            "a-missing",
            "name: www.example.test, expect: [10.9.9.9]",
            "fail",
            "A lacks `10.9.9.9`; found 127.0.0.10, 127.0.0.11",
        ),
        (
            "aaaa",
            "name: www.example.test, type: AAAA, expect: [\"::1\"]",
            "pass",
            "AAAA ::1",
        ),
        (
            "cname",
            "name: alias.example.test, type: CNAME, expect: [www.example.test]",
            "pass",
            "CNAME www.example.test",
        ),
        (
            "cname-dangling",
            "name: dangling.example.test, type: CNAME",
            "fail",
            "dangling CNAME: dangling.example.test points to gone.example.test, which does not resolve",
        ),
        (
            "a-dangling",
            "name: dangling.example.test",
            "fail",
            "dangling CNAME",
        ),
        (
            "mx",
            "name: example.test, type: MX, expect: [mail.example.test]",
            "pass",
            "MX 10 mail.example.test",
        ),
        (
            "txt",
            "name: example.test, type: TXT, expect: [\"v=spf1 mx -all\"]",
            "pass",
            "TXT v=spf1 mx -all",
        ),
        (
            "ns",
            "name: example.test, type: NS, expect: [ns1.example.test], min_records: 1",
            "pass",
            "NS ns1.example.test",
        ),
        (
            "soa",
            "name: example.test, type: SOA, expect: [ns1.example.test]",
            "pass",
            "SOA ns1.example.test admin.example.test 2024010101",
        ),
        (
            "caa",
            "name: example.test, type: CAA, expect: [letsencrypt.org]",
            "pass",
            "CAA 0 issue \"letsencrypt.org\"",
        ),
        (
            "min-records",
            "name: www.example.test, min_records: 3",
            "fail",
            "2 A records, expected at least 3",
        ),
        (
            "min-records-warn",
            "name: www.example.test, min_records: { fail: 1, warn: 3 }",
            "warn",
            "degraded: A records 2, 1 above the 1 floor (warn level 3): 127.0.0.10, 127.0.0.11",
        ),
        (
            "nx",
            "name: nope.example.test, nxdomain: true",
            "pass",
            "does not exist (NXDOMAIN), as expected",
        ),
        (
            "nx-but-exists",
            "name: www.example.test, nxdomain: true",
            "fail",
            "expected NXDOMAIN, but A resolves to",
        ),
        (
            "no-such-name",
            "name: nope.example.test",
            "fail",
            "does not exist (NXDOMAIN)",
        ),
        (
            "caa-inherited",
            "name: host.example.test, caa_issuers: [letsencrypt.org]",
            "pass",
            "CAA at example.test allows letsencrypt.org",
        ),
        (
            "caa-refused",
            "name: example.test, caa_issuers: [letsencrypt.org, pki.goog]",
            "fail",
            "CAA at example.test allows letsencrypt.org, not `pki.goog`",
        ),
        (
            "spf",
            "name: example.test, spf: true",
            "pass",
            "SPF ends with -all",
        ),
        (
            "spf-weak",
            "name: weak.example.test, spf: true",
            "fail",
            "SPF record ends with `?all`, expected `-all` or `~all`",
        ),
        (
            "dmarc",
            "name: example.test, dmarc: true",
            "pass",
            "DMARC p=reject",
        ),
        (
            "dmarc-none",
            "name: weak.example.test, dmarc: true",
            "fail",
            "DMARC policy at _dmarc.weak.example.test is p=none",
        ),
        (
            "dmarc-missing",
            "name: host.example.test, dmarc: true",
            "fail",
            "no DMARC record",
        ),
    ];
    let items: Vec<(&str, &str)> = cases
        .iter()
        .map(|(id, params, _, _)| (*id, *params))
        .collect();
    let p = Project::new();
    let file = p.file("dns.yaml", &checklist(server.addr, &items));
    let ran = p.run_json(&file);
    assert_code!(ran, 1);
    let report = json(&ran);
    for (id, _, want_status, fragment) in cases {
        let (status, message) = status_and_message(&report, id);
        assert_eq!(&status, want_status, "item `{id}`: {message}");
        assert!(
            message.contains(fragment),
            "item `{id}`: `{message}` lacks `{fragment}`"
        );
    }
    let mx = item(&report, "mx");
    assert_eq!(mx["evidence"]["records"][0], "10 mail.example.test");
}

#[test]
fn unreachable_resolver_is_an_error_not_a_failure() {
    let ns: SocketAddr = format!("127.0.0.1:{}", closed_port())
        .parse()
        .expect("addr");
    let p = Project::new();
    let file = p.file(
        "dns.yaml",
        &checklist(ns, &[("down", "name: www.example.test, spf: true")])
            .replace("timeout: 5s", "timeout: 2s"),
    );
    let ran = p.run_json(&file);
    assert_code!(ran, 3);
    let (status, message) = status_and_message(&json(&ran), "down");
    assert_eq!(status, "error", "{message}");
    assert!(
        message.contains("TXT query for www.example.test"),
        "{message}"
    );
}

#[test]
fn ad_hoc_probe_with_a_nameserver() {
    let server = dns_server();
    let ran = run(prodcheck().args([
        "probe",
        "dns",
        "name=www.example.test",
        "type=A",
        &format!("nameserver={}", server.addr),
        "expect=[127.0.0.11]",
        "--report",
        "json",
    ]));
    assert_code!(ran, 0);
    let report = json(&ran);
    let it = item(&report, "dns");
    assert_eq!(it["status"], "pass");
    assert_eq!(it["evidence"]["nameserver"], server.addr.to_string());
}
