//! LDAP's StartTLS (RFC 4511 4.14): one ExtendedRequest with OID 1.3.6.1.4.1.1466.20037 and the
//! server's ExtendedResponse, in the few BER shapes they need, written and read by hand.

use tokio::io::{AsyncRead, AsyncReadExt};

/// The StartTLS OID, the `requestName` of the ExtendedRequest.
const OID: &[u8] = b"1.3.6.1.4.1.1466.20037";
/// Largest response read: a result code and two short strings (and maybe a referral).
const MAX_MESSAGE: usize = 16 * 1024;

/// `LDAPMessage { messageID 1, [APPLICATION 23] ExtendedRequest { [0] requestName } }`.
pub fn request() -> Vec<u8> {
    let name_len = OID.len() as u8;
    let op_len = 2 + name_len;
    let mut out = vec![
        0x30,
        3 + 2 + op_len,
        0x02,
        0x01,
        0x01,
        0x77,
        op_len,
        0x80,
        name_len,
    ];
    out.extend_from_slice(OID);
    out
}

/// Why reading the response failed: the connection, or what was read.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    Malformed(String),
}

/// Reads one LDAPMessage (tag, BER length, contents) of at most [`MAX_MESSAGE`] bytes.
pub async fn read_message<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, ReadError> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await.map_err(ReadError::Io)?;
    if head[0] != 0x30 {
        return Err(ReadError::Malformed(format!(
            "answered bytes starting 0x{:02x}, not an LDAP message",
            head[0]
        )));
    }
    let len = if head[1] < 0x80 {
        usize::from(head[1])
    } else {
        let n = usize::from(head[1] & 0x7f);
        if n == 0 || n > 4 {
            return Err(ReadError::Malformed(
                "answered an LDAP message with an unusable length".into(),
            ));
        }
        let mut bytes = [0u8; 4];
        stream
            .read_exact(&mut bytes[4 - n..])
            .await
            .map_err(ReadError::Io)?;
        u32::from_be_bytes(bytes) as usize
    };
    if len > MAX_MESSAGE {
        return Err(ReadError::Malformed(format!(
            "answered an LDAP message of {len} bytes (more than {MAX_MESSAGE})"
        )));
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.map_err(ReadError::Io)?;
    Ok(body)
}

/// One BER element of `data`: (tag, contents, rest).
fn element(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Judges the contents of the LDAPMessage answering [`request`]: `Ok` on resultCode success,
/// else what the server said, in words.
pub fn judge(body: &[u8]) -> Result<(), String> {
    let bad = || "answered something that is not an ExtendedResponse".to_string();
    let (tag, _id, rest) = element(body).ok_or_else(bad)?;
    if tag != 0x02 {
        return Err(bad());
    }
    let (tag, response, _) = element(rest).ok_or_else(bad)?;
    if tag != 0x78 {
        return Err(format!(
            "answered with LDAP operation tag 0x{tag:02x}, not an ExtendedResponse"
        ));
    }
    let (tag, code, rest) = element(response).ok_or_else(bad)?;
    if tag != 0x0a || code.is_empty() || code.len() > 4 {
        return Err(bad());
    }
    let code = code.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
    if code == 0 {
        return Ok(());
    }
    // matchedDN, then diagnosticMessage.
    let diagnostic = element(rest)
        .and_then(|(_, _, rest)| element(rest))
        .map(|(_, text, _)| String::from_utf8_lossy(text).trim().to_string())
        .filter(|t| !t.is_empty())
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    Err(format!(
        "answered StartTLS with result {code} {}{diagnostic}",
        result_name(code)
    ))
}

fn result_name(code: u32) -> &'static str {
    match code {
        1 => "operationsError",
        2 => "protocolError",
        12 => "unavailableCriticalExtension",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "(see RFC 4511 4.1.9)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_the_rfc_4511_extended_request() {
        let r = request();
        let (tag, body, rest) = element(&r).unwrap_or((0, &[], &[]));
        assert_eq!((tag, rest.len()), (0x30, 0));
        assert_eq!(&body[..3], &[0x02, 0x01, 0x01]);
        assert_eq!(&body[3..5], &[0x77, 24]);
        assert_eq!(&body[5..7], &[0x80, 22]);
        assert_eq!(&body[7..], OID);
    }

    #[test]
    fn responses_are_judged() {
        // messageID 1, ExtendedResponse { success, "", "" }
        let ok = [2, 1, 1, 0x78, 7, 0x0a, 1, 0, 4, 0, 4, 0];
        assert_eq!(judge(&ok), Ok(()));
        let mut no = vec![2, 1, 1, 0x78, 0x1e, 0x0a, 1, 2, 4, 0, 4, 0x17];
        no.extend_from_slice(b"unsupported extended op");
        let err = judge(&no).err().unwrap_or_default();
        assert_eq!(
            err,
            "answered StartTLS with result 2 protocolError (unsupported extended op)"
        );
        assert!(judge(&[2, 1, 1, 0x61, 0]).is_err());
        assert!(judge(&[2, 1]).is_err());
    }

    #[tokio::test]
    async fn messages_are_read_with_long_form_lengths_and_capped() {
        let mut long = [0x30, 0x82, 0x00, 0x03, 1, 2, 3];
        let got = read_message(&mut &long[..]).await.ok();
        assert_eq!(got, Some(vec![1, 2, 3]));
        long[2] = 0xff;
        assert!(matches!(
            read_message(&mut &long[..]).await,
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            read_message(&mut &b"HTTP/1.1"[..]).await,
            Err(ReadError::Malformed(_))
        ));
    }
}
