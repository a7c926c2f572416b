//! The Observatory CORS test over one response to a request sent with an `Origin`: who may
//! read it (`*` is public, an echoed origin with credentials is universal access).

use super::grade::Finding;

const H: &str = "Access-Control-Allow-Origin";

/// `acao` and `credentials` as answered, `origin` as sent.
pub fn evaluate(acao: Option<&str>, origin: Option<&str>, credentials: Option<&str>) -> Finding {
    let Some(raw) = acao else {
        return Finding::scored(
            H,
            "cross-origin-resource-sharing-not-implemented",
            0,
            true,
            "not sent: other origins cannot read the response".into(),
        );
    };
    let value: String = raw.chars().take(256).collect();
    let value = value.trim().to_ascii_lowercase();
    let with_credentials = credentials.is_some_and(|c| c.trim().eq_ignore_ascii_case("true"));
    if value == "*" {
        Finding::scored(
            H,
            "cross-origin-resource-sharing-implemented-with-public-access",
            0,
            true,
            "`*`: every origin can read the response, without credentials (fine for public data only)".into(),
        )
    } else if origin.is_some_and(|o| o == raw) && with_credentials {
        Finding::scored(
            H,
            "cross-origin-resource-sharing-implemented-with-universal-access",
            -50,
            false,
            format!(
                "the request's Origin `{raw}` is echoed with Access-Control-Allow-Credentials: true, so any site can read the response with the user's cookies; allow a fixed list of origins"
            ),
        )
    } else {
        Finding::scored(
            H,
            "cross-origin-resource-sharing-implemented-with-restricted-access",
            0,
            true,
            format!("restricted to `{}`", raw.trim()),
        )
    }
}
