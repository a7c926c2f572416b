//! `http` with `require_h3`: HTTP/3 advertised through `Alt-Svc` by raw servers on 127.0.0.1
//! (one offering `h3`, one offering only a draft, one offering nothing).

use crate::support::*;

const WITH_H3: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nAlt-Svc: h3=\":443\"; ma=86400\r\nConnection: close\r\n\r\nok";
const DRAFT_ONLY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nAlt-Svc: h3-29=\":443\"\r\nConnection: close\r\n\r\nok";
const WITHOUT: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

#[test]
fn require_h3_passes_only_when_alt_svc_offers_h3() {
    let (with, draft, without) = (
        RawServer::respond(WITH_H3),
        RawServer::respond(DRAFT_ONLY),
        RawServer::respond(WITHOUT),
    );
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            (
                "with",
                &format!("http: {{ url: '{}', require_h3: true }}", with.url("/")),
            ),
            (
                "draft",
                &format!("http: {{ url: '{}', require_h3: true }}", draft.url("/")),
            ),
            (
                "without",
                &format!("http: {{ url: '{}', require_h3: true }}", without.url("/")),
            ),
            (
                "reported",
                &format!("http: {{ url: '{}' }}", without.url("/")),
            ),
        ],
    ));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    let with = item(&report, "with");
    assert_eq!(with["status"], "pass", "{with}");
    assert_eq!(with["evidence"]["h3"]["advertised"], true, "{with}");
    assert_eq!(with["evidence"]["h3"]["authorities"][0], ":443", "{with}");
    assert_eq!(item(&report, "draft")["status"], "fail");
    assert!(
        message(&report, "draft").contains("only draft versions (`h3-29=\":443\"`)"),
        "{}",
        message(&report, "draft")
    );
    assert_eq!(item(&report, "without")["status"], "fail");
    assert!(
        message(&report, "without")
            .contains("no HTTP/3 advertised: the response has no Alt-Svc header"),
        "{}",
        message(&report, "without")
    );
    // Not required and no Alt-Svc: nothing to say, nothing judged.
    let reported = item(&report, "reported");
    assert_eq!(reported["status"], "pass", "{reported}");
    assert!(reported["evidence"].get("h3").is_none(), "{reported}");
}

#[test]
fn probe_command_takes_require_h3() {
    let server = RawServer::respond(WITH_H3);
    let p = Project::new();
    let url = format!("url={}", server.url("/"));
    let ran = run(p
        .cmd()
        .args(["probe", "http", &url, "require_h3=true", "--report", "json"]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(
        item(&json(&ran), "http")["evidence"]["h3"]["advertised"],
        true
    );
}
