//! The `/probe` query string, parsed strictly: a scrape names a checklist, an environment or a
//! target, and optionally items or tags that the config defines — never a URL, host or
//! variable value.

/// What a scrape asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeQuery {
    pub checklist: String,
    pub env: Option<String>,
    /// `target=NAME`: a target of prodcheck.yaml (only a configured name; never an address).
    pub target: Option<String>,
    /// `item=ID` (repeatable): only these items.
    pub items: Vec<String>,
    /// `tag=T` (repeatable): only items with one of these tags.
    pub tags: Vec<String>,
}

/// Longest query string accepted (names only: a long one is not a scrape).
const MAX_QUERY: usize = 2048;
/// Most `item=` plus `tag=` parameters accepted.
const MAX_SELECTORS: usize = 64;

/// Parses `raw` (the query string, without `?`); `Err` is the one-line reason for a 400.
pub fn parse(raw: Option<&str>) -> Result<ProbeQuery, String> {
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY {
        return Err(format!(
            "query string of {} bytes is longer than {MAX_QUERY}: a scrape names a checklist and an environment",
            raw.len()
        ));
    }
    let mut checklist = None;
    let mut env = None;
    let mut target = None;
    let mut items = Vec::new();
    let mut tags = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let once = |slot: &mut Option<String>| {
            if slot.is_some() {
                return Err(format!("`{key}` given twice: give it once"));
            }
            *slot = Some(name(&key, &value)?);
            Ok(())
        };
        match key.as_ref() {
            "checklist" => once(&mut checklist)?,
            "env" => once(&mut env)?,
            // A name-shaped value only; whether it is configured is the handler's 404.
            "target" => once(&mut target)?,
            "item" => items.push(name(&key, &value)?),
            "tag" => tags.push(name(&key, &value)?),
            "url" | "host" | "var" | "vars" | "module" | "address" | "port" => {
                return Err(format!(
                    "`{key}=` is not accepted: a scrape cannot choose what is probed; addresses and variables come from the environments and targets in prodcheck.yaml (add one there and scrape with env=NAME or target=NAME)"
                ));
            }
            other => {
                return Err(format!(
                    "unknown query parameter `{}`: /probe takes checklist, env, target, item and tag",
                    other.chars().take(64).collect::<String>().escape_debug()
                ));
            }
        }
    }
    if items.len() + tags.len() > MAX_SELECTORS {
        return Err(format!(
            "more than {MAX_SELECTORS} item= and tag= parameters: select with a tag instead"
        ));
    }
    let checklist = checklist.ok_or_else(|| {
        "missing `checklist`: /probe?checklist=NAME&env=ENV (e.g. checklist=maintenance&env=production)"
            .to_string()
    })?;
    Ok(ProbeQuery {
        checklist,
        env,
        target,
        items,
        tags,
    })
}

/// A name-shaped value: non-empty, at most 128 bytes, letters, digits, `-`, `_` and `.`.
fn name(key: &str, value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !value.starts_with('.');
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "`{key}` must be a name from prodcheck.yaml or a checklist (letters, digits, `-`, `_`, `.`), not `{}`",
            value.chars().take(64).collect::<String>().escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_repeat_where_allowed() {
        let q = parse(Some(
            "checklist=maintenance&env=production&item=a&item=b&tag=tls",
        ))
        .expect("valid");
        assert_eq!(q.checklist, "maintenance");
        assert_eq!(q.env.as_deref(), Some("production"));
        assert_eq!(q.items, ["a", "b"]);
        assert_eq!(q.tags, ["tls"]);
        assert_eq!(parse(Some("checklist=m")).expect("valid").env, None);
        let q = parse(Some("checklist=m&target=api-eu.1")).expect("a target name");
        assert_eq!(q.target.as_deref(), Some("api-eu.1"));
    }

    #[test]
    fn nothing_but_names_is_accepted() {
        for bad in [
            "checklist=m&target=http://169.254.169.254/",
            "checklist=m&target=169.254.169.254:80",
            "checklist=m&target=a&target=b",
            "checklist=m&target=",
            "checklist=m&target=..",
            "checklist=m&url=x",
            "checklist=m&var=base_url%3Dhttp://evil",
            "checklist=m&module=http",
            "checklist=m&debug=true",
            "checklist=m&a%0Ab=1",
            "checklist=m&%22%3E%3Cscript%3E=1",
            "checklist=m&checklist=n",
            "checklist=../etc/passwd",
            "checklist=%2Fetc%2Fpasswd",
            "checklist=m&env=",
            "checklist=m&item=a%0Ab",
            "env=production",
            "",
        ] {
            let err = parse(Some(bad)).expect_err(bad);
            assert!(!err.contains('\n'), "{bad}: one line, got {err}");
        }
        let err = parse(Some("checklist=m&url=http://x/")).expect_err("url");
        assert!(err.contains("cannot choose what is probed"), "{err}");
        let err = parse(Some("checklist=m&target=http://x/")).expect_err("target");
        assert!(err.contains("must be a name from prodcheck.yaml"), "{err}");
    }
}
