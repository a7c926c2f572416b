//! `--report html=FILE` from the real binary: text from a hostile target shows as text and
//! breaks no markup, the page loads nothing from anywhere, failing items come first and open,
//! and the run-history strip grows a column per run.

use prodcheck::demo::pki::{self, Pki};

use crate::support::*;

/// What a hostile server puts where a report shows it: headers, body, certificate names.
const SERVER: &str = "<script>alert(1)</script> evil/1.0";
const POWERED_BY: &str = "</table></td><img src=x onerror=alert(2)>";
const BODY: &str = "</table><script>alert(3)</script><!--";
const CA_NAME: &str = "<script>alert(4)</script></table> CA";

fn hostile_http() -> RawServer {
    let response = format!(
        "HTTP/1.1 200 OK\r\nServer: {SERVER}\r\nX-Powered-By: {POWERED_BY}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    RawServer::respond(Box::leak(response.into_bytes().into_boxed_slice()))
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// Each element that structures the page opens as often as it closes: nothing from a target
/// ended a table, a cell or a `<details>` early.
fn assert_balanced(html: &str) {
    for tag in [
        "table", "tr", "td", "th", "details", "section", "svg", "g", "dl",
    ] {
        let opened = count(html, &format!("<{tag}>")) + count(html, &format!("<{tag} "));
        let closed = count(html, &format!("</{tag}>"));
        assert_eq!(
            opened, closed,
            "<{tag}> opened {opened} times, closed {closed}"
        );
    }
}

#[test]
fn hostile_text_from_a_target_shows_as_text_and_breaks_nothing() {
    let raw = hostile_http();
    let ca = Pki::new(CA_NAME).expect("ca");
    let leaf = ca
        .leaf_for_days(&["localhost", "127.0.0.1"], 20)
        .expect("leaf");
    let tls_config = pki::server_config(vec![leaf.cert_der.clone(), ca.ca_der.clone()], leaf.key())
        .expect("tls config");
    let tls = AppServer::start_tls(
        axum::Router::new().route("/", axum::routing::get(|| async { "ok" })),
        tls_config,
    );
    let p = Project::new();
    let ca_file = p.file("ca.pem", &ca.ca_pem);
    let url = raw.url("/");
    p.file(
        "c.yaml",
        &format!(
            r#"name: hostile-html
sections:
  - name: Web
    items:
      - id: grade
        title: Headers graded
        fix: Send the security headers.
        check: {{ security_headers: {{ url: "{url}" }} }}
      - id: server-header
        title: Server header names nginx
        check: {{ http: {{ url: "{url}", expect: {{ headers: {{ server: nginx }} }} }} }}
      - id: body
        title: Body says healthy
        check: {{ http: {{ url: "{url}", expect: {{ body_contains: healthy }} }} }}
  - name: TLS
    items:
      - id: cert
        title: Certificate
        check: {{ tls: {{ host: localhost, port: {port}, ca_file: "{ca}" }} }}
"#,
            port = tls.addr.port(),
            ca = ca_file.display(),
        ),
    );
    let ran = p
        .case()
        .args([
            "run",
            "c.yaml",
            "--report",
            "json",
            "--report",
            "html=out/report.html",
        ])
        .code(1)
        .run();
    // The hostile text did reach the report, so the checks below are not vacuous.
    let report = json(&ran);
    let data = report.to_string();
    for hostile in [SERVER, POWERED_BY, BODY, CA_NAME] {
        let as_json = serde_json::to_string(hostile).expect("json string");
        let as_json = as_json.trim_matches('"');
        assert!(
            data.contains(as_json),
            "`{hostile}` not in the report: {data}"
        );
    }
    assert!(message(&report, "server-header").contains(SERVER));

    let html = std::fs::read_to_string(p.path().join("out/report.html")).expect("html report");
    let lower = html.to_lowercase();
    assert!(
        !lower.contains("<script") && !lower.contains("<img"),
        "markup from the target:\n{html}"
    );
    for escaped in [
        "&lt;script&gt;alert(1)&lt;/script&gt; evil/1.0",
        "&lt;/table&gt;&lt;/td&gt;&lt;img src=x onerror=alert(2)&gt;",
        "&lt;/table&gt;&lt;script&gt;alert(3)&lt;/script&gt;&lt;!--",
        "CN=&lt;script&gt;alert(4)&lt;/script&gt;&lt;/table&gt; CA",
    ] {
        assert!(
            html.contains(escaped),
            "`{escaped}` not shown as text:\n{html}"
        );
    }
    assert_balanced(&html);
    assert_eq!(count(&html, "<table>"), 2, "one table per section");
    for id in ["grade", "server-header", "body", "cert"] {
        assert!(html.contains(&format!("<tr id=\"item-{id}\"")), "row {id}");
    }
    // The hostile CA is drawn in the expiry timeline (a ten-year CA), its name as text.
    let timeline = html
        .split("<figure id=\"figure-expiry\">")
        .nth(1)
        .and_then(|rest| rest.split("</figure>").next())
        .expect("expiry timeline");
    assert!(
        timeline.contains("&lt;script&gt;alert(4)") && timeline.contains(" days left ("),
        "{timeline}"
    );
}

#[test]
fn the_page_is_self_contained_and_failing_items_come_first_and_open() {
    let p = Project::new();
    p.file(
        "c.yaml",
        r#"name: html-shape
title: Shape of the page
sections:
  - name: First
    items:
      - id: fine
        title: Fine
        check: { exec: { shell: "echo 'OK - fine'" } }
      - id: broken
        title: Broken
        fix: Repair it.
        docs: https://runbooks.example/broken
        check: { exec: { shell: "echo 'CRITICAL - broken'; exit 2" } }
      - id: shaky
        title: Shaky
        check: { exec: { shell: "echo 'WARNING - shaky'; exit 1" } }
  - name: Second
    items:
      - id: later
        title: Later
        manual: { how: Look. }
"#,
    );
    p.case()
        .args(["run", "c.yaml", "--report", "html=report.html"])
        .code(1)
        .run();
    let html = std::fs::read_to_string(p.path().join("report.html")).expect("html report");

    // Verdict in words and colour class, with the figures.
    assert!(html.contains("<header class=\"verdict v-fail\">"), "{html}");
    assert!(html.contains("FAILED</span> exit code <strong>1</strong>: a gating item failed"));
    assert!(html.contains("Shape of the page") && html.contains("4</strong> items:"));
    assert!(html.contains("1 pass") && html.contains("1 warn") && html.contains("1 fail"));
    // Failing first within a section, open with its fix and docs; passing items folded.
    let pos = |id: &str| {
        html.find(&format!("<tr id=\"item-{id}\""))
            .unwrap_or_else(|| panic!("no row {id}"))
    };
    assert!(pos("broken") < pos("shaky") && pos("shaky") < pos("fine"));
    assert!(pos("fine") < pos("later"), "sections keep checklist order");
    assert!(
        html.contains("<details open><summary>CRITICAL - broken"),
        "{html}"
    );
    assert!(html.contains("<details><summary>OK - fine"), "{html}");
    assert!(html.contains("<strong>Fix: </strong>Repair it."));
    assert!(html.contains("<a href=\"https://runbooks.example/broken\" rel=\"noreferrer\">"));
    // The attention list links to the rows.
    assert!(html.contains("<a href=\"#item-broken\">"));
    // Nothing is loaded from anywhere: no script, no source, no stylesheet or font link.
    let lower = html.to_lowercase();
    for banned in [
        "<script",
        " src=",
        "@import",
        "url(",
        "<link rel=\"stylesheet",
    ] {
        assert!(!lower.contains(banned), "`{banned}` in the page");
    }
    let links: Vec<&str> = html.split("href=\"").skip(1).collect();
    for link in links {
        assert!(
            link.starts_with('#')
                || link.starts_with("data:,")
                || link.starts_with("https://runbooks.example/"),
            "unexpected link {}",
            &link[..link.len().min(80)]
        );
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    assert_balanced(&html);

    // Without a PATH the page goes to stdout (and replaces the terminal report).
    let ran = run(p.cmd().args(["run", "c.yaml", "--report", "html"]));
    assert!(ran.stdout.starts_with("<!DOCTYPE html>"), "{}", ran.stdout);
}

#[test]
fn the_history_strip_has_a_column_per_run() {
    let p = Project::new();
    p.file(
        "c.yaml",
        r#"name: html-history
sections:
  - name: S
    items:
      - id: flag
        title: The flag file exists
        check: { exec: { shell: "test -f flag && echo 'OK - flag' || { echo 'CRITICAL - no flag'; exit 2; }" } }
      - id: steady
        title: Steady
        check: { exec: { shell: "echo 'OK - steady'" } }
"#,
    );
    p.case().args(["run", "c.yaml"]).code(1).run();
    p.file("flag", "");
    p.case().args(["run", "c.yaml"]).run();
    p.case()
        .args(["run", "c.yaml", "--report", "html=r.html"])
        .run();
    let html = std::fs::read_to_string(p.path().join("r.html")).expect("html report");
    let strip = html
        .split("<figure id=\"figure-history\">")
        .nth(1)
        .and_then(|rest| rest.split("</figure>").next())
        .expect("history figure");
    assert!(strip.contains("3 run(s)"), "{strip}");
    // Three exit-code cells (1, 0, 0) and three for `flag` (fail, pass, pass); `steady` passed
    // throughout and is counted, not drawn.
    assert_eq!(count(strip, ": exit 1"), 1, "{strip}");
    assert_eq!(count(strip, ": exit 0"), 2, "{strip}");
    assert_eq!(count(strip, "flag at "), 3, "{strip}");
    assert_eq!(
        count(strip, "class=\"st-fail\""),
        2,
        "exit 1 and flag's fail: {strip}"
    );
    assert!(!strip.contains("steady at "), "{strip}");
    assert!(strip.contains("1 item(s) kept one passing"), "{strip}");
    assert_eq!(count(strip, "(this run)</title>"), 2, "{strip}");
}

#[test]
fn the_demo_draws_every_picture_and_keeps_history_in_its_state_dir() {
    let p = Project::new();
    for _ in 0..2 {
        p.case()
            .args(["demo", "--state", "st", "--report", "html=demo.html"])
            .any_stderr()
            .run();
    }
    let history = std::fs::read_to_string(p.path().join("st/history/pre-deploy.jsonl"))
        .expect("the demo recorded its runs");
    assert_eq!(history.lines().count(), 2);
    let html = std::fs::read_to_string(p.path().join("demo.html")).expect("html report");
    for figure in [
        "<figure id=\"figure-expiry\">",
        "<figure id=\"figure-grade-security-headers\">",
        "<figure id=\"figure-latency-response-times\">",
        "<figure id=\"figure-history\">",
    ] {
        assert!(html.contains(figure), "no {figure}");
    }
    // The demo's certificate has 20 days left against the 33% (29-day) warn threshold.
    assert!(
        html.contains("class=\"bar fill-warn\""),
        "the leaf is in the warn zone"
    );
    assert!(html.contains("Run history: 2 run(s)"));
    // Latency bounds from the checklist (p95 500 ms) are drawn against the figures.
    assert!(html.contains("within 500 ms"), "p95 bound drawn");
    assert_balanced(&html);
    // Without --state nothing is written to the project.
    p.case().arg("demo").any_stderr().run();
    assert!(!p.path().join(".prodcheck").exists());
}
