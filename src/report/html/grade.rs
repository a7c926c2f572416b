//! The security-header grade card: a `security_headers` item's Observatory grade and score,
//! and the points each header test added or took (its evidence `findings`).

use checks::figures::{Figures, HeaderGrade};
use maud::{Markup, html};

use super::svg::{Scale, cut, num, picture, slug};
use crate::report::ItemReport;

/// One header test of the card.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub header: String,
    pub status: String,
    pub points: i64,
    pub message: String,
}

/// What the card shows for one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub item: String,
    pub url: String,
    pub grade: String,
    pub score: i64,
    pub min_grade: Option<String>,
    pub findings: Vec<Finding>,
}

impl Card {
    /// The card of an item whose evidence holds a grade and findings.
    pub fn of(item: &ItemReport) -> Option<Card> {
        let graded = HeaderGrade::read(&item.evidence)?;
        Some(Card {
            item: item.id.clone(),
            url: graded.final_url.unwrap_or(graded.url),
            grade: graded.grade,
            score: graded.score,
            min_grade: graded.min_grade,
            findings: graded
                .findings
                .into_iter()
                .map(|f| Finding {
                    header: f.header,
                    status: f.status.as_str().to_string(),
                    points: i64::from(f.modifier),
                    message: f.message,
                })
                .collect(),
        })
    }

    /// `ok` at or above the item's minimum grade (A+ … F, worst last), else `fail`.
    pub fn zone(&self) -> &'static str {
        const ORDER: [&str; 13] = [
            "A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F",
        ];
        let rank = |g: &str| ORDER.iter().position(|o| *o == g);
        match (rank(&self.grade), self.min_grade.as_deref().and_then(rank)) {
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

fn finding_zone(f: &Finding) -> &'static str {
    match f.status.as_str() {
        "fail" => "fail",
        "warn" => "warn",
        _ if f.points < 0 => "warn",
        _ => "ok",
    }
}

/// The card of one item: the grade letter, then one row per header test with its points drawn
/// left (lost) or right (earned) of zero.
pub fn card(card: &Card) -> Markup {
    let id = format!("grade-{}", slug(&card.item));
    let widest = card
        .findings
        .iter()
        .map(|f| f.points.abs())
        .max()
        .unwrap_or(0)
        .max(10) as f64;
    let scale = Scale::new(widest, 0.0, HALF);
    let rows = card.findings.len() as f64;
    let height = (TOP + ROW * rows + 24.0).max(140.0);
    let min = card
        .min_grade
        .as_deref()
        .map(|m| format!(", at least {m} required"))
        .unwrap_or_default();
    let desc: Vec<String> = card
        .findings
        .iter()
        .map(|f| format!("{} {:+} ({})", f.header, f.points, f.status))
        .collect();
    let body = html! {
        rect class=(format!("gradebox fill-{}", card.zone())) x="0" y=(num(TOP)) width="120" height="120" rx="10" {}
        text class="grade" x="60" y=(num(TOP + 70.0)) text-anchor="middle" { (card.grade) }
        text class="tick" x="60" y=(num(TOP + 96.0)) text-anchor="middle" { "score " (card.score) }
        @if let Some(m) = &card.min_grade {
            text class="tick" x="60" y=(num(TOP + 112.0)) text-anchor="middle" { "min " (m) }
        }
        line class="axis" x1=(num(AXIS_X)) x2=(num(AXIS_X)) y1=(num(TOP)) y2=(num(TOP + ROW * rows)) {}
        @for (i, f) in card.findings.iter().enumerate() {
            @let y = TOP + ROW * i as f64;
            @let mid = y + ROW / 2.0;
            @let len = (scale.x(f.points.abs() as f64)).max(if f.points == 0 { 0.0 } else { 2.0 });
            @let x = if f.points < 0 { AXIS_X - len } else { AXIS_X };
            g class="row" {
                title { (f.header) " " (format!("{:+}", f.points)) ": " (f.message) }
                text class="label" x=(num(HEADER_X)) y=(num(mid + 4.0)) { (cut(&f.header, 34)) }
                @if f.points == 0 {
                    circle class=(format!("fill-{}", finding_zone(f))) cx=(num(AXIS_X)) cy=(num(mid)) r="4" {}
                } @else {
                    rect class=(format!("bar fill-{}", finding_zone(f))) x=(num(x)) y=(num(mid - 6.0))
                        width=(num(len)) height="12" {}
                }
                text class="value" x=(num(AXIS_X + HALF + 12.0)) y=(num(mid + 4.0)) {
                    (format!("{:+}", f.points)) " · " (f.status)
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
            card.url, card.grade, card.score
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

    fn sample(grade: &str, min: &str, points: &[i64]) -> Card {
        Card {
            item: "security-headers".into(),
            url: "https://x".into(),
            grade: grade.into(),
            score: 50,
            min_grade: Some(min.into()),
            findings: points
                .iter()
                .enumerate()
                .map(|(i, p)| Finding {
                    header: format!("H{i}"),
                    status: if *p <= -20 { "fail" } else { "pass" }.into(),
                    points: *p,
                    message: "m".into(),
                })
                .collect(),
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
