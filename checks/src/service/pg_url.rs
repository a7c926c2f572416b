//! PostgreSQL URLs as users write them for libpq: `sslmode` from `disable` to `verify-full`,
//! `sslrootcert`, `sslcert` and `sslkey`, which tokio-postgres does not parse, taken out here.

use std::path::PathBuf;

/// libpq's `sslmode`, as prodcheck applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `disable`: plain TCP.
    Disable,
    /// `allow` / `prefer`: TLS when the server offers it (verified), else plain.
    Prefer,
    /// `require`, `verify-full`: TLS, chain and host name verified. prodcheck is stricter than
    /// libpq's `require` (which verifies nothing without `sslrootcert`): a gate that accepts
    /// any certificate proves nothing about the database it reached.
    VerifyFull,
    /// `verify-ca`: TLS, chain verified, host name not (an IP address or alias the
    /// certificate does not name).
    VerifyCa,
}

/// The URL for tokio-postgres and the TLS settings taken out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// The URL without the parameters tokio-postgres does not know, `sslmode` mapped.
    pub url: String,
    pub mode: TlsMode,
    /// `sslrootcert=PATH` (`system`: the system roots only).
    pub root_cert: Option<PathBuf>,
    /// `sslcert=PATH` / `sslkey=PATH`: the client certificate and its key.
    pub cert: Option<String>,
    pub key: Option<String>,
}

/// Splits libpq's TLS parameters out of a `postgres://` URL.
pub fn parse(url: &str) -> Result<PgUrl, String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut kept: Vec<String> = Vec::new();
    let mut mode = TlsMode::Prefer;
    let mut root_cert = None;
    let (mut cert, mut key_file) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => {
                mode = match value {
                    "disable" => TlsMode::Disable,
                    "allow" | "prefer" => TlsMode::Prefer,
                    "require" | "verify-full" => TlsMode::VerifyFull,
                    "verify-ca" => TlsMode::VerifyCa,
                    other => {
                        return Err(format!(
                            "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        ));
                    }
                };
            }
            "sslrootcert" => {
                let path = percent_decode(value);
                root_cert = (path != "system").then(|| PathBuf::from(path));
            }
            "sslcert" => cert = Some(percent_decode(value)),
            "sslkey" => key_file = Some(percent_decode(value)),
            "sslpassword" => {
                return Err(
                    "`sslpassword` (an encrypted client key) is not supported; give `sslkey` an unencrypted key, kept secret"
                        .to_string(),
                );
            }
            _ => kept.push(pair.to_string()),
        }
    }
    // tokio-postgres knows disable / prefer / require; verification is ours.
    let pg_mode = match mode {
        TlsMode::Disable => "disable",
        TlsMode::Prefer => "prefer",
        TlsMode::VerifyFull | TlsMode::VerifyCa => "require",
    };
    kept.push(format!("sslmode={pg_mode}"));
    Ok(PgUrl {
        url: format!("{base}?{}", kept.join("&")),
        mode,
        root_cert,
        cert,
        key: key_file,
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_tls_parameters_are_taken_out_and_mapped() {
        let u = parse("postgres://app@db:5432/app?sslmode=verify-full&sslrootcert=/etc/ca%20bundle.pem&application_name=x")
            .expect("parses");
        assert_eq!(u.mode, TlsMode::VerifyFull);
        assert_eq!(u.root_cert, Some(PathBuf::from("/etc/ca bundle.pem")));
        assert_eq!(
            u.url,
            "postgres://app@db:5432/app?application_name=x&sslmode=require"
        );
        let u = parse("postgres://app@db/app?sslmode=verify-ca&sslrootcert=system").expect("ok");
        assert_eq!((u.mode, u.root_cert), (TlsMode::VerifyCa, None));
        assert_eq!(
            parse("postgres://db/app").expect("ok").mode,
            TlsMode::Prefer
        );
        assert_eq!(
            parse("postgres://db/app?sslmode=disable").expect("ok").url,
            "postgres://db/app?sslmode=disable"
        );
        assert!(parse("postgres://db/app?sslmode=bogus").is_err());
        let u = parse("postgres://db/app?sslmode=verify-ca&sslcert=/c%20d.pem&sslkey=/k.pem")
            .expect("ok");
        assert_eq!(
            (u.cert.as_deref(), u.key.as_deref()),
            (Some("/c d.pem"), Some("/k.pem"))
        );
        assert_eq!(u.url, "postgres://db/app?sslmode=require");
        assert!(parse("postgres://db/app?sslpassword=x").is_err());
    }
}
