//! `ip_family`, `resolve` and `dual_stack` against a real nginx listening on 127.0.0.1 and on
//! ::1 with different answers: the family chosen is the address in the evidence, and a name
//! whose IPv6 answer differs from its IPv4 one fails `dual_stack`, naming both addresses.

use prodcheck::demo::pki::Pki;

use crate::support::*;

/// `shop.test` resolves (through `resolve`) to both loopbacks, IPv4 first.
const BOTH: &str = r#"["127.0.0.1", "::1"]"#;

/// Whether ::1 takes connections here. The tests need it; a machine without IPv6 on the
/// loopback fails them, saying so (see `support::missing`), instead of passing them.
pub(crate) fn ipv6_loopback() -> bool {
    let usable = std::net::TcpListener::bind("[::1]:0").and_then(|listener| {
        let addr = listener.local_addr()?;
        std::net::TcpStream::connect(addr).map(|_| ())
    });
    match usable {
        Ok(()) => true,
        Err(e) => {
            missing(
                &format!("IPv6 on the loopback (connecting to ::1 failed: {e})"),
                "enable IPv6 on `lo` (Docker: `--sysctl net.ipv6.conf.lo.disable_ipv6=0`)",
            );
            false
        }
    }
}

fn statuses(report: &serde_json::Value, ids: &[&str]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            format!(
                "{id}={}",
                item(report, id)["status"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

#[test]
fn ip_family_picks_the_address_and_the_evidence_names_it() {
    if !ipv6_loopback() {
        return;
    }
    let Some(nginx) = Nginx::start(
        1,
        r#"
  server { listen 127.0.0.1:{PORT0}; location / { return 200 "answer over v4\n"; } }
  server { listen [::1]:{PORT0}; location / { return 200 "answer over v6\n"; } }
"#,
    ) else {
        return;
    };
    let port = nginx.ports[0];
    let url = format!("http://shop.test:{port}/");
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "http-v4",
                &format!(
                    r#"http: {{ url: "{url}", resolve: {BOTH}, ip_family: v4, expect: {{ body_contains: "over v4" }} }}"#
                ),
            ),
            (
                "http-v6",
                &format!(
                    r#"http: {{ url: "{url}", resolve: {BOTH}, ip_family: v6, expect: {{ body_contains: "over v6" }} }}"#
                ),
            ),
            (
                "literal-v6",
                &format!(
                    r#"http: {{ url: "http://[::1]:{port}/", ip_family: v6, expect: {{ body_contains: "over v6" }} }}"#
                ),
            ),
            (
                "tcp-v6",
                &format!(
                    r#"tcp: {{ host: shop.test, port: {port}, resolve: {BOTH}, ip_family: v6 }}"#
                ),
            ),
            (
                "tcp-v4",
                &format!(
                    r#"tcp: {{ host: shop.test, port: {port}, resolve: {BOTH}, ip_family: v4 }}"#
                ),
            ),
        ],
    ));
    let report = json(&ran);
    assert_code!(ran, 0);
    assert_eq!(
        item(&report, "http-v4")["evidence"]["address"],
        format!("127.0.0.1:{port}")
    );
    assert_eq!(
        item(&report, "http-v6")["evidence"]["address"],
        format!("[::1]:{port}")
    );
    assert_eq!(
        item(&report, "literal-v6")["evidence"]["address"],
        format!("[::1]:{port}")
    );
    assert_eq!(
        item(&report, "tcp-v6")["evidence"]["address"],
        format!("[::1]:{port}")
    );
    assert_eq!(
        item(&report, "tcp-v4")["evidence"]["address"],
        format!("127.0.0.1:{port}")
    );
}

#[test]
fn a_family_the_target_lacks_fails_and_contradictions_stop_the_load() {
    if !ipv6_loopback() {
        return;
    }
    // Listening on 127.0.0.1 only: over IPv6 nothing answers.
    let Some(nginx) = Nginx::start(
        1,
        r#"  server { listen 127.0.0.1:{PORT0}; location / { return 200 "v4 only\n"; } }"#,
    ) else {
        return;
    };
    let port = nginx.ports[0];
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "http-v6",
                &format!(
                    r#"http: {{ url: "http://shop.test:{port}/", resolve: {BOTH}, ip_family: v6 }}"#
                ),
            ),
            (
                "tls-v6",
                &format!(
                    r#"tls: {{ host: shop.test, port: {port}, resolve: {BOTH}, ip_family: v6, enumerate: false }}"#
                ),
            ),
        ],
    ));
    let report = json(&ran);
    assert_code!(ran, 1);
    assert_eq!(
        statuses(&report, &["http-v6", "tls-v6"]),
        ["http-v6=fail", "tls-v6=fail"]
    );
    assert!(
        message(&report, "http-v6").contains("Connection refused"),
        "{}",
        message(&report, "http-v6")
    );
    assert_eq!(
        message(&report, "tls-v6"),
        format!("connection refused by [::1]:{port}")
    );

    // A literal of the other family, or pinned addresses of the wrong one: nothing runs.
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "literal",
                &format!(r#"http: {{ url: "http://127.0.0.1:{port}/", ip_family: v6 }}"#),
            ),
            (
                "pinned",
                &format!(
                    r#"tcp: {{ host: shop.test, port: {port}, resolve: ["::1"], ip_family: v4 }}"#
                ),
            ),
        ],
    ));
    assert_code!(ran, 2);
    assert!(
        ran.stderr
            .contains("the target is the IPv4 address `127.0.0.1`, but ip_family is v6"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("`resolve` lists no IPv4 address, and ip_family is v4"),
        "{}",
        ran.stderr
    );
}

#[test]
fn dual_stack_fails_when_ipv6_answers_differently_and_names_both_addresses() {
    if !ipv6_loopback() {
        return;
    }
    let Some(nginx) = Nginx::start(
        3,
        r#"
  server { listen 127.0.0.1:{PORT0}; listen [::1]:{PORT0}; location / { return 200 "same\n"; } }
  server { listen 127.0.0.1:{PORT1}; location / { return 200 "ok\n"; } }
  server { listen [::1]:{PORT1}; location / { return 503 "backend down\n"; } }
  server { listen 127.0.0.1:{PORT2}; location / { return 200 "ok\n"; } }
"#,
    ) else {
        return;
    };
    let [same, differ, v4_only] = [nginx.ports[0], nginx.ports[1], nginx.ports[2]];
    let dual = |port: u16, resolve: &str| {
        format!(
            r#"http: {{ url: "http://shop.test:{port}/", resolve: {resolve}, dual_stack: true }}"#
        )
    };
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            ("same", &dual(same, BOTH)),
            ("differ", &dual(differ, BOTH)),
            ("v6-refused", &dual(v4_only, BOTH)),
            ("one-family", &dual(same, r#"["127.0.0.1"]"#)),
        ],
    ));
    let report = json(&ran);
    assert_code!(ran, 1);
    assert_eq!(
        statuses(&report, &["same", "differ", "v6-refused", "one-family"]),
        [
            "same=pass",
            "differ=fail",
            "v6-refused=fail",
            "one-family=fail"
        ]
    );
    assert!(
        message(&report, "same").ends_with(&format!("(IPv6 [::1]:{same} answered the same)")),
        "{}",
        message(&report, "same")
    );
    let it = item(&report, "same");
    assert_eq!(
        it["evidence"]["dual_stack"]["ipv4"]["address"],
        format!("127.0.0.1:{same}")
    );
    assert_eq!(
        it["evidence"]["dual_stack"]["ipv6"]["address"],
        format!("[::1]:{same}")
    );
    assert_eq!(
        message(&report, "differ"),
        format!(
            "`shop.test` answers differently over IPv4 and IPv6: IPv4 127.0.0.1:{differ}: answered 200 (pass); IPv6 [::1]:{differ}: answered 503 (fail)"
        )
    );
    let refused = message(&report, "v6-refused");
    assert!(
        refused.starts_with(&format!(
            "`shop.test` answers differently over IPv4 and IPv6: IPv4 127.0.0.1:{v4_only}: answered 200 (pass); IPv6 [::1]:{v4_only}: "
        )) && refused.contains("Connection refused"),
        "{refused}"
    );
    assert_eq!(
        message(&report, "one-family"),
        "`shop.test` resolves to IPv4 only (127.0.0.1): dual_stack needs an IPv6 address (AAAA record) too"
    );
}

#[test]
fn dual_stack_compares_the_certificate_each_family_serves() {
    if !ipv6_loopback() {
        return;
    }
    let pki = Pki::new("prodcheck dual-stack CA").expect("CA");
    let a = pki.leaf_for_days(&["shop.test"], 60).expect("leaf a");
    let b = pki.leaf_for_days(&["shop.test"], 90).expect("leaf b");
    let servers = r#"
  server { listen 127.0.0.1:{PORT0} ssl; listen [::1]:{PORT0} ssl;
           ssl_certificate {DIR}/a.crt; ssl_certificate_key {DIR}/a.key; return 200 "ok\n"; }
  server { listen 127.0.0.1:{PORT1} ssl; ssl_certificate {DIR}/a.crt; ssl_certificate_key {DIR}/a.key; return 200 "ok\n"; }
  server { listen [::1]:{PORT1} ssl; ssl_certificate {DIR}/b.crt; ssl_certificate_key {DIR}/b.key; return 200 "ok\n"; }
"#;
    // nginx reads the files at start: write them under a prefix it will use.
    let dir = tempfile::tempdir().expect("dir");
    let text = servers.replace("{DIR}", &dir.path().display().to_string());
    for (name, leaf) in [("a", &a), ("b", &b)] {
        std::fs::write(dir.path().join(format!("{name}.crt")), &leaf.cert_pem).expect("crt");
        std::fs::write(dir.path().join(format!("{name}.key")), key_pem(leaf)).expect("key");
    }
    let Some(nginx) = Nginx::start(2, &text) else {
        return;
    };
    let (same, differ) = (nginx.ports[0], nginx.ports[1]);
    let p = Project::new();
    let ca = p.file("ca.pem", &pki.ca_pem);
    let ca = ca.display();
    let tls = |port: u16| {
        format!(
            r#"tls: {{ host: shop.test, port: {port}, resolve: {BOTH}, dual_stack: true, ca_file: "{ca}", enumerate: false }}"#
        )
    };
    let https = |port: u16| {
        format!(
            r#"http: {{ url: "https://shop.test:{port}/", resolve: {BOTH}, dual_stack: true, ca_file: "{ca}" }}"#
        )
    };
    p.file(
        "c.yaml",
        &checklist_of(
            "10s",
            &[
                ("tls-same", &tls(same)),
                ("tls-differ", &tls(differ)),
                ("https-same", &https(same)),
                ("https-differ", &https(differ)),
            ],
        ),
    );
    let ran = run(p.cmd().args(["run", "c.yaml", "--report", "json"]));
    let report = json(&ran);
    assert_code!(ran, 1);
    assert_eq!(
        statuses(
            &report,
            &["tls-same", "tls-differ", "https-same", "https-differ"]
        ),
        [
            "tls-same=pass",
            "tls-differ=fail",
            "https-same=pass",
            "https-differ=fail"
        ]
    );
    for id in ["tls-differ", "https-differ"] {
        let m = message(&report, id);
        assert!(
            m.contains(&format!(
                "the certificate differs: IPv4 127.0.0.1:{differ} serves `CN=shop.test` (SHA-256 "
            )) && m.contains(&format!(
                "IPv6 [::1]:{differ} serves `CN=shop.test` (SHA-256 "
            )),
            "{id}: {m}"
        );
    }
    assert!(
        message(&report, "tls-same")
            .ends_with(&format!("(IPv6 [::1]:{same} shook hands the same)")),
        "{}",
        message(&report, "tls-same")
    );
    assert!(
        message(&report, "tls-differ")
            .starts_with(&format!("shop.test:{differ}: `shop.test` answers differently over IPv4 and IPv6: the certificate differs")),
        "{}",
        message(&report, "tls-differ")
    );
    let it = item(&report, "tls-same");
    assert_eq!(
        it["evidence"]["dual_stack"]["ipv4"]["certificate"],
        it["evidence"]["dual_stack"]["ipv6"]["certificate"],
        "{it}"
    );
}
