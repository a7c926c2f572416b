//! The security-header grade card: a `security_headers` item's Observatory grade and score,
//! and the points each header test added or took (its evidence `findings`).

use checks::Status;
use checks::figures::{Figures, HeaderFinding, HeaderGrade};
use maud::{Markup, html};

use super::svg::{Scale, cut, num, picture, slug};
use crate::report::ItemReport;
use crate::text::affix;

/// What the card shows for one item: its grade as the evidence holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub item: String,
    pub graded: HeaderGrade,
}

impl Card {
    /// The card of an item whose evidence holds a grade and findings.
    pub fn of(item: &ItemReport) -> Option<Card> {
        Some(Card {
            item: item.id.clone(),
            graded: HeaderGrade::read(&item.evidence)?,
        })
    }

    /// Where the graded page was: where redirects ended, else the URL asked for.
    pub fn url(&self) -> &str {
        self.graded.final_url.as_deref().unwrap_or(&self.graded.url)
    }

    /// `ok` at or above the item's minimum grade (A+ … F, worst last), else `fail`.
    pub fn zone(&self) -> &'static str {
        const ORDER: [&str; 13] = [
            "A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F",
        ];
        let rank = |g: &str| ORDER.iter().position(|o| *o == g);
        match (
            rank(&self.graded.grade),
            self.graded.min_grade.as_deref().and_then(rank),
        ) {
            (Some(g), Some(min)) if g > min => "fail",
            (Some(g), None) if g >= ORDER.len() - 1 => "fail",
            (None, _) => "warn",
            _ => "ok",
        }
    }
}

const WIDTH: f64 = 760.0;
const ROW: f64 = 22.0;
const TOP: f64 = 10.0;
const HEADER_X: f64 = 150.0;
const AXIS_X: f64 = 470.0;
const HALF: f64 = 150.0;

fn finding_zone(f: &HeaderFinding) -> &'static str {
    match f.status {
        Status::Fail => "fail",
        Status::Warn => "warn",
        _ if f.modifier < 0 => "warn",
        _ => "ok",
    }
}

/// The card of one item: the grade letter, then one row per header test with its points drawn
/// left (lost) or right (earned) of zero.
pub fn card(card: &Card) -> Markup {
    let graded = &card.graded;
    let id = format!("grade-{}", slug(&card.item));
    let widest = graded
        .findings
        .iter()
        .map(|f| f.modifier.abs())
        .max()
        .unwrap_or(0)
        .max(10) as f64;
    let scale = Scale::new(widest, 0.0, HALF);
    let rows = graded.findings.len() as f64;
    let height = (TOP + ROW * rows + 24.0).max(140.0);
    let min = affix(", at least ", graded.min_grade.as_deref(), " required");
    let desc: Vec<String> = graded
        .findings
        .iter()
        .map(|f| format!("{} {:+} ({})", f.header, f.modifier, f.status.as_str()))
        .collect();
    let body = html! {
        rect class=(format!("gradebox fill-{}", card.zone())) x="0" y=(num(TOP)) width="120" height="120" rx="10" {}
        text class="grade" x="60" y=(num(TOP + 70.0)) text-anchor="middle" { (graded.grade) }
        text class="tick" x="60" y=(num(TOP + 96.0)) text-anchor="middle" { "score " (graded.score) }
        @if let Some(m) = &graded.min_grade {
            text class="tick" x="60" y=(num(TOP + 112.0)) text-anchor="middle" { "min " (m) }
        }
        line class="axis" x1=(num(AXIS_X)) x2=(num(AXIS_X)) y1=(num(TOP)) y2=(num(TOP + ROW * rows)) {}
        @for (i, f) in graded.findings.iter().enumerate() {
            @let y = TOP + ROW * i as f64;
            @let mid = y + ROW / 2.0;
            @let len = (scale.x(f.modifier.abs() as f64)).max(if f.modifier == 0 { 0.0 } else { 2.0 });
            @let x = if f.modifier < 0 { AXIS_X - len } else { AXIS_X };
            g class="row" {
                title { (f.header) " " (format!("{:+}", f.modifier)) ": " (f.message) }
                text class="label" x=(num(HEADER_X)) y=(num(mid + 4.0)) { (cut(&f.header, 34)) }
                @if f.modifier == 0 {
                    circle class=(format!("fill-{}", finding_zone(f))) cx=(num(AXIS_X)) cy=(num(mid)) r="4" {}
                } @else {
                    rect class=(format!("bar fill-{}", finding_zone(f))) x=(num(x)) y=(num(mid - 6.0))
                        width=(num(len)) height="12" {}
                }
                text class="value" x=(num(AXIS_X + HALF + 12.0)) y=(num(mid + 4.0)) {
                    (format!("{:+}", f.modifier)) " · " (f.status.as_str())
                }
            }
        }
        text class="tick" x=(num(AXIS_X - HALF)) y=(num(TOP + ROW * rows + 16.0)) { "points lost" }
        text class="tick" x=(num(AXIS_X + HALF)) y=(num(TOP + ROW * rows + 16.0)) text-anchor="end" { "points earned" }
    };
    picture(
        &id,
        &format!(
            "Security headers of {}: grade {} (score {}){min}",
            card.url(),
            graded.grade,
            graded.score
        ),
        &desc.join("; "),
        WIDTH,
        height,
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(grade: &str, min: &str, points: &[i32]) -> Card {
        Card {
            item: "security-headers".into(),
            graded: HeaderGrade {
                url: "https://x".into(),
                final_url: None,
                grade: grade.into(),
                score: 50,
                min_grade: Some(min.into()),
                findings: points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| HeaderFinding {
                        header: format!("H{i}"),
                        status: if *p <= -20 {
                            Status::Fail
                        } else {
                            Status::Pass
                        },
                        result: "r".into(),
                        modifier: *p,
                        message: "m".into(),
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn the_card_is_judged_against_the_minimum_grade() {
        assert_eq!(sample("A+", "B", &[]).zone(), "ok");
        assert_eq!(sample("B", "B", &[]).zone(), "ok");
        assert_eq!(sample("C+", "B", &[]).zone(), "fail");
        assert_eq!(sample("??", "B", &[]).zone(), "warn");
    }

    #[test]
    fn lost_points_go_left_of_zero_and_earned_points_right() {
        let svg = card(&sample("C", "B", &[-20, 5, 0])).into_string();
        // 20 points is the widest: 150 px left of the axis at 470.
        assert!(
            svg.contains(r#"class="bar fill-fail" x="320" y="15" width="150""#),
            "{svg}"
        );
        // 5 points right of the axis: a quarter of 150 px.
        assert!(
            svg.contains(r#"class="bar fill-ok" x="470" y="37" width="37.5""#),
            "{svg}"
        );
        // Zero points is a dot on the axis, not an invisible bar.
        assert!(svg.contains(r#"<circle class="fill-ok" cx="470""#), "{svg}");
        assert!(
            svg.contains("-20 · fail") && svg.contains("+5 · pass"),
            "{svg}"
        );
    }
}
