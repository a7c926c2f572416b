//! Proxies as networks have them: `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` from
//! the environment by default (a CI runner behind a corporate proxy), one URL, or none.

use std::fmt;

use reqwest::ClientBuilder;

/// Which proxy HTTP-based probes go through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ProxySetting {
    /// The environment's `*_PROXY` variables, `NO_PROXY` honoured (curl's conventions).
    #[default]
    Env,
    /// Straight to the target, whatever the environment says.
    Direct,
    /// This proxy (`http://`, `https://` or `socks5://`, credentials allowed), `NO_PROXY`
    /// from the environment still honoured.
    Url(String),
}

impl ProxySetting {
    /// `env`, `none` / `direct`, or a proxy URL.
    pub fn parse(text: &str) -> Result<ProxySetting, String> {
        match text.trim() {
            "" | "env" => Ok(ProxySetting::Env),
            "none" | "direct" => Ok(ProxySetting::Direct),
            url => {
                let parsed = url::Url::parse(url)
                    .map_err(|e| format!("proxy `{}` is not a URL ({e})", redact_url(url)))?;
                match parsed.scheme() {
                    "http" | "https" | "socks5" | "socks5h" => Ok(ProxySetting::Url(url.into())),
                    other => Err(format!(
                        "proxy scheme `{other}` is not supported; use http://, https:// or socks5://"
                    )),
                }
            }
        }
    }

    /// Configures `builder` to use this setting.
    pub fn apply(&self, builder: ClientBuilder) -> Result<ClientBuilder, String> {
        match self {
            // reqwest reads the environment itself when no proxy is configured.
            ProxySetting::Env => Ok(builder),
            ProxySetting::Direct => Ok(builder.no_proxy()),
            ProxySetting::Url(url) => {
                let proxy = reqwest::Proxy::all(url.as_str())
                    .map_err(|e| format!("proxy `{}`: {e}", redact_url(url)))?
                    .no_proxy(reqwest::NoProxy::from_env());
                Ok(builder.proxy(proxy))
            }
        }
    }

    /// The proxy a request to `target` goes through, without credentials; `None`: direct.
    pub fn used_for(&self, target: &str) -> Option<String> {
        let uri: http::Uri = target.parse().ok()?;
        let intercepted = self.intercept(&uri)?;
        Some(redact_url(&intercepted.uri().to_string()))
    }

    /// The proxy (with its credentials, for the handshake) a connection to `uri` goes
    /// through under this setting; `None`: direct. `NO_PROXY` is honoured.
    pub fn intercept(
        &self,
        uri: &http::Uri,
    ) -> Option<hyper_util::client::proxy::matcher::Intercept> {
        let matcher = match self {
            ProxySetting::Direct => return None,
            ProxySetting::Env => hyper_util::client::proxy::matcher::Matcher::from_env(),
            ProxySetting::Url(url) => hyper_util::client::proxy::matcher::Matcher::builder()
                .all(url.clone())
                .no(std::env::var("NO_PROXY")
                    .or_else(|_| std::env::var("no_proxy"))
                    .unwrap_or_default())
                .build(),
        };
        matcher.intercept(uri)
    }
}

/// `proxy:` in an item: the same words as `--proxy` (`env`, `none`, a URL), checked on load.
impl<'de> serde::Deserialize<'de> for ProxySetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ProxySetting::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for ProxySetting {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Proxy".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`env` (the environment's HTTP(S)_PROXY / NO_PROXY), `none`, or a proxy URL: http://, https:// or socks5://.",
            "type": "string"
        })
    }
}

impl fmt::Display for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::Env => f.write_str("env"),
            ProxySetting::Direct => f.write_str("none"),
            ProxySetting::Url(url) => f.write_str(&redact_url(url)),
        }
    }
}

/// A URL with its password (or lone user token) replaced by `***`.
pub fn redact_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(mut url) if !url.username().is_empty() => {
            let _ = url.set_username("***");
            url.to_string()
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_credentials_never_show() {
        assert_eq!(ProxySetting::parse("env"), Ok(ProxySetting::Env));
        assert_eq!(ProxySetting::parse("none"), Ok(ProxySetting::Direct));
        let p = ProxySetting::parse("http://ops:s3cret@proxy.internal:3128").expect("url");
        assert_eq!(p.to_string(), "http://ops:***@proxy.internal:3128/");
        assert!(ProxySetting::parse("ftp://proxy").is_err());
        // The evidence names the proxy without any credentials at all.
        assert_eq!(
            p.used_for("https://shop.example/health").as_deref(),
            Some("http://proxy.internal:3128/")
        );
        assert_eq!(ProxySetting::Direct.used_for("https://shop.example/"), None);
    }
}
