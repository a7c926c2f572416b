//! `prodcheck docs CHECKLIST`: the checklist as a Markdown runbook for a wiki or a pull request —
//! what each probe checks with its resolved parameters, each manual `how`, cadences and fixes.

use std::path::Path;

use crate::catalog;
use crate::checklist::{Checklist, Item, ItemBody, VarSources, load, node};
use crate::cli::args::ColorChoice;
use crate::redact::Redactor;

use super::show::cadence;
use crate::error::CliError;

/// What each probe kind proves, in one line (the README's probe table, shortened).
const PROVES: &[(&str, &str)] = &[
    (
        "http",
        "the endpoint answers as expected (status, body, JSON values, headers, latency; HTTP/3 advertised through Alt-Svc)",
    ),
    (
        "tls",
        "the certificate chains to a trusted root, matches the host, is far from expiry; protocol, cipher and key strength; also behind STARTTLS (SMTP, IMAP, POP3, LDAP, PostgreSQL); the post-quantum group X25519MLKEM768 selected; HTTP/3 advertised in the HTTPS DNS record",
    ),
    (
        "dns",
        "records resolve and match; CAA, SPF and DMARC policies; no dangling CNAME",
    ),
    ("tcp", "the port accepts (TLS) connections"),
    (
        "security_headers",
        "the page's security headers grade high enough by the MDN Observatory rules",
    ),
    (
        "cookies",
        "every cookie is Secure, HttpOnly where it should be, and SameSite",
    ),
    (
        "cors",
        "no foreign, `null` or look-alike origin is let through; allowed origins work",
    ),
    (
        "redirect_https",
        "plain HTTP redirects to HTTPS on the same host",
    ),
    (
        "exposure",
        "sensitive files (`/.env`, `/.git/config`, …) are not served",
    ),
    (
        "auth",
        "each endpoint refuses unauthenticated requests (401/403)",
    ),
    (
        "rate_limit",
        "a bounded burst is throttled, with headers a client can act on",
    ),
    (
        "latency",
        "percentiles and the error rate of sampled requests are under their thresholds",
    ),
    (
        "cdn_cache",
        "a shared cache may keep the asset for at least `min_max_age` (Cache-Control)",
    ),
    (
        "exec",
        "a command's verdict (test suites, audits, scanners)",
    ),
    ("redis", "Redis answers PING, with health figures from INFO"),
    (
        "postgres",
        "PostgreSQL takes connections and answers queries as expected",
    ),
    (
        "prometheus",
        "a PromQL query's value holds against a threshold",
    ),
    (
        "grpc",
        "the gRPC service reports SERVING over the standard health-checking protocol",
    ),
    (
        "websocket",
        "the WebSocket handshake and an echo round trip",
    ),
    (
        "file",
        "the newest file matching a glob is fresh and big enough",
    ),
    ("disk", "free space on a filesystem is above a floor"),
    (
        "domain",
        "the domain's registration is far from expiry and not on hold or being deleted (RDAP)",
    ),
];

pub fn docs(config_path: Option<&Path>, env: Option<&str>, name: &str) -> Result<u8, CliError> {
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(diags) => return Err(CliError::invalid(diags, ColorChoice::Auto)),
    };
    let source = match catalog::resolve(name, &config.checklists_dir) {
        Ok(s) => s,
        Err(e) => {
            return Err(CliError::usage(
                &e,
                Some("`prodcheck list` shows the checklists it knows"),
            ));
        }
    };
    let mut vars = VarSources {
        lenient_env: true,
        lenient_unset: true,
        ..VarSources::default()
    };
    if let Some(env) = env {
        match config.environments.get(env) {
            Some(v) => {
                vars.environment = v.clone();
                vars.tailoring = config.tailoring(Some(env), None);
            }
            None => {
                return Err(CliError::usage(
                    format!("unknown environment `{env}`"),
                    Some("`prodcheck init` writes a prodcheck.yaml with environments"),
                ));
            }
        }
    }
    let checklist = match load(&source, &vars, &|n| std::env::var(n).ok()) {
        Ok(c) => c,
        Err(diags) => return Err(CliError::invalid(diags, ColorChoice::Auto)),
    };
    print!("{}", render(&checklist, env));
    Ok(crate::exit_code::OK)
}

/// The runbook text. Secrets from `${env:…}` are redacted.
pub fn render(checklist: &Checklist, env: Option<&str>) -> String {
    let redactor = Redactor::new(&checklist.secrets);
    let mut out = String::new();
    let title = checklist
        .title
        .as_deref()
        .map(|t| format!(" — {t}"))
        .unwrap_or_default();
    out.push_str(&format!("# {}{title}\n\n", checklist.name));
    let env_note = env
        .map(|e| format!(" with the `{e}` environment"))
        .unwrap_or_default();
    out.push_str(&format!(
        "_Generated by `prodcheck docs {}`{env_note} from `{}`. Run it with `prodcheck run {} --env ENV`._\n\n",
        checklist.name, checklist.file, checklist.name
    ));
    if let Some(d) = &checklist.description {
        out.push_str(&format!("{}\n\n", d.trim()));
    }
    for note in &checklist.tailored {
        out.push_str(&format!("- This checklist {note}.\n"));
    }
    if !checklist.tailored.is_empty() {
        out.push('\n');
    }
    let (auto, manual) = checklist
        .items()
        .fold((0, 0), |(a, m), (_, i)| match i.body {
            ItemBody::Check(_) => (a + 1, m),
            ItemBody::Manual(_) => (a, m + 1),
        });
    out.push_str(&format!(
        "{} items: {auto} automated, {manual} confirmed by a person.\n",
        auto + manual
    ));
    if !checklist.stages.is_empty() {
        out.push_str(
            "\n## Stages\n\n| stage | what happens | run | watch |\n| --- | --- | --- | --- |\n",
        );
        for stage in &checklist.stages {
            let triggers = checklist
                .items()
                .filter(|(_, i)| i.stages.contains(&stage.name) && i.is_trigger())
                .count();
            let watch = if triggers == 0 {
                "—".to_string()
            } else {
                format!(
                    "`prodcheck watch {} --stage {}` ({triggers} triggers)",
                    checklist.name, stage.name
                )
            };
            out.push_str(&format!(
                "| `{}` | {} | `prodcheck run {} --stage {}` | {watch} |\n",
                stage.name,
                stage.title.as_deref().unwrap_or(""),
                checklist.name,
                stage.name
            ));
        }
    }
    for section in &checklist.sections {
        out.push_str(&format!("\n## {}\n", section.name));
        for item in &section.items {
            out.push_str(&item_text(item, &redactor));
        }
    }
    out
}

fn item_text(item: &Item, redactor: &Redactor) -> String {
    let mut out = format!("\n### `{}` — {}\n\n", item.id, redactor.redact(&item.title));
    let mut facts = vec![format!("**{}**", item.severity.as_str())];
    match &item.body {
        ItemBody::Check(c) => facts.push(format!("automated: `{}`", c.kind)),
        ItemBody::Manual(_) => facts.push("manual sign-off".into()),
    }
    if let Some(every) = item.every() {
        facts.push(format!("every {}", cadence(every)));
    }
    if !item.stages.is_empty() {
        facts.push(format!("stages: {}", item.stages.join(", ")));
    }
    if let Some(sustain) = item.sustain {
        facts.push(format!(
            "rollback trigger: fires after failing for {}",
            cadence(sustain)
        ));
    }
    if let Some(wait) = item.wait {
        facts.push(format!(
            "waits up to {} (every {}) to pass",
            cadence(wait.within),
            cadence(wait.every)
        ));
    }
    if !item.tags.is_empty() {
        facts.push(format!("tags: {}", item.tags.join(", ")));
    }
    out.push_str(&format!("- {}\n", facts.join(" · ")));
    match &item.body {
        ItemBody::Check(c) => {
            if let Some((_, proves)) = PROVES.iter().find(|(k, _)| *k == c.kind) {
                out.push_str(&format!("- Checks that {proves}.\n"));
            }
            let mut params = c.params.clone();
            redactor.redact_json(&mut params);
            if let serde_json::Value::Object(map) = &params
                && !map.is_empty()
            {
                let list: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("`{k}: {}`", node::compact_json(v)))
                    .collect();
                out.push_str(&format!("- Parameters: {}\n", list.join(", ")));
            }
            if !c.needs.is_empty() {
                let vars: Vec<String> = c.needs.iter().map(|(v, _)| format!("`{v}`")).collect();
                out.push_str(&format!(
                    "- Needs (no default, set per environment): {}\n",
                    vars.join(", ")
                ));
            }
        }
        ItemBody::Manual(m) => {
            out.push_str(&format!(
                "- How to confirm: {}\n",
                redactor.redact(&m.how).replace('\n', " ")
            ));
        }
    }
    if let Some(why) = &item.not_applicable {
        out.push_str(&format!("- Not applicable: {}\n", redactor.redact(why)));
    }
    for change in &item.overridden {
        out.push_str(&format!("- Overridden: {}\n", redactor.redact(change)));
    }
    if let Some(fix) = &item.fix {
        out.push_str(&format!("- Fix: {}\n", redactor.redact(fix)));
    }
    if let Some(docs) = &item.docs {
        out.push_str(&format!("- Docs: <{docs}>\n"));
    }
    out
}
