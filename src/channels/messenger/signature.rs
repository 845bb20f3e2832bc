//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the app secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// True only for `sha256=<64 hex>` matching the body. The comparison is
/// constant-time (`verify_slice`).
pub fn verify(app_secret: &[u8], header: Option<&str>, body: &[u8]) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(sig) = decode_hex(hex) else {
        return false;
    };
    if sig.len() != 32 {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The header value Meta would send for `body`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", crate::clock::hex(&mac.finalize().into_bytes()))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_right_signature_over_the_raw_bytes() {
        let body = br#"{"object":"page","entry":[{"text":"\u0e2a\u0e27\u0e31"}]}"#;
        let good = sign(b"secret", body);
        assert!(verify(b"secret", Some(&good), body));
        assert!(verify(
            b"secret",
            Some(&good.to_uppercase().replace("SHA256=", "sha256=")),
            body
        ));
        assert!(!verify(b"other", Some(&good), body));
        assert!(!verify(b"secret", None, body));
        assert!(!verify(b"secret", Some("sha1=abcd"), body));
        assert!(!verify(b"secret", Some("sha256=zz"), body));
        assert!(!verify(b"secret", Some(&good[..good.len() - 2]), body));
        // Re-encoding the same JSON changes the bytes, so it must fail.
        let reencoded = r#"{"object":"page","entry":[{"text":"สวั"}]}"#;
        assert!(!verify(b"secret", Some(&good), reencoded.as_bytes()));
    }
}
