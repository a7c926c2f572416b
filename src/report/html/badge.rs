//! A status as the HTML report shows it everywhere: the terminal report's glyph and the word
//! on a coloured ground (never colour alone).

use maud::{Markup, html};

use crate::status::Status;

/// The glyph that says a status without colour (the terminal report's).
pub fn symbol(status: Status) -> &'static str {
    crate::report::human::symbol(status)
}

/// A status badge: glyph and word on a coloured ground.
pub fn badge(status: Status) -> Markup {
    html! {
        span class=(format!("badge st-{}", status.as_str())) {
            span aria-hidden="true" { (symbol(status)) } " " (status.as_str())
        }
    }
}
