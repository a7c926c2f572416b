//! The HTML report: one self-contained page with pictures (inline SVG, inline CSS, no script).
//! `page` lays it out; `items` renders the tables; one file per picture draws with `svg`.

mod badge;
mod expiry;
mod fleet;
mod grade;
mod items;
mod latency;
pub(crate) mod page;
mod strip;
mod svg;

pub use page::HtmlReporter;
