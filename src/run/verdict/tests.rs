//! The verdict stage's rules, one observation at a time.

use super::*;
use crate::checklist::Manual;
use crate::state::{Day, Waiver};
use checks::Outcome;

fn manual_item(id: &str, severity: Severity) -> Item {
    let body = ItemBody::Manual(Manual {
        how: "look".into(),
        every: None,
    });
    Item {
        severity,
        ..Item::new(id, id, body)
    }
}

fn probe(status: checks::Status) -> Observation {
    Observation::Probe(ProbeRun {
        outcome: Outcome::new(status, "observed"),
        duration: Duration::ZERO,
        attempts: 1,
        flaky: false,
    })
}

fn state_with_waiver(item: &str, until: &str) -> State {
    State {
        waivers: vec![Waiver {
            checklist: "c".into(),
            item: item.into(),
            target: None,
            by: "Cy".into(),
            at: Timestamp::parse("2026-01-01T00:00:00Z").expect("ts"),
            until: Day::parse(until).expect("day"),
            reason: "known gap".into(),
            risk: None,
            requested_by: None,
            approved_by: None,
            signature: None,
        }],
        ..State::default()
    }
}

fn policy(state: &State, fail_on_warning: bool) -> Policy<'_> {
    Policy {
        checklist: "c",
        fail_on_warning,
        state,
        now: Timestamp::parse("2026-12-05T10:00:00Z").expect("ts"),
        automated: false,
    }
}

#[test]
fn an_active_waiver_waives_and_an_expired_one_keeps_what_was_observed() {
    let item = manual_item("x", Severity::Critical);
    let active = state_with_waiver("x", "2027-01-01");
    let v = decide(&item, probe(checks::Status::Error), &policy(&active, false));
    assert_eq!((v.observed, v.status), (Status::Error, Status::Waived));
    assert_eq!(v.exit_code, exit_code::OK);

    let expired = state_with_waiver("x", "2026-06-30");
    for (observed, code) in [
        (checks::Status::Error, exit_code::PROBE_ERROR),
        (checks::Status::Fail, exit_code::FAILED),
    ] {
        let v = decide(&item, probe(observed), &policy(&expired, false));
        assert_eq!(v.status, Status::from(observed));
        assert_eq!(v.exit_code, code);
        assert!(v.message.contains("waiver by Cy expired on 2026-06-30"));
        assert!(v.waiver.as_ref().is_some_and(|w| w.expired));
    }
    let pending = Observation::Manual(ManualAnswer::Unanswered(Unanswered::NonInteractive));
    let v = decide(&item, pending, &policy(&expired, false));
    assert_eq!(
        (v.status, v.exit_code),
        (Status::Pending, exit_code::PENDING)
    );
}

#[test]
fn severity_and_fail_on_decide_what_gates() {
    let state = State::default();
    let warning = manual_item("w", Severity::Warning);
    let v = decide(
        &warning,
        probe(checks::Status::Fail),
        &policy(&state, false),
    );
    assert_eq!((v.status, v.gating, v.exit_code), (Status::Fail, false, 0));
    let v = decide(&warning, probe(checks::Status::Warn), &policy(&state, true));
    assert_eq!((v.gating, v.exit_code), (true, exit_code::FAILED));
    let info = manual_item("i", Severity::Info);
    let v = decide(&info, probe(checks::Status::Error), &policy(&state, true));
    assert_eq!(v.exit_code, exit_code::OK);
    let declined = Observation::Manual(ManualAnswer::Declined {
        note: Some("not yet".into()),
    });
    let critical = manual_item("c", Severity::Critical);
    let v = decide(&critical, declined, &policy(&state, false));
    assert_eq!(v.message, "declined at the prompt: not yet");
    assert_eq!(v.note.as_deref(), Some("not yet"));
    assert_eq!(v.exit_code, exit_code::FAILED);
}
