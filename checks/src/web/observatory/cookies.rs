//! Set-Cookie parsing and the Observatory cookie test: Secure, HttpOnly on session cookies,
//! SameSite validity, anti-CSRF cookies; each cookie is judged and the worst result wins.

use serde::Serialize;

use super::grade::Finding;

/// The attributes of one `Set-Cookie` that matter for security (the value is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cookie {
    pub name: String,
    pub secure: bool,
    pub http_only: bool,
    /// `Some("")` when `SameSite` is present without a value.
    pub same_site: Option<String>,
}

/// Parses one `Set-Cookie` value; `None` when it has no `name=` pair.
pub fn parse(set_cookie: &str) -> Option<Cookie> {
    let mut parts = set_cookie.split(';');
    let (name, _value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let mut cookie = Cookie {
        name: name.to_string(),
        secure: false,
        http_only: false,
        same_site: None,
    };
    for attr in parts {
        let (key, value) = attr.split_once('=').unwrap_or((attr, ""));
        match key.trim().to_ascii_lowercase().as_str() {
            "secure" => cookie.secure = true,
            "httponly" => cookie.http_only = true,
            "samesite" => cookie.same_site = Some(value.trim().to_ascii_lowercase()),
            _ => {}
        }
    }
    Some(cookie)
}

/// One cookie's verdict, for the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CookieVerdict {
    pub cookie: Cookie,
    pub session: bool,
    pub result: String,
    pub modifier: i32,
    pub message: String,
}

/// Load-balancer affinity cookies the Observatory leaves out of the test (its issue #282):
/// the platform sets them, so the site cannot add flags to them.
pub const IGNORED: [&str; 1] = ["heroku-session-affinity"];

/// The Observatory's failing cookie results, least bad first: the worst one found wins
/// (so ties in points break towards the later entry, as the Observatory does).
const RANK: [&str; 7] = [
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
];

fn rank(result: &str) -> usize {
    RANK.iter().position(|r| *r == result).map_or(0, |i| i + 1)
}

fn is_session(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("login") || lower.contains("sess")
}

/// One cookie's worst problem, or `None` when it is fine.
fn judge(c: &Cookie, https: bool, hsts_ok: bool) -> Option<(&'static str, i32, String)> {
    let session = is_session(&c.name);
    let csrf = c.name.to_ascii_lowercase().contains("csrf");
    let protected = https && hsts_ok;
    let mut worst: Option<(&'static str, i32, String)> = None;
    let mut consider = |r: &'static str, m: i32, msg: String| {
        if worst.as_ref().is_none_or(|(w, _, _)| rank(r) > rank(w)) {
            worst = Some((r, m, msg));
        }
    };
    match c.same_site.as_deref() {
        Some(v) if !["lax", "strict", "none"].contains(&v) => consider(
            "cookies-samesite-flag-invalid",
            -20,
            format!("SameSite=`{v}` is not valid; use Lax or Strict"),
        ),
        Some("none") if !c.secure => consider(
            "cookies-samesite-flag-invalid",
            -20,
            "SameSite=None without Secure is rejected by browsers; add Secure".into(),
        ),
        None if csrf => consider(
            "cookies-anticsrf-without-samesite-flag",
            -20,
            "anti-CSRF cookie without SameSite; add SameSite=Strict".into(),
        ),
        _ => {}
    }
    if session && !c.http_only {
        consider(
            "cookies-session-without-httponly-flag",
            -30,
            "session cookie readable by scripts; add HttpOnly".into(),
        );
    }
    let over = if https {
        ""
    } else {
        " (and it is set over plain HTTP)"
    };
    if !c.secure || !https {
        let (r, m, what) = match (session, protected) {
            (true, true) => (
                "cookies-session-without-secure-flag-but-protected-by-hsts",
                -10,
                "session cookie",
            ),
            (true, false) => ("cookies-session-without-secure-flag", -40, "session cookie"),
            (false, true) => (
                "cookies-without-secure-flag-but-protected-by-hsts",
                -5,
                "cookie",
            ),
            (false, false) => ("cookies-without-secure-flag", -20, "cookie"),
        };
        let mitigated = if protected { " (HSTS mitigates)" } else { "" };
        consider(
            r,
            m,
            format!(
                "{what} can travel over plain HTTP{over}{mitigated}; add Secure and serve over HTTPS"
            ),
        );
    }
    worst
}

/// The Observatory cookie test over every cookie set by one response, plus each verdict.
pub fn evaluate(cookies: &[Cookie], https: bool, hsts_ok: bool) -> (Finding, Vec<CookieVerdict>) {
    const H: &str = "Set-Cookie";
    let verdicts: Vec<CookieVerdict> = cookies
        .iter()
        .map(|c| {
            let (result, modifier, message) = if IGNORED.contains(&c.name.as_str()) {
                (
                    "ignored",
                    0,
                    "a load-balancer affinity cookie, left out as the Observatory does".to_string(),
                )
            } else {
                judge(c, https, hsts_ok).unwrap_or(("ok", 0, "secure".into()))
            };
            CookieVerdict {
                cookie: c.clone(),
                session: is_session(&c.name),
                result: result.to_string(),
                modifier,
                message,
            }
        })
        .collect();
    let judged: Vec<&CookieVerdict> = verdicts.iter().filter(|v| v.result != "ignored").collect();
    if judged.is_empty() {
        let message = if verdicts.is_empty() {
            "no cookies set"
        } else {
            "only load-balancer affinity cookies, which the Observatory ignores"
        };
        return (
            Finding::scored(H, "cookies-not-found", 0, true, message.into()),
            verdicts,
        );
    }
    let worst = judged
        .iter()
        .filter(|v| v.result != "ok")
        .max_by_key(|v| rank(&v.result));
    let finding = match worst {
        Some(v) => Finding::scored(
            H,
            &v.result,
            v.modifier,
            false,
            format!("cookie `{}`: {}", v.cookie.name, v.message),
        ),
        None if judged.iter().all(|v| v.cookie.same_site.is_some()) => Finding::scored(
            H,
            "cookies-secure-with-httponly-sessions-and-samesite",
            5,
            true,
            "every cookie is Secure with SameSite, session cookies HttpOnly".into(),
        ),
        None => Finding::scored(
            H,
            "cookies-secure-with-httponly-sessions",
            0,
            true,
            "every cookie is Secure, session cookies HttpOnly; add SameSite=Lax for a bonus".into(),
        ),
    };
    (finding, verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modifier(set_cookies: &[&str], https: bool, hsts_ok: bool) -> i32 {
        let cookies: Vec<Cookie> = set_cookies.iter().filter_map(|s| parse(s)).collect();
        evaluate(&cookies, https, hsts_ok).0.modifier
    }

    #[test]
    fn parses_flags_not_values() {
        let c = parse("SESSIONID=abc; Path=/; Secure; HttpOnly; SameSite=Lax");
        assert_eq!(
            c,
            Some(Cookie {
                name: "SESSIONID".into(),
                secure: true,
                http_only: true,
                same_site: Some("lax".into())
            })
        );
        assert_eq!(parse("novalue"), None);
    }

    #[test]
    fn observatory_cookie_results() {
        assert_eq!(modifier(&[], true, true), 0);
        assert_eq!(
            modifier(&["sessionid=1; Secure; HttpOnly; SameSite=Lax"], true, true),
            5
        );
        assert_eq!(modifier(&["sessionid=1; Secure; HttpOnly"], true, true), 0);
        assert_eq!(modifier(&["theme=dark"], true, true), -5);
        assert_eq!(modifier(&["sessionid=1; HttpOnly"], true, true), -10);
        assert_eq!(modifier(&["theme=dark"], true, false), -20);
        assert_eq!(
            modifier(&["theme=dark; Secure; SameSite=bogus"], true, true),
            -20
        );
        assert_eq!(modifier(&["theme=dark; SameSite=None"], true, true), -20);
        assert_eq!(modifier(&["csrftoken=1; Secure"], true, true), -20);
        assert_eq!(modifier(&["sessionid=1; Secure"], true, true), -30);
        assert_eq!(
            modifier(&["sessionid=1; Secure; HttpOnly"], false, false),
            -40
        );
        // The worst cookie decides.
        assert_eq!(
            modifier(
                &["a=1; Secure; SameSite=Lax", "login=1; Secure"],
                true,
                true
            ),
            -30
        );
    }
}
