//! Report formats as their consumers read them: snapshots of every format, the HTML page and
//! the terminal.

mod formats;
mod html;
mod terminal;
