//! Each figure a report, `serve` or `watch` needs, read back from evidence as its probe
//! writes it: a renamed or dropped field fails here, not in a picture.

use serde_json::json;

use super::*;

fn evidence(v: serde_json::Value) -> Evidence {
    v.as_object().cloned().expect("an object")
}

#[test]
fn a_tls_probes_chain_certificates_read_with_their_days_left() {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["shop.test".to_string()]).expect("params");
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let der = params.self_signed(&key).expect("cert").der().to_vec();
    let facts = crate::tls::facts::CertFacts::parse(&der).expect("parses");
    let now = 1_893_456_000 - 10 * 86_400; // ten days before 2030-01-01
    let ev = evidence(json!({ "chain": [facts.evidence(now)] }));
    let chain = CertChain::read(&ev).expect("the chain reads").chain;
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].days_left, 10);
    assert_eq!(chain[0].not_after, "2030-01-01T00:00:00Z");
    assert!(!chain[0].subject.is_empty());
}

#[test]
fn the_earliest_expiring_certificate_wins_over_the_servers_own() {
    let ev = evidence(json!({
        "earliest_expiring": {"position": 2, "subject": "CN=CA", "not_after": "2027-01-15T12:00:00Z", "days_left": 3},
        "not_after": "2030-01-01T00:00:00Z",
    }));
    let expiry = CertExpiry::read(&ev).expect("reads");
    assert_eq!(expiry.expires_at(), Some(1_800_014_400.0));
    let leaf_only = evidence(json!({ "not_after": "2030-01-01T00:00:00Z" }));
    assert_eq!(
        CertExpiry::read(&leaf_only).and_then(|e| e.expires_at()),
        Some(1_893_456_000.0)
    );
}

#[test]
fn a_header_grade_is_written_and_read_as_the_same_json() {
    let grade = HeaderGrade {
        url: "https://shop.test/".into(),
        final_url: None,
        grade: "B+".into(),
        score: 80,
        min_grade: Some("B".into()),
        findings: vec![HeaderFinding {
            header: "X-Frame-Options".into(),
            status: Status::Fail,
            result: "x-frame-options-not-implemented".into(),
            modifier: -20,
            message: "missing".into(),
        }],
    };
    let mut ev = Evidence::new();
    grade.write(&mut ev);
    assert_eq!(
        serde_json::Value::Object(ev.clone()),
        json!({
            "url": "https://shop.test/", "grade": "B+", "score": 80, "min_grade": "B",
            "findings": [{"header": "X-Frame-Options", "status": "fail",
                "result": "x-frame-options-not-implemented", "modifier": -20, "message": "missing"}],
        })
    );
    assert_eq!(HeaderGrade::read(&ev), Some(grade));
}

#[test]
fn latency_figures_keep_their_keys_and_a_trigger_reads_the_p99() {
    let figures = LatencyFigures {
        url: "https://shop.test/".into(),
        sample_count: 20,
        percentiles: Percentiles {
            p50_ms: Some(12.5),
            p95_ms: Some(40.0),
            p99_ms: Some(430.5),
            max_ms: Some(500.0),
        },
        limits: Some(Percentiles {
            p99_ms: Some(300.0),
            ..Default::default()
        }),
        error_rate: 5.0,
    };
    let mut ev = Evidence::new();
    figures.write(&mut ev);
    assert_eq!(
        serde_json::Value::Object(ev.clone()),
        json!({
            "url": "https://shop.test/", "sample_count": 20, "p50_ms": 12.5, "p95_ms": 40.0,
            "p99_ms": 430.5, "max_ms": 500.0, "limits": {"p99_ms": 300.0}, "error_rate": 5.0,
        })
    );
    assert_eq!(LatencyFigures::read(&ev), Some(figures));
    assert_eq!(
        Reading::of(&ev),
        Some(Reading {
            value: 430.5,
            unit: "ms"
        })
    );
}

#[test]
fn a_probes_one_number_comes_from_its_own_figures() {
    let query = evidence(json!({"values": [{"series": {}, "value": 0.25}]}));
    assert_eq!(
        Reading::of(&query),
        Some(Reading {
            value: 0.25,
            unit: ""
        })
    );
    let text = evidence(json!({"values": [{"series": {"job": "api"}, "value": "1"}]}));
    assert_eq!(Reading::of(&text).map(|r| r.value), Some(1.0));
    let mut http = Evidence::new();
    ResponseTime { latency_ms: 12 }.write(&mut http);
    assert_eq!(
        Reading::of(&http),
        Some(Reading {
            value: 12.0,
            unit: "ms"
        })
    );
    assert_eq!(Reading::of(&evidence(json!({"status": 200}))), None);
    let mut host = Evidence::new();
    DiskFree { free_percent: 12.5 }.write(&mut host);
    FileAge { age_s: 60 }.write(&mut host);
    assert_eq!(host.get("free_percent"), Some(&json!(12.5)));
    assert_eq!(host.get("age_s"), Some(&json!(60)));
    assert_eq!(DiskFree::read(&host).map(|d| d.free_percent), Some(12.5));
    assert_eq!(FileAge::read(&host).map(|f| f.age_s), Some(60));
}
