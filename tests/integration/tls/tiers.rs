//! One tiered TLS policy on real `openssl s_server`s: intermediate-clean passes, an nginx-like
//! list with ECDHE-CBC fallbacks (inside Mozilla old) warns, a known-broken suite fails, under
//! `probe tls` and under the shipped checklists' default alike.

use crate::support::*;
use crate::support::{item_message as message, openssl_server};
use crate::tls::handshakes::{ec_files, probe};

const GCM: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384";

#[test]
fn intermediate_clean_passes_old_only_warns_broken_fails() {
    let f = ec_files();
    let cases = [
        (
            "intermediate-clean",
            format!("{GCM}:ECDHE-ECDSA-CHACHA20-POLY1305"),
            "pass",
        ),
        // nginx's default `HIGH:!aNULL:!MD5` on an ECDSA certificate, as far as it is ECDHE.
        (
            "old-only",
            format!(
                "{GCM}:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"
            ),
            "warn",
        ),
        (
            "broken",
            format!("{GCM}:ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0"),
            "fail",
        ),
    ];
    for (name, ciphers, expected) in cases {
        let Some(s) = openssl_server(&f.cert, &f.key, &["-cipher", &ciphers]) else {
            return;
        };
        let (_, it) = probe(&f, s.port, &[]);
        let msg = message(&it);
        assert_eq!(it["status"], expected, "{name}: {msg}");
        match name {
            "old-only" => assert!(
                msg.contains("server accepts CBC suites on TLSv1.2 (TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA), outside the Mozilla intermediate profile but inside old (tier old-only: warn)"),
                "{msg}"
            ),
            "broken" => {
                assert!(
                    msg.contains("server accepts NULL (unencrypted) suites on TLSv1.2 (TLS_ECDHE_ECDSA_WITH_NULL_SHA), known-broken, outside what any accepted profile allows (tier broken: fail)"),
                    "{msg}"
                );
                // Known-broken fails under `old` too.
                let (_, old) = probe(&f, s.port, &["profile=old"]);
                assert_eq!(old["status"], "fail", "{old}");
            }
            _ => {}
        }

        // A checklist item without `profile` and the shipped checklists' default agree with
        // `probe tls`.
        let ca = f.p.file("ca.pem", &f.ca_pem);
        for profile in ["", ", profile: intermediate"] {
            let text = checklist_of(
                "10s",
                &[(
                    "tls",
                    &format!(
                        r#"tls: {{ host: 127.0.0.1, port: {}, ca_file: "{}"{profile} }}"#,
                        s.port,
                        ca.display()
                    ),
                )],
            );
            let report = json(&run_checklist(&text));
            assert_eq!(item(&report, "tls")["status"], expected, "{name} {profile}");
        }
    }
    for shipped in ["pre-deploy", "post-deploy", "maintenance"] {
        let path = format!("{}/checklists/{shipped}.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("shipped checklist");
        assert!(
            text.contains("\n  tls_profile: intermediate "),
            "{shipped} does not default to the probe's profile"
        );
    }
}
