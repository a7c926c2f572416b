//! The `redis` probe against a real `redis-server` on 127.0.0.1 with a password, started on
//! a free port in a temp dir and stopped by its PID.

use crate::support::*;

fn redis_run(text: &str) -> Ran {
    run_checklist_with_env(text, &[("REDIS_PW", REDIS_PASSWORD)])
}

#[test]
fn healthy_master_passes_ping_role_memory_and_persistence() {
    let Some(redis) = start_redis() else { return };
    let url = format!("redis://:${{env:REDIS_PW}}@127.0.0.1:{}/0", redis.port);
    let ran = redis_run(&checklist_of(
        "5s",
        &[(
            "cache",
            &format!(
                "redis: {{ url: '{url}', role: master, max_memory_ratio: 0.9, persistence: true }}"
            ),
        )],
    ));
    assert_code!(ran, 0);
    let report = json(&ran);
    assert!(
        message(&report, "cache").contains("PONG"),
        "{}",
        message(&report, "cache")
    );
    assert_eq!(item(&report, "cache")["evidence"]["role"], "master");
    assert!(
        !ran.stdout.contains(REDIS_PASSWORD),
        "password leaked: {}",
        ran.stdout
    );
}

#[test]
fn wrong_password_wrong_role_and_server_down_fail() {
    let Some(redis) = start_redis() else { return };
    let port = redis.port;
    let ran = redis_run(&checklist_of(
        "5s",
        &[
            (
                "badpw",
                &format!("redis: {{ url: 'redis://:wrong-pw@127.0.0.1:{port}' }}"),
            ),
            (
                "replica",
                &format!(
                    "redis: {{ url: 'redis://:${{env:REDIS_PW}}@127.0.0.1:{port}', role: replica }}"
                ),
            ),
            (
                "down",
                &format!("redis: {{ url: 'redis://127.0.0.1:{}' }}", closed_port()),
            ),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    for id in ["badpw", "replica", "down"] {
        assert_eq!(
            item(&report, id)["status"],
            "fail",
            "{id}: {}",
            message(&report, id)
        );
    }
    let badpw = message(&report, "badpw");
    assert!(badpw.contains(":***@"), "{badpw}");
    assert!(!badpw.contains("wrong-pw"), "{badpw}");
    assert!(
        message(&report, "replica").contains("role is master, expected replica"),
        "{}",
        message(&report, "replica")
    );
    assert!(message(&report, "down").contains("connection refused by 127.0.0.1:"));
}

#[test]
fn rediss_is_verified_against_ca_file() {
    let pki = prodcheck::demo::pki::Pki::new("prodcheck redis CA").expect("CA");
    let leaf = pki.leaf_for_days(&["127.0.0.1"], 30).expect("leaf");
    let mut ca_path = std::path::PathBuf::new();
    let Some(redis) = start_redis_with(|dir| {
        let (cert, key, ca) = (dir.join("tls.crt"), dir.join("tls.key"), dir.join("ca.pem"));
        std::fs::write(&cert, &leaf.cert_pem).expect("cert");
        std::fs::write(&key, key_pem(&leaf)).expect("key");
        std::fs::write(&ca, &pki.ca_pem).expect("ca");
        ca_path = ca.clone();
        ["--tls-cert-file", "--tls-key-file", "--tls-ca-cert-file"]
            .iter()
            .zip([&cert, &key, &ca])
            .flat_map(|(flag, path)| [flag.to_string(), path.display().to_string()])
            .chain(["--tls-auth-clients".to_string(), "no".to_string()])
            .collect()
    }) else {
        return;
    };
    let url = format!("rediss://:${{env:REDIS_PW}}@127.0.0.1:{}", redis.port);
    let ran = redis_run(&checklist_of(
        "5s",
        &[
            (
                "trusted",
                &format!(
                    "redis: {{ url: '{url}', ca_file: '{}' }}",
                    ca_path.display()
                ),
            ),
            ("untrusted", &format!("redis: {{ url: '{url}' }}")),
        ],
    ));
    assert_code!(ran, 1);
    let report = json(&ran);
    assert_status(&report, "trusted", "pass");
    let untrusted = message(&report, "untrusted");
    assert_eq!(item(&report, "untrusted")["status"], "fail", "{untrusted}");
}
