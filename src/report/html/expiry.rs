//! The certificate expiry timeline: every certificate a `tls` item saw (its evidence `chain`),
//! days left drawn against that certificate's warn and fail thresholds.

use checks::figures::{CertChain, ChainCert, Figures};
use maud::{Markup, html};

use super::svg::{Scale, cut, num, picture};
use crate::report::Report;

/// One certificate of an item's evidence, with the item that saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cert {
    pub item: String,
    pub cert: ChainCert,
}

impl Cert {
    /// `fail`, `warn` or `ok` against the certificate's own thresholds.
    pub fn zone(&self) -> &'static str {
        let ChainCert {
            days_left: left,
            warn_days,
            fail_days,
            ..
        } = self.cert;
        if left <= 0 || fail_days.is_some_and(|f| left < f) {
            "fail"
        } else if warn_days.is_some_and(|w| left < w) {
            "warn"
        } else {
            "ok"
        }
    }

    fn words(&self) -> String {
        let (left, not_after) = (self.cert.days_left, &self.cert.not_after);
        let date = not_after.get(..10).unwrap_or(not_after);
        if left <= 0 {
            format!("expired {} days ago ({date})", -left)
        } else {
            format!("{left} days left ({date})")
        }
    }
}

/// Every certificate in the items' evidence, each (subject, expiry) once, in report order.
pub fn certificates(report: &Report) -> Vec<Cert> {
    let mut out: Vec<Cert> = Vec::new();
    for item in &report.items {
        let Some(CertChain { chain }) = CertChain::read(&item.evidence) else {
            continue;
        };
        for cert in chain {
            if out
                .iter()
                .any(|c| c.cert.subject == cert.subject && c.cert.not_after == cert.not_after)
            {
                continue;
            }
            out.push(Cert {
                item: item.id.clone(),
                cert,
            });
        }
    }
    out
}

const WIDTH: f64 = 880.0;
const LABEL: f64 = 250.0;
const BAR_LEFT: f64 = 260.0;
const BAR_WIDTH: f64 = 400.0;
const ROW: f64 = 30.0;
const TOP: f64 = 8.0;
const AXIS: f64 = 30.0;

/// Days shown: enough to see every threshold with room to spare; certificates with far more
/// left (a CA's ten years) are cut at the edge and say so in words.
pub fn domain(certs: &[Cert]) -> f64 {
    let need = certs
        .iter()
        .flat_map(|c| [c.cert.warn_days, c.cert.fail_days])
        .flatten()
        .max()
        .unwrap_or(30)
        .max(1) as f64;
    let longest = certs.iter().map(|c| c.cert.days_left).max().unwrap_or(0) as f64;
    if longest <= need * 3.0 {
        (longest.max(need) * 1.15).max(30.0)
    } else {
        (need * 3.0).max(30.0)
    }
}

/// The timeline picture, or nothing when no certificate was seen.
pub fn timeline(certs: &[Cert]) -> Option<Markup> {
    if certs.is_empty() {
        return None;
    }
    let scale = Scale::new(domain(certs), BAR_LEFT, BAR_WIDTH);
    let height = TOP + ROW * certs.len() as f64 + AXIS;
    let mut ticks: Vec<i64> = certs
        .iter()
        .flat_map(|c| [c.cert.warn_days, c.cert.fail_days])
        .flatten()
        .filter(|d| (*d as f64) <= scale.max)
        .collect();
    ticks.sort_unstable();
    ticks.dedup();
    // Thresholds closer than a label's width share one label (the lines all stay).
    let mut labelled: Vec<i64> = Vec::new();
    for d in &ticks {
        let clear = |x: f64| (scale.x(*d as f64) - x).abs() >= 34.0;
        if clear(scale.left)
            && clear(scale.right() - 40.0)
            && labelled.iter().all(|l| clear(scale.x(*l as f64)))
        {
            labelled.push(*d);
        }
    }
    let desc: Vec<String> = certs
        .iter()
        .map(|c| {
            let limits = match (c.cert.warn_days, c.cert.fail_days) {
                (Some(w), Some(f)) => format!(", warn under {w} days, fail under {f}"),
                _ => String::new(),
            };
            format!("{} ({}): {}{limits}", c.cert.subject, c.item, c.words())
        })
        .collect();
    let axis_y = TOP + ROW * certs.len() as f64 + 4.0;
    let body = html! {
        @for (i, c) in certs.iter().enumerate() {
            @let y = TOP + ROW * i as f64;
            @let mid = y + ROW / 2.0;
            g class="row" {
                title { (c.item) ": " (c.cert.subject) ", " (c.words()) }
                text x=(num(LABEL)) y=(num(mid + 4.0)) text-anchor="end" class="label" {
                    (cut(&c.cert.subject, 34))
                }
                // The zones of this certificate (thresholds may be a share of its lifetime).
                @if let Some(w) = c.cert.warn_days {
                    rect class="zone-warn" x=(num(scale.left)) y=(num(y + 3.0))
                        width=(num(scale.x(w as f64) - scale.left)) height=(num(ROW - 6.0)) {}
                }
                @if let Some(f) = c.cert.fail_days {
                    rect class="zone-fail" x=(num(scale.left)) y=(num(y + 3.0))
                        width=(num(scale.x(f as f64) - scale.left)) height=(num(ROW - 6.0)) {}
                }
                rect class=(format!("bar fill-{}", c.zone())) x=(num(scale.left)) y=(num(mid - 6.0))
                    width=(num((scale.x(c.cert.days_left as f64) - scale.left).max(2.0))) height="12" {}
                @if scale.clips(c.cert.days_left as f64) {
                    path class=(format!("fill-{}", c.zone()))
                        d=(format!("M{} {}l8 8l-8 8z", num(scale.right()), num(mid - 8.0))) {}
                }
                text x=(num(scale.right() + 14.0)) y=(num(mid + 4.0)) class="value" {
                    (c.words())
                }
            }
        }
        line class="axis" x1=(num(scale.left)) x2=(num(scale.right())) y1=(num(axis_y)) y2=(num(axis_y)) {}
        text x=(num(scale.left)) y=(num(axis_y + 16.0)) class="tick" text-anchor="middle" { "0" }
        @for d in &ticks {
            line class="axis" x1=(num(scale.x(*d as f64))) x2=(num(scale.x(*d as f64)))
                y1=(num(TOP)) y2=(num(axis_y + 4.0)) {}
        }
        @for d in &labelled {
            text x=(num(scale.x(*d as f64))) y=(num(axis_y + 16.0)) class="tick" text-anchor="middle" {
                (d) " d"
            }
        }
        text x=(num(scale.right())) y=(num(axis_y + 16.0)) class="tick" text-anchor="end" {
            (num(scale.max.round())) " days left"
        }
    };
    Some(picture(
        "expiry",
        "Certificate expiry: days left against the warn and fail thresholds",
        &desc.join("; "),
        WIDTH,
        height,
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(days_left: i64, warn: i64, fail: i64) -> Cert {
        Cert {
            item: "tls".into(),
            cert: ChainCert {
                subject: "CN=x".into(),
                not_after: "2026-12-25T00:00:00Z".into(),
                days_left,
                warn_days: Some(warn),
                fail_days: Some(fail),
            },
        }
    }

    #[test]
    fn zones_follow_each_certificates_thresholds() {
        assert_eq!(cert(40, 30, 14).zone(), "ok");
        assert_eq!(cert(20, 30, 14).zone(), "warn");
        assert_eq!(cert(5, 30, 14).zone(), "fail");
        assert_eq!(cert(-3, 30, 14).zone(), "fail");
        assert_eq!(cert(-3, 30, 14).words(), "expired 3 days ago (2026-12-25)");
    }

    #[test]
    fn the_domain_shows_every_threshold_and_cuts_a_ten_year_ca() {
        // A 20-day leaf and a 3649-day CA: three times the widest threshold, not ten years.
        let d = domain(&[cert(20, 30, 14), cert(3649, 30, 14)]);
        assert_eq!(d, 90.0);
        // Only short-lived certificates: the longest fits with a margin.
        let d = domain(&[cert(60, 30, 14)]);
        assert!((d - 69.0).abs() < 1e-9, "{d}");
        assert!(domain(&[cert(1, 2, 1)]) >= 30.0);
    }

    #[test]
    fn bars_are_as_long_as_the_days_left_and_a_cut_bar_says_so() {
        let certs = [cert(45, 30, 14), cert(3649, 30, 14)];
        let svg = timeline(&certs).expect("picture").into_string();
        // Domain 90 days over 400 px: 45 days is half the bar area.
        assert!(
            svg.contains(r#"class="bar fill-ok" x="260" y="17" width="200""#),
            "{svg}"
        );
        // The CA is cut at the right edge, marked by an arrow, and its real figure is written.
        assert!(svg.contains(r#"width="400""#), "{svg}");
        assert!(svg.contains("M660 "), "{svg}");
        assert!(svg.contains("3649 days left"), "{svg}");
        // Threshold ticks on the axis.
        assert!(svg.contains("14 d") && svg.contains("30 d"), "{svg}");
        assert!(timeline(&[]).is_none());
    }
}
