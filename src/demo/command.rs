//! The `demo` command: start the service, run `pre-deploy` against it, explain what to do next.

use colored::Colorize;

use crate::catalog;
use crate::checklist::node::{Node, Pos, Value};
use crate::checklist::{Source, VarSources, load};
use crate::cli::ColorChoice;
use crate::commands::emit_reports;
use crate::exit_code;
use crate::runner::RunOptions;

use super::{pki, service};

fn text(v: String) -> Node {
    Node::new(Pos::default(), Value::Str(v))
}

pub async fn demo(color: ColorChoice, strict: bool) -> u8 {
    let _ = color;
    match run_demo(strict).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}: the demo could not start: {e:#}", "error".red().bold());
            exit_code::PROBE_ERROR
        }
    }
}

async fn run_demo(strict: bool) -> anyhow::Result<u8> {
    let dir = tempfile::tempdir()?;
    let pki = pki::Pki::new("prodcheck demo CA")?;
    // Close to expiry on purpose: the TLS item should warn.
    let leaf = pki.leaf_for_days(&["localhost", "127.0.0.1"], 20)?;
    let ca_file = dir.path().join("demo-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem)?;
    let tls = pki::server_config(vec![leaf.cert_der.clone(), pki.ca_der.clone()], leaf.key())?;
    let https = service::serve_https(service::app(), tls, 0).await?;
    let http = service::serve_http(service::redirect_app(https.addr.port()), 0).await?;

    let base_url = format!("https://localhost:{}", https.addr.port());
    let vars = [
        ("base_url", base_url.clone()),
        ("host", "localhost".to_string()),
        ("port", https.addr.port().to_string()),
        ("http_url", format!("http://localhost:{}", http.addr.port())),
        ("ca_file", ca_file.display().to_string()),
    ];
    let sources = VarSources {
        cli: vars
            .iter()
            .map(|(k, v)| (k.to_string(), text(v.clone())))
            .collect(),
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
    let opts = RunOptions {
        concurrency: 16,
        ..RunOptions::default()
    };
    let report = crate::commands::run_execute(&checklist, &opts, Some("demo".into()), false).await;
    emit_reports(&report, &[]).map_err(anyhow::Error::msg)?;
    println!(
        "\nThe demo service is flawed on purpose, so this run exits {} in real use.\nPoint prodcheck at your service: `prodcheck init`, set `base_url` and `host` for an environment, then `prodcheck run pre-deploy --env staging`.",
        report.exit_code
    );
    drop((https, http));
    Ok(if strict {
        report.exit_code
    } else {
        exit_code::OK
    })
}
