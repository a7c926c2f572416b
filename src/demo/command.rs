//! The `demo` command: start the service, run `pre-deploy` against it, explain what to do next.

use std::path::Path;

use colored::Colorize;

use crate::catalog;
use crate::checklist::node;
use crate::checklist::{Source, VarSources, load};
use crate::error::CliError;
use crate::exit_code;
use crate::report::ReportTarget;
use crate::run::plan::RunOptions;
use crate::run::record::history_record;
use crate::run::report::emit_reports;
use crate::run::{Plan, PlanPart, terminal};
use crate::state::{State, Timestamp, history};

use super::{pki, service};

/// The demo domain: CAA for Let's Encrypt, SPF and DMARC, an A record for the shop.
const DEMO_ZONE: &str = r#"
$ORIGIN shop.demo.test.
$TTL 300
@      IN SOA  ns1.shop.demo.test. admin.shop.demo.test. 2026112201 3600 600 86400 300
@      IN NS   ns1.shop.demo.test.
ns1    IN A    127.0.0.1
@      IN A    127.0.0.1
@      IN CAA  0 issue "letsencrypt.org"
@      IN TXT  "v=spf1 mx -all"
_dmarc IN TXT  "v=DMARC1; p=reject"
"#;

pub async fn demo(
    strict: bool,
    reports: &[ReportTarget],
    state_dir: Option<&Path>,
) -> Result<u8, CliError> {
    run_demo(strict, reports, state_dir)
        .await
        .map_err(|e| CliError::Setup {
            what: "the demo could not run".into(),
            cause: format!("{e:#}"),
        })
}

async fn run_demo(
    strict: bool,
    reports: &[ReportTarget],
    state_dir: Option<&Path>,
) -> anyhow::Result<u8> {
    let dir = tempfile::tempdir()?;
    let pki = pki::Pki::new("prodcheck demo CA")?;
    // Close to expiry on purpose: the TLS item should warn.
    let leaf = pki.leaf_expiring_in(&["localhost", "127.0.0.1"], 20, 90)?;
    let ca_file = dir.path().join("demo-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem)?;
    let tls = pki::server_config(vec![leaf.cert_der.clone(), pki.ca_der.clone()], leaf.key())?;
    let https = service::serve_https(service::app(), tls, 0).await?;
    let http = service::serve_http(service::redirect_app(https.addr.port()), 0).await?;

    let dns = super::dns::serve("shop.demo.test.", DEMO_ZONE).await?;
    // A recent backup, as the backup job would leave it.
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups)?;
    std::fs::write(backups.join("shop-latest.dump"), vec![b'-'; 4096])?;
    // The build output the bundle budget is measured on.
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist)?;
    std::fs::write(dist.join("index-3f2a1c.js"), "console.log('demo shop');\n")?;

    let base_url = format!("https://localhost:{}", https.addr.port());
    let stand_in = |what: &str| {
        format!("echo 'OK - demo stand-in for {what}: the demo service has nothing to {what}'")
    };
    let vars = [
        ("base_url", base_url.clone()),
        ("host", "localhost".to_string()),
        ("port", https.addr.port().to_string()),
        ("http_url", format!("http://localhost:{}", http.addr.port())),
        ("ca_file", ca_file.display().to_string()),
        ("dns_name", "shop.demo.test".to_string()),
        ("nameserver", dns.addr.to_string()),
        ("backup_glob", format!("{}/*.dump", backups.display())),
        ("login_url", format!("{base_url}/login")),
        // Routes have no default (a real service has its own): the demo names its own.
        ("api_url", format!("{base_url}/api/orders")),
        ("rate_limit_url", format!("{base_url}/api/search")),
        ("protected_urls", format!("[\"{base_url}/admin\"]")),
        (
            "ws_url",
            format!("wss://localhost:{}/ws", https.addr.port()),
        ),
        (
            "backup_check_command",
            stand_in("check backups in an object store"),
        ),
        (
            "static_asset_url",
            format!("{base_url}{}", service::APP_JS_PATH),
        ),
        ("bundle_glob", format!("{}/index-*.js", dist.display())),
        ("audit_command", stand_in("audit")),
        ("test_command", stand_in("unit-test")),
        ("integration_test_command", stand_in("integration-test")),
        ("e2e_test_command", stand_in("end-to-end-test")),
        ("build_command", stand_in("build")),
        ("load_test_command", stand_in("load-test")),
        ("security_scan_command", stand_in("scan")),
        ("staging_migration_status_command", stand_in("migrate")),
    ];
    let sources = VarSources {
        cli: vars
            .iter()
            .map(|(k, v)| (k.to_string(), node::from_cli(v)))
            .collect(),
        // The demo has no Prometheus: items needing one are left out, and said so below.
        lenient_unset: true,
        ..VarSources::default()
    };
    let (name, text_) = catalog::SHIPPED[0];
    let source = Source {
        file: format!("builtin:{name}"),
        text: text_.to_string(),
    };
    let checklist = load(&source, &sources, &|n| std::env::var(n).ok()).map_err(|d| {
        anyhow::anyhow!(
            "the shipped checklist does not load: {}",
            d.iter().map(|d| d.render()).collect::<String>()
        )
    })?;

    eprintln!(
        "{} demo service on {base_url} (HTTP on port {}), certificate from a CA generated just now\n",
        "prodcheck".bold(),
        http.addr.port()
    );
    // Nothing on disk unless asked: the demo must not touch the current project's state.
    let state = match state_dir {
        Some(dir) => {
            State::load(dir, &checklist.name).map_err(|e| anyhow::anyhow!("{e} ({})", e.hint()))?
        }
        None => State::default(),
    };
    let now = Timestamp::now();
    let needs = checklist.needs();
    let mut left_out: Vec<String> = needs.values().flatten().map(|id| id.to_string()).collect();
    left_out.sort();
    left_out.dedup();
    if !left_out.is_empty() {
        let vars: Vec<&str> = needs.keys().copied().collect();
        eprintln!(
            "Not run in the demo (it has nothing to point {} at): {}\n",
            vars.join(", "),
            left_out.join(", ")
        );
    }
    let opts = RunOptions {
        concurrency: 16,
        skip: left_out,
        preset: crate::run::verdict::plan(&checklist, &state, now, false),
        ..RunOptions::default()
    };
    let part = PlanPart {
        target: None,
        environment: Some("demo".into()),
        checklist,
        state,
        opts,
    };
    let plan = Plan::one(part, false, now);
    let report = terminal::execute(&plan).await;
    if let Some(dir) = state_dir {
        history::append(dir, &history_record(&report))
            .map_err(|e| anyhow::anyhow!("{e} ({})", e.hint()))?;
    }
    emit_reports(&report, reports, 0).map_err(anyhow::Error::msg)?;
    let next = format!(
        "\nThe demo service is flawed on purpose, so this run exits {} in real use.\nPoint prodcheck at your service: `prodcheck init`, set `base_url` (and the other REQUIRED variables) for an environment, then `prodcheck run pre-deploy --env staging`.",
        report.exit_code
    );
    // A report written to stdout (`--report json`) must stay parseable.
    if reports.iter().any(|r| r.path.is_none()) {
        eprintln!("{next}");
    } else {
        println!("{next}");
    }
    drop((https, http, dns));
    Ok(if strict {
        report.exit_code
    } else {
        exit_code::OK
    })
}
