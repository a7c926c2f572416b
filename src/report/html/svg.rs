//! What every inline SVG picture of the HTML report shares: a linear scale, number text, and
//! the accessible wrapper (`role="img"` with `<title>` and `<desc>`), so each picture only draws.

use maud::{Markup, html};

/// Labels must fit their column: the report's one way of cutting text.
pub(crate) use crate::report::wrap::cut;

/// Maps `0..=max` onto `left..=left + width` pixels; values outside are clamped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub max: f64,
    pub left: f64,
    pub width: f64,
}

impl Scale {
    /// A scale up to `max` (anything not positive and finite becomes 1, so nothing divides by 0).
    pub fn new(max: f64, left: f64, width: f64) -> Scale {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        Scale { max, left, width }
    }

    /// The x coordinate of `value`.
    pub fn x(&self, value: f64) -> f64 {
        let v = if value.is_finite() { value } else { 0.0 };
        self.left + self.width * (v.clamp(0.0, self.max) / self.max)
    }

    /// Whether `value` lies beyond the drawn range (its bar is cut and says so).
    pub fn clips(&self, value: f64) -> bool {
        value > self.max
    }

    pub fn right(&self) -> f64 {
        self.left + self.width
    }
}

/// A coordinate or figure as short text: one decimal at most, no `.0`.
pub fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let text = format!("{:.1}", v);
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

/// An inline SVG of `width`×`height` whose accessible name is `title` and description `desc`
/// (ids derived from `id`, which must be unique in the page).
pub fn picture(id: &str, title: &str, desc: &str, width: f64, height: f64, body: Markup) -> Markup {
    html! {
        svg class="chart" role="img" aria-labelledby=(format!("{id}-title {id}-desc"))
            width=(num(width)) height=(num(height))
            viewBox=(format!("0 0 {} {}", num(width), num(height))) {
            title id=(format!("{id}-title")) { (title) }
            desc id=(format!("{id}-desc")) { (desc) }
            (body)
        }
    }
}

/// A page-unique id fragment from arbitrary text (item ids are kebab-case, but be safe).
pub fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_maps_its_range_onto_its_pixels_and_clamps_outside() {
        let s = Scale::new(200.0, 100.0, 400.0);
        assert_eq!(s.x(0.0), 100.0);
        assert_eq!(s.x(100.0), 300.0);
        assert_eq!(s.x(200.0), 500.0);
        assert_eq!(s.x(1_000.0), 500.0, "clamped at the right edge");
        assert_eq!(s.x(-5.0), 100.0, "clamped at the left edge");
        assert_eq!(s.x(f64::NAN), 100.0);
        assert!(s.clips(200.1) && !s.clips(200.0));
        assert_eq!(s.right(), 500.0);
    }

    #[test]
    fn a_degenerate_scale_divides_by_nothing() {
        for max in [0.0, -3.0, f64::INFINITY, f64::NAN] {
            let s = Scale::new(max, 10.0, 100.0);
            assert_eq!(s.max, 1.0);
            assert!(s.x(0.5).is_finite());
        }
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(slug("a b<c>"), "a_b_c_");
    }

    #[test]
    fn a_picture_is_named_for_assistive_technology_and_escapes_its_texts() {
        let svg = picture("x", "<T>", "a & b", 100.0, 50.0, html! {}).into_string();
        assert!(svg.contains(r#"role="img""#), "{svg}");
        assert!(svg.contains(r#"aria-labelledby="x-title x-desc""#), "{svg}");
        assert!(svg.contains(r#"viewBox="0 0 100 50""#), "{svg}");
        assert!(
            svg.contains("<title id=\"x-title\">&lt;T&gt;</title>"),
            "{svg}"
        );
        assert!(svg.contains("a &amp; b"), "{svg}");
    }
}
