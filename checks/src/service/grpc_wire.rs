//! The two protobuf messages of `grpc.health.v1` and gRPC's length-prefixed framing, encoded
//! by hand: one string field out, one enum field back, not worth a code generator.

/// `HealthCheckRequest { string service = 1; }` in one gRPC frame (uncompressed).
pub fn request(service: &str) -> Vec<u8> {
    let mut msg = Vec::new();
    if !service.is_empty() {
        msg.push(0x0a); // field 1, wire type 2 (length-delimited)
        varint(service.len() as u64, &mut msg);
        msg.extend_from_slice(service.as_bytes());
    }
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    frame.extend_from_slice(&msg);
    frame
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The `status` of a `HealthCheckResponse` frame (0, UNKNOWN, when the field is absent, as
/// proto3 leaves defaults out); an error for a compressed or malformed frame.
pub fn response_status(body: &[u8]) -> Result<u64, String> {
    let [flag, a, b, c, d, rest @ ..] = body else {
        return Err(format!(
            "the answer is {} bytes, shorter than a gRPC frame",
            body.len()
        ));
    };
    if *flag != 0 {
        return Err("the answer is compressed, which prodcheck did not offer".into());
    }
    let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
    let msg = rest.get(..len).ok_or_else(|| {
        format!(
            "the gRPC frame announces {len} bytes but carries {}",
            rest.len()
        )
    })?;
    let mut at = 0;
    let mut status = 0;
    while at < msg.len() {
        let key = read_varint(msg, &mut at).ok_or("a malformed protobuf field")?;
        match key & 7 {
            0 => {
                let v = read_varint(msg, &mut at).ok_or("a malformed protobuf varint")?;
                if key >> 3 == 1 {
                    status = v;
                }
            }
            2 => {
                let n = read_varint(msg, &mut at).ok_or("a malformed protobuf length")? as usize;
                at = at
                    .checked_add(n)
                    .filter(|e| *e <= msg.len())
                    .ok_or("a truncated protobuf field")?;
            }
            5 => at += 4,
            1 => at += 8,
            _ => return Err("an unknown protobuf wire type".into()),
        }
    }
    Ok(status)
}

/// `ServingStatus` by number.
pub fn status_name(status: u64) -> &'static str {
    match status {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "an unknown status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_round_trip_by_hand() {
        assert_eq!(request(""), vec![0, 0, 0, 0, 0]);
        assert_eq!(request("ab"), vec![0, 0, 0, 0, 4, 0x0a, 2, b'a', b'b']);
        assert_eq!(response_status(&[0, 0, 0, 0, 2, 0x08, 1]), Ok(1));
        assert_eq!(response_status(&[0, 0, 0, 0, 2, 0x08, 2]), Ok(2));
        assert_eq!(response_status(&[0, 0, 0, 0, 0]), Ok(0));
        assert!(response_status(&[0, 0, 0, 0, 9, 0x08]).is_err());
        assert!(response_status(&[1, 0, 0, 0, 0]).is_err());
        assert_eq!(status_name(2), "NOT_SERVING");
    }
}
