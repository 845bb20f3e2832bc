//! EMVCo tag-length-value strings: the grammar shared by PromptPay, VietQR
//! and the verification QR printed on Thai bank slips, and their CRC.

/// CRC-16/CCITT-FALSE (catalogue name CRC-16/IBM-3740): poly 0x1021, init
/// 0xFFFF, no reflection, no final xor. Check value of `123456789` is 0x29B1.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("tag {0} value is empty or longer than 99 characters")]
    Length(String),
    #[error("tag {0} value is not printable ASCII")]
    NotAscii(String),
}

/// One data object: two-digit id, two-digit length, value.
pub fn tlv(id: &str, value: &str) -> Result<String, TlvError> {
    if value.is_empty() || value.len() > 99 {
        return Err(TlvError::Length(id.to_string()));
    }
    if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(TlvError::NotAscii(id.to_string()));
    }
    Ok(format!("{id}{:02}{value}", value.len()))
}

/// Appends `<crc_tag>04` and the CRC over everything up to and including it.
pub fn with_crc(body: &str, crc_tag: &str) -> String {
    let s = format!("{body}{crc_tag}04");
    let crc = crc16(s.as_bytes());
    format!("{s}{crc:04X}")
}

/// Splits a TLV string into (id, value) pairs; `None` if it does not parse
/// to the end exactly. Order is kept, never relied upon.
pub fn parse(s: &str) -> Option<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let id = s.get(i..i + 2)?;
        if !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let len_s = s.get(i + 2..i + 4)?;
        if !len_s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let len: usize = len_s.parse().ok()?;
        out.push((id, s.get(i + 4..i + 4 + len)?));
        i += 4 + len;
    }
    Some(out)
}

/// Outcome of checking the CRC that ends a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrcCheck {
    /// The CRC matches; the payload with the CRC normalised (upper case,
    /// four digits).
    Valid(String),
    /// A CRC element is there but its value is wrong.
    Mismatch,
    /// The payload does not end in a `<tag>04<hex>` element.
    Missing,
}

/// Walks the TLV from the start; the last element must be `crc_tag` with a
/// hex value. Accepts lower case, and 1–3 digits (leading zeros dropped, as
/// some Thai bank apps print) padded back to 4.
pub fn check_crc(payload: &str, crc_tag: &str) -> CrcCheck {
    let p = payload.trim();
    let mut i = 0;
    while i + 4 <= p.len() {
        let (Some(id), Some(len_s)) = (p.get(i..i + 2), p.get(i + 2..i + 4)) else {
            return CrcCheck::Missing;
        };
        if id == crc_tag && len_s == "04" {
            let got = &p[i + 4..];
            if got.is_empty() || got.len() > 4 || !got.bytes().all(|b| b.is_ascii_hexdigit()) {
                // Not the last element or not hex: keep walking as a
                // normal element if it can be, else give up.
                if got.len() > 4 {
                    i += 8;
                    continue;
                }
                return CrcCheck::Missing;
            }
            let body = &p[..i + 4];
            let want = format!("{:04X}", crc16(body.as_bytes()));
            let got = format!("{:0>4}", got.to_ascii_uppercase());
            return if got == want {
                CrcCheck::Valid(format!("{body}{want}"))
            } else {
                CrcCheck::Mismatch
            };
        }
        let Ok(len) = len_s.parse::<usize>() else {
            return CrcCheck::Missing;
        };
        if !id.bytes().all(|b| b.is_ascii_digit()) || !len_s.bytes().all(|b| b.is_ascii_digit()) {
            return CrcCheck::Missing;
        }
        i += 4 + len;
    }
    CrcCheck::Missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    #[test]
    fn tlv_round_trip() {
        let s = tlv("00", "01").unwrap() + &tlv("29", "abc").unwrap();
        assert_eq!(s, "000201".to_string() + "2903abc");
        assert_eq!(parse(&s).unwrap(), vec![("00", "01"), ("29", "abc")]);
        assert!(parse("0005ab").is_none());
        assert!(tlv("01", "").is_err());
        assert!(tlv("01", &"x".repeat(100)).is_err());
    }

    #[test]
    fn crc_checks() {
        let p = "00020101021129370016A0000006770101110113006681234567853037645802TH6304823E";
        assert!(matches!(check_crc(p, "63"), CrcCheck::Valid(_)));
        assert!(
            matches!(check_crc(&p.replace("823E", "823e"), "63"), CrcCheck::Valid(v) if v == p)
        );
        assert_eq!(
            check_crc(&p.replace("823E", "823F"), "63"),
            CrcCheck::Mismatch
        );
        assert_eq!(check_crc("hello world", "63"), CrcCheck::Missing);
    }
}
