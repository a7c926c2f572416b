//! Which targets a run covers: `--target GLOB` (repeatable; `*` any run of characters, `?` one)
//! or `--all-targets`, in the order `prodcheck.yaml` lists them, each once.

use super::Target;

/// Why no target could be selected: a usage error (exit 2), nothing ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// `prodcheck.yaml` defines no `targets:`.
    NoTargets,
    /// A `--target` pattern matched no configured target.
    NoMatch { pattern: String, known: Vec<String> },
}

impl SelectError {
    pub fn message(&self) -> String {
        match self {
            SelectError::NoTargets => "no targets are defined in prodcheck.yaml".into(),
            SelectError::NoMatch { pattern, .. } => {
                format!("--target `{pattern}` matches no target in prodcheck.yaml")
            }
        }
    }

    pub fn hint(&self) -> String {
        match self {
            SelectError::NoTargets => "add `targets:` to prodcheck.yaml, e.g.\n  targets:\n    api: { env: production, vars: { base_url: https://api.example } }".into(),
            SelectError::NoMatch { known, .. } => format!("known targets: {}", shorten(known, 20)),
        }
    }
}

/// `a, b, c (+N more)`: names for a message, at most `max` of them.
pub fn shorten(names: &[String], max: usize) -> String {
    shorten_counted(names, names.len(), max)
}

/// [`shorten`] of a list of `total` names of which `first` holds at least the first `max`.
pub fn shorten_counted(first: &[String], total: usize, max: usize) -> String {
    let shown: Vec<&str> = first.iter().take(max).map(String::as_str).collect();
    let more = total.saturating_sub(max);
    if more > 0 {
        format!("{} (+{more} more)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Whether `name` matches `pattern` (`*`: any run of characters, `?`: one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matching with one backtrack point (the last `*`): linear in practice.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The targets `patterns` (or `all`) select, in configuration order, each once. Every pattern
/// must match at least one target: a typo must not silently shrink the run.
pub fn select<'a>(
    targets: &'a [Target],
    patterns: &[String],
    all: bool,
) -> Result<Vec<&'a Target>, SelectError> {
    if targets.is_empty() {
        return Err(SelectError::NoTargets);
    }
    for pattern in patterns {
        if !targets.iter().any(|t| glob_match(pattern, &t.name)) {
            return Err(SelectError::NoMatch {
                pattern: pattern.clone(),
                known: targets.iter().map(|t| t.name.clone()).collect(),
            });
        }
    }
    Ok(targets
        .iter()
        .filter(|t| all || patterns.iter().any(|p| glob_match(p, &t.name)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str) -> Target {
        Target {
            name: name.into(),
            env: None,
            vars: Default::default(),
            labels: Default::default(),
            pos: Default::default(),
            tailoring: Default::default(),
        }
    }

    #[test]
    fn globs_match_like_a_shell() {
        for (p, n, want) in [
            ("api-*", "api-eu", true),
            ("api-*", "api-", true),
            ("api-*", "web-eu", false),
            ("*-eu", "api-eu", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("api-??", "api-eu", true),
            ("api-?", "api-eu", false),
            ("*", "anything", true),
            ("api", "api", true),
            ("api", "api2", false),
        ] {
            assert_eq!(glob_match(p, n), want, "{p} vs {n}");
        }
    }

    #[test]
    fn selection_keeps_config_order_and_refuses_a_pattern_that_matches_nothing() {
        let targets = [target("web"), target("api-eu"), target("api-us")];
        let names = |v: Vec<&Target>| v.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let picked = select(&targets, &["api-us".into(), "api-*".into()], false).expect("ok");
        assert_eq!(names(picked), ["api-eu", "api-us"]);
        assert_eq!(names(select(&targets, &[], true).expect("all")).len(), 3);
        let err = select(&targets, &["db-*".into()], false).expect_err("no match");
        assert_eq!(
            err.message(),
            "--target `db-*` matches no target in prodcheck.yaml"
        );
        assert_eq!(err.hint(), "known targets: web, api-eu, api-us");
        assert_eq!(select(&[], &[], true), Err(SelectError::NoTargets));
    }
}
