//! One rule for "could not check" in the non-web probes (`checks/src/no_answer.rs`): what the
//! target answered is `fail`, what kept prodcheck from asking is `error`. Each case of the
//! table that loopback can produce, per kind: status, message in words and `no_answer`.

use std::io::{Read, Write};
use std::net::UdpSocket;

use crate::support::*;

/// Asserts an item's status, that its message contains every fragment, and its `no_answer`.
fn expect(report: &serde_json::Value, id: &str, status: &str, says: &[&str], why: Option<&str>) {
    let it = item(report, id);
    let msg = message(report, id);
    assert_eq!(it["status"], status, "{id}: {msg}");
    for s in says {
        assert!(msg.contains(s), "{id}: `{msg}` lacks `{s}`");
    }
    if let Some(why) = why {
        assert_eq!(it["evidence"]["no_answer"], why, "{id}: {it}");
    }
}

/// A server that answers a TLS ClientHello (or anything) with a plain-text HTTP error.
fn plain_text_server() -> RawServer {
    RawServer::respond(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
}

#[test]
fn tcp_and_tls_refused_silent_and_not_tls() {
    let silent = RawServer::silent();
    let plain = plain_text_server();
    let closed = closed_port();
    let (s, p) = (silent.addr.port(), plain.addr.port());
    let ran = run_checklist(&checklist_of(
        "1s",
        &[
            (
                "tcp-refused",
                &format!("tcp: {{ host: 127.0.0.1, port: {closed} }}"),
            ),
            (
                "tcp-silent-tls",
                &format!("tcp: {{ host: 127.0.0.1, port: {s}, tls: true }}"),
            ),
            (
                "tcp-not-tls",
                &format!("tcp: {{ host: 127.0.0.1, port: {p}, tls: true }}"),
            ),
            (
                "tls-refused",
                &format!("tls: {{ host: 127.0.0.1, port: {closed} }}"),
            ),
            (
                "tls-silent",
                &format!("tls: {{ host: 127.0.0.1, port: {s} }}"),
            ),
            (
                "tls-not-tls",
                &format!("tls: {{ host: 127.0.0.1, port: {p} }}"),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let r = json(&ran);
    let refused = format!("connection refused by 127.0.0.1:{closed}");
    expect(&r, "tcp-refused", "fail", &[&refused], Some("refused"));
    expect(
        &r,
        "tcp-silent-tls",
        "fail",
        &["did not finish the TLS handshake within 1 s"],
        Some("timeout"),
    );
    expect(
        &r,
        "tcp-not-tls",
        "fail",
        &["rejected the TLS handshake"],
        Some("tls_rejected"),
    );
    expect(&r, "tls-refused", "fail", &[&refused], Some("refused"));
    expect(
        &r,
        "tls-silent",
        "fail",
        &["did not finish the handshake within 1 s"],
        Some("timeout"),
    );
    expect(
        &r,
        "tls-not-tls",
        "fail",
        &["TLS handshake failed"],
        Some("tls_rejected"),
    );
}

#[test]
fn redis_refused_silent_not_tls_and_wrong_password() {
    let silent = RawServer::silent();
    let plain = plain_text_server();
    let closed = closed_port();
    let mut items = vec![
        (
            "refused",
            format!("redis: {{ url: 'redis://127.0.0.1:{closed}' }}"),
        ),
        (
            "silent",
            format!(
                "redis: {{ url: 'redis://127.0.0.1:{}' }}",
                silent.addr.port()
            ),
        ),
        (
            "not-tls",
            format!(
                "redis: {{ url: 'rediss://127.0.0.1:{}' }}",
                plain.addr.port()
            ),
        ),
        (
            "not-redis",
            format!(
                "redis: {{ url: 'redis://127.0.0.1:{}' }}",
                plain.addr.port()
            ),
        ),
    ];
    let real = start_redis();
    if let Some(redis) = &real {
        items.push((
            "badpw",
            format!(
                "redis: {{ url: 'redis://:wrong-pw@127.0.0.1:{}' }}",
                redis.port
            ),
        ));
    }
    let items: Vec<(&str, &str)> = items.iter().map(|(i, c)| (*i, c.as_str())).collect();
    let ran = run_checklist(&checklist_of("1s", &items));
    assert_code!(ran, 1);
    let r = json(&ran);
    let refused = format!("connection refused by 127.0.0.1:{closed}");
    expect(&r, "refused", "fail", &[&refused], Some("refused"));
    expect(
        &r,
        "silent",
        "fail",
        &["did not answer within 1 s"],
        Some("timeout"),
    );
    expect(
        &r,
        "not-tls",
        "fail",
        &["TLS handshake with 127.0.0.1"],
        Some("tls_rejected"),
    );
    expect(
        &r,
        "not-redis",
        "fail",
        &["the server answered, but not as Redis"],
        None,
    );
    if real.is_some() {
        expect(
            &r,
            "badpw",
            "fail",
            &["Redis rejected the credentials"],
            None,
        );
        assert_eq!(item(&r, "badpw")["evidence"]["auth"], "rejected");
    }
}

#[test]
fn postgres_refused_silent_no_tls_and_wrong_password() {
    let silent = RawServer::silent();
    // Answers PostgreSQL's SSLRequest with `N`: this server does not speak TLS.
    let no_ssl = RawServer::start(|mut s| {
        let mut buf = [0u8; 8];
        let _ = s.read_exact(&mut buf);
        let _ = s.write_all(b"N");
    });
    let plain = plain_text_server();
    let closed = closed_port();
    let url = |port: u16, q: &str| {
        format!("postgres: {{ url: 'postgres://u:p@127.0.0.1:{port}/db{q}' }}")
    };
    let mut items = vec![
        ("refused", url(closed, "")),
        ("silent", url(silent.addr.port(), "")),
        ("no-tls", url(no_ssl.addr.port(), "?sslmode=require")),
        ("not-pg", url(plain.addr.port(), "")),
    ];
    let real = start_postgres(false);
    if let Some((pg, _)) = &real {
        items.push((
            "badpw",
            format!(
                "postgres: {{ url: 'postgres://postgres:wrong-pw@127.0.0.1:{}/postgres' }}",
                pg.port
            ),
        ));
        // Connected, but the item's own query outlives the budget: nothing was compared.
        items.push((
            "slow-query",
            format!(
                "postgres: {{ url: 'postgres://postgres:${{env:PG_PW}}@127.0.0.1:{}/postgres', query: 'SELECT pg_sleep(5)', expect: '== 1' }}",
                pg.port
            ),
        ));
    }
    let items: Vec<(&str, &str)> = items.iter().map(|(i, c)| (*i, c.as_str())).collect();
    let ran = run_checklist_with_env(&checklist_of("1s", &items), &[("PG_PW", PG_PASSWORD)]);
    assert_code!(ran, 1);
    let r = json(&ran);
    let refused = format!("connection refused by 127.0.0.1:{closed}");
    expect(&r, "refused", "fail", &[&refused], Some("refused"));
    expect(
        &r,
        "silent",
        "fail",
        &["did not answer within 1 s"],
        Some("timeout"),
    );
    expect(
        &r,
        "no-tls",
        "fail",
        &[
            "TLS handshake with 127.0.0.1",
            "server does not support TLS",
        ],
        Some("tls_rejected"),
    );
    expect(
        &r,
        "not-pg",
        "fail",
        &["the server answered, but not as PostgreSQL"],
        None,
    );
    if real.is_some() {
        expect(
            &r,
            "badpw",
            "fail",
            &["PostgreSQL rejected the credentials", "(28P01)"],
            None,
        );
        expect(
            &r,
            "slow-query",
            "error",
            &["`query` did not answer within 1 s: its value could not be compared"],
            Some("timeout"),
        );
    }
}

#[test]
fn websocket_refused_silent_throttled_and_not_found() {
    let silent = RawServer::silent();
    let throttled = RawServer::respond(
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n",
    );
    let missing = RawServer::respond(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let busy = RawServer::respond(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n",
    );
    let closed = closed_port();
    let ws = |port: u16| format!("websocket: {{ url: 'ws://127.0.0.1:{port}/socket' }}");
    let ran = run_checklist(&checklist_of(
        "1s",
        &[
            ("refused", &ws(closed)),
            ("silent", &ws(silent.addr.port())),
            ("throttled", &ws(throttled.addr.port())),
            ("missing", &ws(missing.addr.port())),
            ("busy", &ws(busy.addr.port())),
        ],
    ));
    assert_code!(ran, 1);
    let r = json(&ran);
    let refused = format!("connection refused by 127.0.0.1:{closed}");
    expect(&r, "refused", "fail", &[&refused], Some("refused"));
    expect(
        &r,
        "silent",
        "fail",
        &["did not answer within 1 s"],
        Some("timeout"),
    );
    expect(
        &r,
        "throttled",
        "error",
        &["throttled by the target", "HTTP 429 (Retry-After: 30)"],
        Some("throttled"),
    );
    expect(
        &r,
        "missing",
        "fail",
        &["answered HTTP 404 Not Found"],
        None,
    );
    assert!(item(&r, "missing")["evidence"].get("no_answer").is_none());
    expect(
        &r,
        "busy",
        "error",
        &["throttled by the target", "HTTP 503 (Retry-After: 5)"],
        Some("throttled"),
    );
}

#[test]
fn prometheus_down_silent_rejected_or_throttled_is_an_error() {
    let silent = RawServer::silent();
    let body =
        r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected }"}"#;
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let rejected = RawServer::respond(Box::leak(answer.into_bytes().into_boxed_slice()));
    let broken = RawServer::respond(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad");
    let throttled =
        RawServer::respond(b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n");
    let closed = closed_port();
    let prom = |port: u16| {
        format!("prometheus: {{ url: 'http://127.0.0.1:{port}', query: 'up', expect: '== 1' }}")
    };
    let ran = run_checklist(&checklist_of(
        "1s",
        &[
            ("down", &prom(closed)),
            ("silent", &prom(silent.addr.port())),
            ("rejected", &prom(rejected.addr.port())),
            ("broken", &prom(broken.addr.port())),
            ("throttled", &prom(throttled.addr.port())),
        ],
    ));
    assert_code!(ran, 3);
    let r = json(&ran);
    let at = |port: u16| format!("Prometheus at http://127.0.0.1:{port}");
    expect(
        &r,
        "down",
        "error",
        &[&format!(
            "{} refused the connection: the query could not be evaluated",
            at(closed)
        )],
        Some("refused"),
    );
    expect(
        &r,
        "silent",
        "error",
        &[&format!(
            "{} did not answer within 1 s: the query could not be evaluated",
            at(silent.addr.port())
        )],
        Some("timeout"),
    );
    expect(
        &r,
        "rejected",
        "error",
        &[
            "Prometheus refused the query (bad_data)",
            "could not be evaluated",
        ],
        Some("other"),
    );
    expect(&r, "broken", "error", &["answered HTTP 502"], Some("other"));
    expect(
        &r,
        "throttled",
        "error",
        &["throttled the query"],
        Some("throttled"),
    );
}

#[test]
fn exec_that_cannot_start_or_answers_unknown_is_an_error() {
    let p = Project::new();
    let script = p.file("not-executable.sh", "#!/bin/sh\necho OK\n");
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "missing",
                "exec: { command: [prodcheck-no-such-program-x] }",
            ),
            (
                "not-exec",
                &format!("exec: {{ command: ['{}'] }}", script.display()),
            ),
            (
                "shell-missing",
                "exec: { shell: 'prodcheck-no-such-program-x --flag' }",
            ),
            (
                "no-cwd",
                "exec: { command: ['true'], cwd: /nonexistent-prodcheck-dir }",
            ),
            (
                "unknown",
                "exec: { shell: 'echo UNKNOWN - cannot tell; exit 3' }",
            ),
            (
                "critical",
                "exec: { shell: 'echo CRITICAL - broken; exit 2' }",
            ),
        ],
    ));
    assert_code!(ran, 1);
    let r = json(&ran);
    expect(
        &r,
        "missing",
        "error",
        &["could not be started: program `prodcheck-no-such-program-x` was not found"],
        Some("other"),
    );
    assert_eq!(item(&r, "missing")["evidence"]["start_error"], "not_found");
    expect(
        &r,
        "not-exec",
        "error",
        &["is not executable (permission denied)"],
        None,
    );
    assert_eq!(
        item(&r, "not-exec")["evidence"]["start_error"],
        "not_executable"
    );
    expect(
        &r,
        "shell-missing",
        "error",
        &["could not run: a command in it was not found, sh exited 127"],
        None,
    );
    expect(
        &r,
        "no-cwd",
        "error",
        &["working directory `/nonexistent-prodcheck-dir` does not exist"],
        None,
    );
    expect(
        &r,
        "unknown",
        "error",
        &["UNKNOWN - cannot tell", "exited 3: UNKNOWN"],
        None,
    );
    expect(&r, "critical", "fail", &["CRITICAL - broken"], None);
}

#[test]
fn file_without_a_match_fails_and_disk_without_a_path_is_an_error() {
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "no-backup",
                "file: { path: '/nonexistent-prodcheck/db-*.sql.gz' }",
            ),
            (
                "no-volume",
                "disk: { path: /nonexistent-prodcheck/volume, min_free: 10% }",
            ),
        ],
    ));
    assert_code!(ran, 1);
    let r = json(&ran);
    expect(
        &r,
        "no-backup",
        "fail",
        &[
            "no file matches `/nonexistent-prodcheck/db-*.sql.gz` (directory `/nonexistent-prodcheck` does not exist)",
        ],
        None,
    );
    expect(
        &r,
        "no-volume",
        "error",
        &["`/nonexistent-prodcheck/volume` does not exist, so there is no filesystem to measure"],
        Some("other"),
    );
}

#[test]
fn dns_missing_name_fails_and_a_silent_or_absent_resolver_is_an_error() {
    let server = Background::spawn(|| async {
        let dns = prodcheck::demo::dns::serve(
            "example.test.",
            "$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 admin 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 127.0.0.10\n",
        )
        .await
        .expect("dns server");
        Background::hold(dns.addr, dns)
    });
    // A resolver that takes the question and never answers (held until the test ends).
    let mute = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let mute_addr = mute.local_addr().expect("addr");
    let closed = closed_port();
    let dns = |ns: String, name: &str| format!("dns: {{ nameserver: '{ns}', name: {name} }}");
    let ran = run_checklist(&checklist_of(
        "1s",
        &[
            ("exists", &dns(server.addr.to_string(), "www.example.test")),
            (
                "nxdomain",
                &dns(server.addr.to_string(), "gone.example.test"),
            ),
            ("mute", &dns(mute_addr.to_string(), "www.example.test")),
            (
                "not-served",
                &dns(server.addr.to_string(), "www.elsewhere.test"),
            ),
            (
                "absent",
                &dns(format!("127.0.0.1:{closed}"), "www.example.test"),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let r = json(&ran);
    expect(&r, "exists", "pass", &["A 127.0.0.10"], None);
    expect(
        &r,
        "nxdomain",
        "fail",
        &["does not exist (NXDOMAIN)"],
        Some("name_not_found"),
    );
    expect(
        &r,
        "mute",
        "error",
        &[
            "A query for www.example.test",
            "the resolver did not answer within 1 s",
        ],
        Some("timeout"),
    );
    // The server refuses a zone it does not serve (REFUSED): the resolver failed, not the name.
    expect(
        &r,
        "not-served",
        "error",
        &[
            "the resolver gave no answer about the name",
            "Query Refused",
        ],
        Some("resolver_unavailable"),
    );
    let absent = item(&r, "absent");
    assert_eq!(absent["status"], "error", "{absent}");
    assert!(
        message(&r, "absent").contains("A query for www.example.test"),
        "{absent}"
    );
    drop(mute);
}

#[test]
fn an_untrusted_certificate_is_an_answer_that_fails() {
    let own = prodcheck::demo::pki::self_signed_leaf(&["127.0.0.1"], 90).expect("self-signed");
    let config = prodcheck::demo::pki::server_config(vec![own.cert_der.clone()], own.key())
        .expect("server config");
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let server = AppServer::start_tls(app, config);
    let port = server.addr.port();
    let ran = run_checklist(&checklist_of(
        "2s",
        &[
            ("tls", &format!("tls: {{ host: 127.0.0.1, port: {port} }}")),
            (
                "tcp",
                &format!("tcp: {{ host: 127.0.0.1, port: {port}, tls: true }}"),
            ),
            (
                "wss",
                &format!("websocket: {{ url: 'wss://127.0.0.1:{port}/' }}"),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let r = json(&ran);
    // The chain was presented and judged: a verdict on the certificate, not a missing answer.
    expect(&r, "tls", "fail", &["is not a trusted root"], None);
    assert!(item(&r, "tls")["evidence"].get("no_answer").is_none());
    expect(
        &r,
        "tcp",
        "fail",
        &["rejected the TLS handshake", "invalid peer certificate"],
        Some("tls_rejected"),
    );
    expect(
        &r,
        "wss",
        "fail",
        &["the TLS handshake with 127.0.0.1", "failed"],
        Some("tls_rejected"),
    );
}
