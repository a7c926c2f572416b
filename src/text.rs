//! Small pieces of wording shared by reports, commands and state messages: an optional part of
//! a line (` [env: prod]`, ` for target `api``) that is left out when its value is absent.

use std::fmt::Display;

/// `before`, the value and `after` when there is a value; nothing otherwise.
pub fn affix(before: &str, value: Option<impl Display>, after: &str) -> String {
    value
        .map(|v| format!("{before}{v}{after}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::affix;

    #[test]
    fn an_absent_value_leaves_the_whole_part_out() {
        assert_eq!(affix(" [env: ", Some("prod"), "]"), " [env: prod]");
        assert_eq!(affix(" [env: ", None::<&str>, "]"), "");
    }
}
