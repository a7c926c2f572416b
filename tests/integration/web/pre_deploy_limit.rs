//! The shipped `pre-deploy`, every web item on one real nginx behind `limit_req` 5 r/s with a
//! burst of 10: no item ends in `error` because of prodcheck's own pacing, the limiter is
//! tripped only by `rate-limiting`'s burst (the access log is the witness), and `-v` states the
//! plan. The wall time against the plan is measured by `scripts/bench-limit.sh`, not here.

use serde_json::Value;

use crate::support::Nginx;
use crate::support::*;
use crate::web::headers::tls;

/// The site: plain HTTP on PORT0 redirecting to HTTPS on PORT1; good headers, a strict CORS
/// allow-list, a session cookie, /admin refused, JSON health and API, a gzip'd cacheable
/// asset, security.txt; every request logged with `$msec $status $uri`.
pub(crate) fn limited_site(p: &Project, rate: &str, burst: u32) -> Option<Nginx> {
    let t = tls(p);
    let conf = format!(
        r#"
log_format ts '$msec $status $request_method $request_uri';
limit_req_zone $binary_remote_addr zone=site:1m rate={rate};
limit_req_status 429;
map $status $retry_after {{ 429 1; default ""; }}
map $http_origin $cors_origin {{ "https://app.example" $http_origin; default ""; }}
server {{ listen 127.0.0.1:{{PORT0}}; access_log {{DIR}}/access.log ts;
  limit_req zone=site burst={burst} nodelay;
  add_header Retry-After $retry_after always;
  location / {{ return 301 https://localhost:{{PORT1}}$request_uri; }} }}
server {{ listen 127.0.0.1:{{PORT1}} ssl; ssl_certificate {cert}; ssl_certificate_key {key};
  server_tokens off; access_log {{DIR}}/access.log ts;
  limit_req zone=site burst={burst} nodelay;
  types {{ text/html html; application/javascript js; text/plain txt; }}
  default_type application/json;
  gzip on; gzip_min_length 1; gzip_types application/javascript;
  add_header Retry-After $retry_after always;
  add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
  add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" always;
  add_header X-Content-Type-Options nosniff always;
  add_header X-Frame-Options DENY always;
  add_header Referrer-Policy no-referrer always;
  add_header Permissions-Policy "camera=()" always;
  add_header Set-Cookie "sessionid=abc123; Path=/; Secure; HttpOnly; SameSite=Lax" always;
  add_header Access-Control-Allow-Origin $cors_origin always;
  add_header Vary Origin always;
  add_header Cache-Control "public, max-age=31536000" always;
  root {{DIR}}/www;
  location /admin {{ deny all; }}
  location / {{ try_files $uri /index.html; }} }}
"#,
        cert = t.cert.display(),
        key = t.key.display(),
    );
    let nginx = Nginx::start(2, &conf)?;
    nginx.write("www/index.html", "<!doctype html><title>shop</title>ok\n");
    nginx.write("www/health", "{\"status\": \"ok\"}\n");
    nginx.write("www/api/orders", "[]\n");
    nginx.write("www/api/search", "[]\n");
    nginx.write("www/assets/app.js", &"console.log('shop');\n".repeat(64));
    nginx.write(
        "www/.well-known/security.txt",
        "Contact: mailto:security@shop.example\n",
    );
    Some(nginx)
}

/// `prodcheck run pre-deploy` against the site with `extra` arguments: (ran, report).
pub(crate) fn pre_deploy(p: &Project, nginx: &Nginx, extra: &[&str]) -> (Ran, Value) {
    let base = format!("https://localhost:{}", nginx.ports[1]);
    let ca = p.path().join("ca.pem").display().to_string();
    let vars = [
        format!("base_url={base}"),
        format!("http_url=http://localhost:{}/", nginx.ports[0]),
        format!("ca_file={ca}"),
        format!("login_url={base}/login"),
        // Routes have no default: a real user names them (or `init --discover` does).
        format!("api_url={base}/api/orders"),
        format!("rate_limit_url={base}/api/search"),
        format!("protected_urls=[\"{base}/admin\"]"),
        format!("static_asset_url={base}/assets/app.js"),
        // No WebSocket server here: a refused port, never a request to the limiter.
        format!("ws_url=ws://127.0.0.1:{}/", closed_port()),
        format!("bundle_glob={}", p.file("dist/index-1.js", "x\n").display()),
    ];
    let commands = [
        "staging_migration_status_command",
        "audit_command",
        "test_command",
        "integration_test_command",
        "e2e_test_command",
        "build_command",
        "load_test_command",
    ];
    let mut cmd = p.cmd();
    cmd.args(["run", "pre-deploy", "--non-interactive", "--report", "json"]);
    for v in &vars {
        cmd.args(["--var", v]);
    }
    for c in commands {
        cmd.args(["--var", &format!("{c}=true")]);
    }
    cmd.args(extra);
    let ran = run(&mut cmd);
    assert!(!ran.stdout.is_empty(), "no report: {}", ran.stderr);
    let report = json(&ran);
    (ran, report)
}

/// (time, status, uri) per access-log line.
pub(crate) fn access_log(nginx: &Nginx) -> Vec<(f64, u16, String)> {
    let text = std::fs::read_to_string(nginx.path("access.log")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let t = f.next()?.parse().ok()?;
            let s = f.next()?.parse().ok()?;
            let _method = f.next()?;
            Some((t, s, f.next()?.to_string()))
        })
        .collect()
}

/// The web items of `pre-deploy` and what each must end as against this site.
const WEB_ITEMS: [(&str, &[&str]); 14] = [
    // nginx's default list keeps ECDHE-CBC fallbacks: outside intermediate, inside old.
    ("tls-certificate", &["pass", "warn"]),
    ("https-redirect", &["pass"]),
    ("security-headers", &["pass"]),
    ("cors-policy", &["pass"]),
    ("session-cookies", &["pass"]),
    ("auth-required", &["pass"]),
    ("rate-limiting", &["pass"]),
    ("response-times", &["pass"]),
    ("asset-compression", &["pass"]),
    ("cdn-config", &["pass"]),
    ("health-endpoint", &["pass"]),
    ("load-balancer-backends", &["pass"]),
    ("api-endpoint", &["pass"]),
    ("security-txt", &["pass"]),
];

#[test]
fn pre_deploy_against_a_5_rps_limiter_has_no_pacing_error_and_trips_it_only_in_rate_limiting() {
    let p = Project::new();
    let Some(nginx) = limited_site(&p, "5r/s", 10) else {
        return;
    };
    let (ran, report) = pre_deploy(&p, &nginx, &["-v"]);
    for (id, allowed) in WEB_ITEMS {
        let it = item(&report, id);
        let status = it["status"].as_str().unwrap_or_default();
        assert!(allowed.contains(&status), "{id}: {it}");
    }
    // Nothing anywhere in the run was given up on prodcheck's own pacing or per-host limit.
    for it in report["items"].as_array().cloned().unwrap_or_default() {
        let text = it.to_string();
        assert!(!text.contains("own_limit"), "{text}");
        assert!(!text.contains("prodcheck's own"), "{text}");
        assert!(
            !(it["status"] == "error" && text.contains("throttled")),
            "{text}"
        );
    }
    // The plan is stated with -v: one line for the site's host.
    assert!(
        ran.stderr.contains("plan: localhost: ") && ran.stderr.contains("at 5/s after a burst"),
        "{}",
        ran.stderr
    );
    // The access log: no 429 before rate-limiting's burst began, some during it.
    let log = access_log(&nginx);
    let burst_start = log
        .iter()
        .filter(|(_, _, uri)| uri == "/api/search")
        .map(|(t, _, _)| *t)
        .fold(f64::INFINITY, f64::min);
    let before: Vec<_> = log.iter().filter(|(t, _, _)| *t < burst_start).collect();
    let tripped: Vec<_> = before.iter().filter(|(_, s, _)| *s == 429).collect();
    eprintln!(
        "pre-deploy vs 5 r/s burst 10: {} requests before the burst, {} of them 429",
        before.len(),
        tripped.len()
    );
    assert!(before.len() > 40, "the web items sent {}", before.len());
    assert!(
        tripped.is_empty(),
        "limiter tripped outside rate-limiting: {tripped:?}"
    );
    assert!(
        log.iter()
            .any(|(_, s, uri)| *s == 429 && uri == "/api/search"),
        "rate-limiting never tripped the limiter"
    );
}
