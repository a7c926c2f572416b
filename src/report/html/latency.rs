//! Latency percentiles against their thresholds: a `latency` item's p50/p95/p99/max (its
//! evidence `*_ms`) as bars, each bound the item sets (`limits`) as a mark on its row.

use checks::figures::{Figures, LatencyFigures};
use maud::{Markup, html};

use super::svg::{Scale, num, picture, slug};
use crate::report::ItemReport;

/// One percentile and its bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: &'static str,
    pub ms: f64,
    pub limit_ms: Option<f64>,
}

impl Figure {
    pub fn zone(&self) -> &'static str {
        match self.limit_ms {
            Some(l) if self.ms > l => "fail",
            Some(_) => "ok",
            None => "none",
        }
    }
}

/// What the picture shows for one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Percentiles {
    pub item: String,
    pub url: String,
    pub samples: i64,
    pub figures: Vec<Figure>,
}

impl Percentiles {
    /// The percentiles of an item whose evidence holds `p50_ms` and the like.
    pub fn of(item: &ItemReport) -> Option<Percentiles> {
        let measured = LatencyFigures::read(&item.evidence)?;
        let limits = measured.limits.unwrap_or_default().named();
        let figures: Vec<Figure> = measured
            .percentiles
            .named()
            .into_iter()
            .zip(limits)
            .filter_map(|((name, ms), (_, limit_ms))| {
                Some(Figure {
                    name,
                    ms: ms?,
                    limit_ms,
                })
            })
            .collect();
        if figures.is_empty() {
            return None;
        }
        Some(Percentiles {
            item: item.id.clone(),
            url: measured.url,
            samples: measured.sample_count as i64,
            figures,
        })
    }
}

const WIDTH: f64 = 760.0;
const ROW: f64 = 28.0;
const TOP: f64 = 6.0;
const BAR_LEFT: f64 = 60.0;
const BAR_WIDTH: f64 = 440.0;

/// Milliseconds as people write them.
pub fn ms(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{} s", num(v / 1000.0))
    } else {
        format!("{} ms", num(v))
    }
}

/// The bars of one item, on a scale wide enough for the slowest figure and every bound.
pub fn chart(p: &Percentiles) -> Markup {
    let id = format!("latency-{}", slug(&p.item));
    let top = p
        .figures
        .iter()
        .flat_map(|f| [Some(f.ms), f.limit_ms])
        .flatten()
        .fold(0.0_f64, f64::max);
    let scale = Scale::new(top * 1.1, BAR_LEFT, BAR_WIDTH);
    let height = TOP + ROW * p.figures.len() as f64 + 26.0;
    let words: Vec<String> = p
        .figures
        .iter()
        .map(|f| match f.limit_ms {
            Some(l) => format!("{} {} (limit {})", f.name, ms(f.ms), ms(l)),
            None => format!("{} {}", f.name, ms(f.ms)),
        })
        .collect();
    let axis_y = TOP + ROW * p.figures.len() as f64 + 2.0;
    let body = html! {
        @for (i, f) in p.figures.iter().enumerate() {
            @let y = TOP + ROW * i as f64;
            @let mid = y + ROW / 2.0;
            g class="row" {
                title { (words[i]) }
                text class="label" x=(num(BAR_LEFT - 10.0)) y=(num(mid + 4.0)) text-anchor="end" { (f.name) }
                rect class=(format!("bar fill-{}", f.zone())) x=(num(BAR_LEFT)) y=(num(mid - 6.0))
                    width=(num((scale.x(f.ms) - BAR_LEFT).max(2.0))) height="12" {}
                @if let Some(l) = f.limit_ms {
                    line class="limit" x1=(num(scale.x(l))) x2=(num(scale.x(l)))
                        y1=(num(y + 2.0)) y2=(num(y + ROW - 2.0)) {}
                }
                text class="value" x=(num(scale.right() + 14.0)) y=(num(mid + 4.0)) {
                    (ms(f.ms))
                    @if let Some(l) = f.limit_ms {
                        @if f.ms > l { " over " } @else { " within " }
                        (ms(l))
                    }
                }
            }
        }
        line class="axis" x1=(num(BAR_LEFT)) x2=(num(scale.right())) y1=(num(axis_y)) y2=(num(axis_y)) {}
        text class="tick" x=(num(BAR_LEFT)) y=(num(axis_y + 16.0)) text-anchor="middle" { "0" }
        text class="tick" x=(num(scale.right())) y=(num(axis_y + 16.0)) text-anchor="end" { (ms(scale.max)) }
    };
    picture(
        &id,
        &format!("Latency of {} over {} samples", p.url, p.samples),
        &words.join("; "),
        WIDTH,
        height,
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_bounds_share_one_scale() {
        let p = Percentiles {
            item: "rt".into(),
            url: "https://x/api".into(),
            samples: 50,
            figures: vec![
                Figure {
                    name: "p95",
                    ms: 100.0,
                    limit_ms: Some(500.0),
                },
                Figure {
                    name: "p99",
                    ms: 550.0,
                    limit_ms: Some(500.0),
                },
            ],
        };
        assert_eq!(p.figures[0].zone(), "ok");
        assert_eq!(p.figures[1].zone(), "fail");
        let svg = chart(&p).into_string();
        // Scale: 0..605 ms over 440 px from x=60. 100 ms = 72.7 px; the 500 ms bound at 423.6.
        assert!(
            svg.contains(r#"class="bar fill-ok" x="60" y="14" width="72.7""#),
            "{svg}"
        );
        assert!(svg.contains(r#"x1="423.6" x2="423.6""#), "{svg}");
        assert!(svg.contains("550 ms over 500 ms"), "{svg}");
        assert!(svg.contains("100 ms within 500 ms"), "{svg}");
    }

    #[test]
    fn a_tiny_figure_still_shows_a_bar() {
        let p = Percentiles {
            item: "rt".into(),
            url: "u".into(),
            samples: 1,
            figures: vec![Figure {
                name: "p50",
                ms: 0.5,
                limit_ms: Some(2000.0),
            }],
        };
        assert!(chart(&p).into_string().contains(r#"width="2""#));
        assert_eq!(ms(12_500.0), "12.5 s");
    }
}
