//! Tests of the fetch path against real sockets on 127.0.0.1: real reqwest errors are
//! classified as the rule expects, throttled answers are waited out or reported.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

async fn serve(answers: Vec<&'static str>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        for answer in answers {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(answer.as_bytes()).await;
            let _ = s.shutdown().await;
        }
    });
    (format!("http://{addr}/"), task)
}

const TOO_MANY: &str = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

fn fetcher(timeout: Duration) -> Fetcher {
    crate::install_crypto_provider();
    let ctx = ProbeContext::new(timeout);
    let net = crate::net::NetParams::default();
    let reach = crate::net::http::Reach::new("http://127.0.0.1/", &None, &net);
    Fetcher::new(&ctx, &reach, None).expect("client")
}

#[tokio::test]
async fn a_refused_port_is_classified_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let url = format!("http://127.0.0.1:{port}/timeout-certificate-proxy");
    let err = fetcher(Duration::from_secs(5)).get(&url, &[], 64).await;
    let err = err.expect_err("nothing listens");
    assert_eq!(err.why, NoAnswer::Refused, "{}", err.message);
    assert_eq!(err.status(Property::Reachability), Status::Fail);
    assert_eq!(err.status(Property::Content), Status::Fail);
    assert_eq!(err.evidence.get("no_answer"), Some(&json!("refused")));
}

#[tokio::test]
async fn silence_is_classified_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let kept = listener.accept().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(kept);
    });
    let url = format!("http://{addr}/");
    // Through the client's own timeout (a reqwest error) …
    crate::install_crypto_provider();
    let client = crate::net::http::page::client(Duration::from_millis(300), "t", &None, None)
        .expect("client");
    let e = client.get(&url).send().await.expect_err("silent");
    assert_eq!(classify(&e, false), NoAnswer::Timeout);
    // … and through the fetch path's deadline.
    let err = fetcher(Duration::from_millis(300)).get(&url, &[], 64).await;
    let err = err.expect_err("silent");
    assert_eq!(err.why, NoAnswer::Timeout, "{}", err.message);
    assert_eq!(err.status(Property::Content), Status::Error);
    assert_eq!(err.status(Property::Reachability), Status::Fail);
    hold.abort();
}

#[tokio::test]
async fn a_throttled_answer_is_waited_out_and_asked_again() {
    let (url, task) = serve(vec![TOO_MANY, OK]).await;
    let started = Instant::now();
    let page = fetcher(Duration::from_secs(5)).get(&url, &[], 64).await;
    let page = page.expect("second answer");
    assert_eq!(page.status, 200);
    assert_eq!(page.throttled_before, 1);
    assert!(started.elapsed() >= Duration::from_millis(950));
    task.abort();
}

#[tokio::test]
async fn a_target_that_stays_throttled_is_a_throttled_no_page() {
    let (url, task) = serve(vec![TOO_MANY; 4]).await;
    let err = fetcher(Duration::from_millis(2500))
        .get(&url, &[], 64)
        .await;
    let err = err.expect_err("always 429");
    assert_eq!(err.why, NoAnswer::Throttled);
    assert!(
        err.message
            .contains("throttled by the target (429, Retry-After 1 s)"),
        "{}",
        err.message
    );
    assert_eq!(err.status(Property::Reachability), Status::Error);
    assert_eq!(err.evidence.get("throttled_status"), Some(&json!(429)));
    task.abort();
}

#[test]
fn resolver_failures_are_told_apart_from_missing_names() {
    // What getaddrinfo says through reqwest (no outside DNS needed to check the wording).
    let gone = std::io::Error::other(
        "dns error: failed to lookup address information: Name or service not known",
    );
    assert_eq!(NoAnswer::classify(&gone), NoAnswer::NameNotFound);
    let down = std::io::Error::other(
        "dns error: failed to lookup address information: Temporary failure in name resolution",
    );
    assert_eq!(NoAnswer::classify(&down), NoAnswer::ResolverUnavailable);
}

/// Serves one answer and hands back the request it read.
async fn capture() -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let Ok((mut s, _)) = listener.accept().await else {
            return String::new();
        };
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).await.unwrap_or(0);
        let _ = s.write_all(OK.as_bytes()).await;
        let _ = s.shutdown().await;
        String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase()
    });
    (format!("http://{addr}/"), task)
}

#[tokio::test]
async fn a_one_shot_fetch_asks_to_close_the_connection_unless_the_item_says_otherwise() {
    let (url, seen) = capture().await;
    let page = fetcher(Duration::from_secs(5))
        .one_shot()
        .get(&url, &[], 64)
        .await;
    assert_eq!(page.expect("answered").status, 200);
    assert!(
        seen.await
            .expect("request")
            .contains("connection: close\r\n")
    );

    let (url, seen) = capture().await;
    let page = fetcher(Duration::from_secs(5)).get(&url, &[], 64).await;
    assert_eq!(page.expect("answered").status, 200);
    assert!(!seen.await.expect("request").contains("connection: close"));

    let (url, seen) = capture().await;
    let own =
        std::collections::BTreeMap::from([("Connection".to_string(), "keep-alive".to_string())]);
    let fetch = fetcher(Duration::from_secs(5))
        .with_headers(&own)
        .one_shot();
    assert_eq!(
        fetch.get(&url, &[], 64).await.expect("answered").status,
        200
    );
    let request = seen.await.expect("request");
    assert!(request.contains("connection: keep-alive\r\n"), "{request}");
    assert!(!request.contains("connection: close"), "{request}");
}
