//! `grpc` against a gRPC health server written here (hyper's HTTP/2 server, h2c and TLS with
//! ALPN h2): `grpc.health.v1.Health/Check` answering SERVING, NOT_SERVING and NOT_FOUND.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prodcheck::demo::pki::{self, Pki};
use tokio::net::TcpListener;

use crate::support::*;

type Reply =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// The health service: `""` and `shop.Cart` serve, `shop.Batch` does not, others are unknown.
async fn health(req: Request<Incoming>) -> Result<Response<Reply>, Infallible> {
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    // Frame header (5 bytes), then field 1 (0x0a, length, name) when a name was sent.
    let name = match body.get(5..) {
        Some([0x0a, len, rest @ ..]) => {
            String::from_utf8_lossy(rest.get(..usize::from(*len)).unwrap_or_default()).into_owned()
        }
        _ => String::new(),
    };
    let status = match name.as_str() {
        "" | "shop.Cart" => Some(1u8),
        "shop.Batch" => Some(2u8),
        _ => None,
    };
    let mut trailers = hyper::HeaderMap::new();
    let frames = match status {
        Some(s) => {
            trailers.insert("grpc-status", hyper::header::HeaderValue::from_static("0"));
            vec![
                Ok(Frame::data(Bytes::from(vec![0, 0, 0, 0, 2, 0x08, s]))),
                Ok(Frame::trailers(trailers)),
            ]
        }
        None => Vec::new(),
    };
    let mut resp = Response::builder()
        .status(200)
        .header("content-type", "application/grpc");
    if status.is_none() {
        // Trailers-only: the status in the headers.
        resp = resp
            .header("grpc-status", "5")
            .header("grpc-message", "unknown service");
    }
    Ok(resp
        .body(StreamBody::new(futures_util::stream::iter(frames)))
        .expect("static response parts"))
}

/// Serves the health service on 127.0.0.1, over TLS when `tls` is given.
fn serve(tls: Option<rustls::ServerConfig>) -> Background {
    let acceptor = tls.map(|c| tokio_rustls::TlsAcceptor::from(Arc::new(c)));
    Background::spawn(move || async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let serve = async move {
            for _ in 0..100 {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                    let svc = hyper::service::service_fn(health);
                    match acceptor {
                        Some(a) => {
                            if let Ok(s) = a.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                        }
                    }
                });
            }
        };
        (addr, Box::pin(serve) as _)
    })
}

#[test]
fn serving_not_serving_and_unknown_services_over_h2c() {
    let server = serve(None);
    let url = format!("http://{}", server.addr);
    let check = |svc: &str| format!("grpc: {{ url: '{url}', service: '{svc}' }}");
    let ran = run_checklist(&checklist_of(
        "5s",
        &[
            ("server", &format!("grpc: {{ url: '{url}' }}")),
            ("cart", &check("shop.Cart")),
            ("batch", &check("shop.Batch")),
            ("ghost", &check("shop.Ghost")),
        ],
    ));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let report = json(&ran);
    assert_eq!(
        item(&report, "server")["status"],
        "pass",
        "{}",
        message(&report, "server")
    );
    assert!(message(&report, "server").contains("the server is SERVING"));
    assert_eq!(item(&report, "cart")["status"], "pass");
    assert_eq!(item(&report, "cart")["evidence"]["status"], "SERVING");
    let batch = item(&report, "batch");
    assert_eq!(batch["status"], "fail", "{batch}");
    assert_eq!(
        message(&report, "batch"),
        "service `shop.Batch` reports NOT_SERVING (grpc.health.v1)"
    );
    assert_eq!(batch["evidence"]["grpc_status"], 0);
    let ghost = item(&report, "ghost");
    assert_eq!(ghost["status"], "fail", "{ghost}");
    assert!(message(&report, "ghost").contains("does not know service `shop.Ghost` (NOT_FOUND)"));
    assert_eq!(ghost["evidence"]["grpc_status"], 5);
}

#[test]
fn tls_with_alpn_h2_and_the_probe_command() {
    let ca = Pki::new("gRPC CA").expect("ca");
    let leaf = ca.leaf_for_days(&["127.0.0.1"], 90).expect("leaf");
    let mut config = pki::server_config(vec![leaf.cert_der.clone()], leaf.key()).expect("config");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let server = serve(Some(config));
    let p = Project::new();
    let ca_file = p.file("ca.pem", &ca.ca_pem);
    let ran = run(p.cmd().args([
        "probe",
        "grpc",
        &format!("url=https://127.0.0.1:{}", server.addr.port()),
        "service=shop.Cart",
        &format!("ca_file={}", ca_file.display()),
        "--report",
        "json",
    ]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    // Without the CA the same server is untrusted: a failed handshake, said so.
    let ran = run(p.cmd().args([
        "probe",
        "grpc",
        &format!("url=https://127.0.0.1:{}", server.addr.port()),
        "--report",
        "json",
    ]));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        message(&json(&ran), "grpc").contains("TLS handshake failed"),
        "{}",
        ran.stdout
    );
}

/// The shipped `maintenance/grpc-health`: unconfigured until `grpc_url` is set, then judged.
#[test]
fn shipped_maintenance_item_checks_health_once_grpc_url_is_set() {
    let server = serve(None);
    let p = Project::new();
    let base = [
        "run",
        "maintenance",
        "--only",
        "grpc-health",
        "--non-interactive",
        "--report",
        "json",
    ];
    let ran = run(p.cmd().args(base));
    let it = item(&json(&ran), "grpc-health").clone();
    assert_eq!(it["status"], "unconfigured", "{it}");
    assert!(
        it["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`grpc_url`"),
        "{it}"
    );
    let url = format!("grpc_url=http://{}", server.addr);
    for (service, status, code) in [("shop.Cart", "pass", 0), ("shop.Batch", "fail", 1)] {
        let svc = format!("grpc_service={service}");
        let ran = run(p.cmd().args(base).args(["--var", &url, "--var", &svc]));
        assert_eq!(ran.code, code, "{}{}", ran.stdout, ran.stderr);
        assert_eq!(item(&json(&ran), "grpc-health")["status"], status);
    }
}
