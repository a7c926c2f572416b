//! `init --discover` against nginx (limit_req 5 r/s, burst 10) in front of an app, and a real
//! Prometheus scraping the app in each metric convention: the exact variables and comments
//! written, the user's values and comments kept, what is missing left unset with the reason,
//! and the requests the app saw (within the stated bound, none refused by the limiter).

use super::fixture::*;
use crate::support::*;

const PROM_SET: &str = "# not found: no job exposes";

/// Runs `init --discover --env staging` in `p`; the run, the file after it, the app's count.
fn discover(p: &Project, svc: &Service) -> (Ran, String) {
    let ran = run(p.cmd().env("API_TOKEN", "t0ken-secret").args([
        "init",
        "--discover",
        "--env",
        "staging",
    ]));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let text = std::fs::read_to_string(p.path().join("prodcheck.yaml")).expect("file");
    // Shown when a test fails (the harness captures it otherwise).
    println!("{}\n{text}", ran.stdout);
    let authority = svc.base_url().trim_start_matches("http://").to_string();
    let printed = printed_requests(&ran.stdout, &authority);
    assert_eq!(
        svc.hits(),
        printed,
        "the app saw what discovery says it sent"
    );
    assert!(
        printed <= 40,
        "{printed} requests: over the stated bound of 40"
    );
    assert!(
        ran.stdout.contains(&format!(" to {authority} (bound 40)")),
        "{}",
        ran.stdout
    );
    let statuses = nginx_statuses(&svc.nginx);
    assert_eq!(
        statuses.len(),
        printed,
        "nginx answered every request discovery sent"
    );
    assert!(
        !statuses.contains(&503),
        "nginx's limit_req refused a request: {statuses:?}"
    );
    (ran, text)
}

/// The web findings every convention's app yields, as lines of the file.
fn assert_web_lines(text: &str, base: &str) {
    assert_eq!(
        line_of(text, "health_expect_json"),
        "health_expect_json: { /status: ok }  # found: /healthz answers {\"status\":\"ok\",\"db\":\"up\"}"
    );
    assert_eq!(
        line_of(text, "login_url"),
        format!("login_url: {base}/login  # found: /login answers 200 and sets shop_session")
    );
    assert_eq!(
        line_of(text, "static_asset_url"),
        format!(
            "static_asset_url: {base}/assets/app.3f2a1c9b.js  # found: the home page references it; answers 200, cache-control: public, max-age=31536000, immutable"
        )
    );
    let ws = base.replace("http://", "ws://");
    assert_eq!(
        line_of(text, "ws_url"),
        format!("ws_url: {ws}/ws  # found: /ws upgrades to a WebSocket")
    );
    assert_eq!(
        line_of(text, "protected_urls"),
        format!(
            "protected_urls: [\"{base}/admin\"]  # found: answer without credentials: /admin 401"
        )
    );
    assert_eq!(
        line_of(text, "node_job"),
        "node_job: node-exporter  # found: job `node-exporter` exposes `node_cpu_seconds_total` (node_exporter)"
    );
    for (var, mark) in [
        ("postgres_exporter_job", "pg_up"),
        ("redis_exporter_job", "redis_up"),
        ("kube_state_metrics_job", "kube_deployment_spec_replicas"),
    ] {
        assert!(
            line_of(text, var).starts_with(&format!("{var}: ~  {PROM_SET} `{mark}`")),
            "{}",
            line_of(text, var)
        );
    }
}

#[test]
fn classic_client_keeps_the_users_values_and_comments_and_writes_only_what_differs() {
    let Some(svc) = Service::start(Style::Classic) else {
        return;
    };
    let (base, prom) = (svc.base_url(), svc.prometheus_url());
    let p = Project::new();
    p.file("dist/assets/index-BkP3Qe1z.js", "console.log(1)");
    let original = format!(
        "# shop's prodcheck settings\nenvironments:\n  staging:\n    # the staging stack behind nginx\n    vars:\n      base_url: {base}   # nginx, limit_req 5r/s\n      prometheus_url: {prom}\n      health_url: ${{base_url}}/health\n      rate_limit_url: {base}/api/search?q=shoes   # mine: a real search\n      api_job: api\n  production:\n    vars: {{ base_url: \"https://shop.example\" }}  # later\n"
    );
    p.file("prodcheck.yaml", &original);
    let (ran, text) = discover(&p, &svc);
    // The user's lines and comments, untouched.
    for kept in [
        "# shop's prodcheck settings",
        "    # the staging stack behind nginx",
        &format!("      base_url: {base}   # nginx, limit_req 5r/s"),
        &format!("      rate_limit_url: {base}/api/search?q=shoes   # mine: a real search"),
        "    vars: { base_url: \"https://shop.example\" }  # later",
    ] {
        assert!(text.lines().any(|l| l == kept), "`{kept}` changed:\n{text}");
    }
    assert!(
        ran.stdout.contains("kept     rate_limit_url"),
        "{}",
        ran.stdout
    );
    // Replaced defaults and new lines, each with what was found.
    assert_eq!(
        line_of(&text, "health_url"),
        format!(
            "health_url: {base}/healthz  # found: /healthz answers 200 {{\"status\":\"ok\",\"db\":\"up\"}}"
        )
    );
    assert_eq!(
        line_of(&text, "api_job"),
        "api_job: shop  # found: the only job with HTTP request metrics (`http_requests_total`)"
    );
    assert_eq!(
        line_of(&text, "metrics_convention"),
        "metrics_convention: prometheus  # found: job `shop` exposes `http_requests_total` with label `status`"
    );
    assert_eq!(
        line_of(&text, "version_metric"),
        "version_metric: shop_build_info  # found: job `shop` exposes `shop_build_info{version}`"
    );
    assert_eq!(
        line_of(&text, "api_url"),
        format!(
            "api_url: {base}/api/items  # found: GET /api/items answers 200 application/json (a route Prometheus's labels name)"
        )
    );
    assert_eq!(
        line_of(&text, "bundle_glob"),
        "bundle_glob: dist/assets/index-*.js  # found: matches 1 file(s) of the build output, e.g. dist/assets/index-BkP3Qe1z.js (1 KiB)"
    );
    assert_eq!(
        line_of(&text, "min_replicas"),
        "min_replicas: ~  # not found: database_url is not set in this environment: set it and run `prodcheck init --discover` again"
    );
    assert_web_lines(&text, &base);
    // The convention's standard names are not repeated as explicit variables.
    let vars = env_vars(&text, "staging");
    for standard in [
        "requests_metric",
        "status_label",
        "latency_histogram",
        "latency_unit_seconds",
        "version_label",
        "latency_metric",
    ] {
        assert!(
            !vars.contains_key(standard),
            "`{standard}` written:\n{text}"
        );
    }
    assert_eq!(
        env_vars(&text, "production").len(),
        1,
        "production was touched:\n{text}"
    );
    // What was written is what the shipped items need: they pass against the service.
    let ids = [
        "health-endpoint",
        "auth-required",
        "api-endpoint",
        "websocket-echo",
    ];
    let mut cmd = p.cmd();
    cmd.args([
        "run",
        "pre-deploy",
        "--env",
        "staging",
        "--non-interactive",
        "--report",
        "json",
    ]);
    for id in ids {
        cmd.args(["--only", id]);
    }
    let report = json(&run(&mut cmd));
    for id in ids {
        assert_eq!(
            item(&report, id)["status"],
            "pass",
            "{id}: {}",
            item(&report, id)
        );
    }
}

#[test]
fn go_promhttp_code_label_on_the_file_init_wrote() {
    let Some(svc) = Service::start(Style::Code) else {
        return;
    };
    let (base, prom) = (svc.base_url(), svc.prometheus_url());
    let p = Project::new();
    assert_eq!(run(p.cmd().arg("init")).code, 0);
    let path = p.path().join("prodcheck.yaml");
    let written = std::fs::read_to_string(&path).expect("init wrote it");
    // The user fills in the two URLs of staging, as the template asks.
    let mut text = String::new();
    let mut staging = true;
    for line in written.lines() {
        if line.starts_with("  production:") {
            staging = false;
        }
        let t = line.trim_start();
        let set = |name: &str, value: &str| format!("      {name}: {value}  # set by hand");
        let line = match (staging, t.split(':').next()) {
            (true, Some("base_url")) => set("base_url", &base),
            (true, Some("prometheus_url")) => set("prometheus_url", &prom),
            _ => line.to_string(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::write(&path, &text).expect("write");
    let (_, after) = discover(&p, &svc);
    assert_eq!(
        line_of(&after, "metrics_convention"),
        "metrics_convention: prometheus-code  # found: job `shop` exposes `http_requests_total` with label `code`"
    );
    // init's default line is replaced by the verified value, at init's value column.
    let find = |text: &str, var: &str| -> String {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{var}:")))
            .unwrap_or_else(|| panic!("no `{var}` line"))
            .to_string()
    };
    let (old, new) = (
        find(&written, "metrics_convention"),
        find(&after, "metrics_convention"),
    );
    let column = |l: &str| {
        let after = l.find(':').expect("a key") + 1;
        after + l[after..].len() - l[after..].trim_start().len()
    };
    assert_eq!(column(&old), column(&new), "{old}\n{new}");
    // `~` defers to the convention, whose names are what was found: those lines stay as init
    // wrote them.
    for var in [
        "requests_metric",
        "status_label",
        "latency_histogram",
        "version_metric",
        "version_label",
    ] {
        assert_eq!(find(&written, var), find(&after, var));
    }
    // init aligns values in a column: compare with the spacing folded.
    let folded: String = after
        .lines()
        .map(|l| {
            l.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replacen(" # ", "  # ", 1)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        line_of(&folded, "api_url"),
        format!(
            "api_url: {base}/api/items  # found: GET /api/items answers 200 application/json (a route Prometheus's labels name)"
        )
    );
    assert_web_lines(&folded, &base);
    // Lines discovery does not own keep init's comments; production is untouched.
    assert!(
        after.contains("      tls_profile:                      \"intermediate\""),
        "{after}"
    );
    let before_prod = written.split("  production:").nth(1).expect("production");
    let after_prod = after.split("  production:").nth(1).expect("production");
    assert_eq!(before_prod, after_prod);
}

#[test]
fn opentelemetry_in_a_flow_mapping_environment() {
    let Some(svc) = Service::start(Style::Otel) else {
        return;
    };
    let (base, prom) = (svc.base_url(), svc.prometheus_url());
    let p = Project::new();
    p.file(
        "prodcheck.yaml",
        &format!("environments:\n  staging: {{ vars: {{ base_url: \"{base}\", prometheus_url: \"{prom}\", api_headers: {{ Authorization: \"Bearer ${{env:API_TOKEN}}\" }} }} }}  # one line\n"),
    );
    let (ran, text) = discover(&p, &svc);
    assert!(text.starts_with(&format!("environments:\n  staging: # one line\n    vars:\n      base_url: \"{base}\"\n      prometheus_url: \"{prom}\"\n      api_headers: {{ Authorization: \"Bearer ${{env:API_TOKEN}}\" }}\n")), "{text}");
    assert_eq!(
        line_of(&text, "metrics_convention"),
        "metrics_convention: otel  # found: job `shop` exposes `http_server_request_duration_seconds_count` with label `http_response_status_code`"
    );
    let vars = env_vars(&text, "staging");
    for standard in [
        "requests_metric",
        "status_label",
        "latency_histogram",
        "version_metric",
        "version_label",
    ] {
        assert!(
            !vars.contains_key(standard),
            "`{standard}` written:\n{text}"
        );
    }
    assert_web_lines(&text, &base);
    assert!(!ran.stdout.contains("t0ken-secret") && !text.contains("t0ken-secret"));
}

#[test]
fn micrometer_with_unreachable_database_and_redis_says_why() {
    let Some(svc) = Service::start(Style::Micrometer) else {
        return;
    };
    let (base, prom) = (svc.base_url(), svc.prometheus_url());
    let (pg, redis) = (closed_port(), closed_port());
    let p = Project::new();
    p.file(
        "prodcheck.yaml",
        &format!("environments:\n  staging:\n    vars:\n      base_url: {base}\n      prometheus_url: {prom}\n      database_url: postgres://app:${{env:API_TOKEN}}@127.0.0.1:{pg}/app\n      redis_url: redis://:${{env:API_TOKEN}}@127.0.0.1:{redis}\n"),
    );
    let (ran, text) = discover(&p, &svc);
    assert_eq!(
        line_of(&text, "metrics_convention"),
        "metrics_convention: micrometer  # found: job `shop` exposes `http_server_requests_seconds_count` with label `status`"
    );
    assert_eq!(
        line_of(&text, "version_metric"),
        "version_metric: ~  # not found: job `shop` exposes no `*_build_info` or `target_info` and its request series carry no version label"
    );
    let replicas = line_of(&text, "min_replicas");
    assert!(
        replicas
            .starts_with("min_replicas: ~  # not found: database_url did not take a connection ("),
        "{replicas}"
    );
    assert!(
        replicas.contains(&format!("127.0.0.1:{pg}")) && replicas.contains("refused"),
        "{replicas}"
    );
    assert!(
        ran.stdout.contains("redis role") && ran.stdout.contains("redis_url did not answer INFO"),
        "{}",
        ran.stdout
    );
    assert!(
        !ran.stdout.contains("t0ken-secret") && !text.contains("t0ken-secret"),
        "a secret leaked"
    );
    assert_web_lines(&text, &base);
}
