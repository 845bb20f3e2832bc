//! The payment QR on a bill: an EMVCo merchant-presented payload with the
//! exact amount (PromptPay for THB, VietQR for VND), rendered to PNG.

use super::emvco::{TlvError, tlv, with_crc};
use crate::domain::shop::PaymentQr;
use crate::domain::{Currency, Money};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentQrError {
    #[error("{scheme} bills are in {want}, not {got}")]
    Currency {
        scheme: &'static str,
        want: &'static str,
        got: String,
    },
    #[error("the amount must not be negative")]
    NegativeAmount,
    #[error(
        "PromptPay id must be a phone number (9–10 digits), a 13-digit national/tax id or a 15-digit e-wallet id"
    )]
    PromptpayId,
    #[error("VietQR bank BIN must be 6 digits and the account 1–19 letters or digits")]
    VietqrAccount,
    #[error("the shop has no payment QR configured")]
    NotConfigured,
    #[error(transparent)]
    Tlv(#[from] TlvError),
    #[error("QR encoding: {0}")]
    Encode(String),
}

const PROMPTPAY_AID: &str = "A000000677010111";
const NAPAS_GUID: &str = "A000000727";

/// The payload for `amount`; a zero amount gives a static QR (the payer
/// types the amount).
pub fn payload(qr: &PaymentQr, amount: Money) -> Result<String, PaymentQrError> {
    payload_with_memo(qr, amount, None)
}

/// As [`payload`], with a transfer memo (VietQR tag 62/08, folded to ASCII
/// letters and digits, ≤ 25 characters) so the order code shows on the
/// seller's statement. PromptPay credit transfers carry no memo.
pub fn payload_with_memo(
    qr: &PaymentQr,
    amount: Money,
    memo: Option<&str>,
) -> Result<String, PaymentQrError> {
    if amount.minor < 0 {
        return Err(PaymentQrError::NegativeAmount);
    }
    let dynamic = amount.minor > 0;
    let initiation = if dynamic { "12" } else { "11" };
    let mut body = tlv("00", "01")? + &tlv("01", initiation)?;
    match qr {
        PaymentQr::Promptpay { id } => {
            if amount.currency != Currency::THB {
                return Err(PaymentQrError::Currency {
                    scheme: "PromptPay",
                    want: "THB",
                    got: amount.currency.code().to_string(),
                });
            }
            let digits: String = id.chars().filter(char::is_ascii_digit).collect();
            let account = match digits.len() {
                13 => tlv("02", &digits)?,
                15 => tlv("03", &digits)?,
                9..=11 => {
                    let d = match digits.strip_prefix('0') {
                        Some(rest) => format!("66{rest}"),
                        None => digits.clone(),
                    };
                    if !d.starts_with("66") || d.len() != 11 {
                        return Err(PaymentQrError::PromptpayId);
                    }
                    tlv("01", &format!("{d:0>13}"))?
                }
                _ => return Err(PaymentQrError::PromptpayId),
            };
            body += &tlv("29", &(tlv("00", PROMPTPAY_AID)? + &account))?;
            body += &tlv("53", "764")?;
            if dynamic {
                body += &tlv("54", &amount.to_decimal_string())?;
            }
            body += &tlv("58", "TH")?;
        }
        PaymentQr::Vietqr { bank_bin, account } => {
            if amount.currency != Currency::VND {
                return Err(PaymentQrError::Currency {
                    scheme: "VietQR",
                    want: "VND",
                    got: amount.currency.code().to_string(),
                });
            }
            let bin = bank_bin.trim();
            let account = account.trim();
            if bin.len() != 6
                || !bin.bytes().all(|b| b.is_ascii_digit())
                || account.is_empty()
                || account.len() > 19
                || !account.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(PaymentQrError::VietqrAccount);
            }
            let beneficiary = tlv("00", bin)? + &tlv("01", account)?;
            let merchant =
                tlv("00", NAPAS_GUID)? + &tlv("01", &beneficiary)? + &tlv("02", "QRIBFTTA")?;
            body += &tlv("38", &merchant)?;
            body += &tlv("53", "704")?;
            if dynamic {
                body += &tlv("54", &amount.to_decimal_string())?;
            }
            body += &tlv("58", "VN")?;
            let memo: String = memo
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(25)
                .collect();
            if !memo.is_empty() {
                body += &tlv("62", &tlv("08", &memo)?)?;
            }
        }
    }
    Ok(with_crc(&body, "63"))
}

/// Renders a payload as a PNG (at least 512 px, with the quiet zone).
pub fn render_png(payload: &str) -> Result<Vec<u8>, PaymentQrError> {
    use image::ImageEncoder;
    let code = qrcode::QrCode::new(payload.as_bytes())
        .map_err(|e| PaymentQrError::Encode(e.to_string()))?;
    let img = code
        .render::<image::Luma<u8>>()
        .min_dimensions(512, 512)
        .quiet_zone(true)
        .build();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| PaymentQrError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thb(minor: i64) -> Money {
        Money::new(minor, Currency::THB)
    }
    fn vnd(minor: i64) -> Money {
        Money::new(minor, Currency::VND)
    }
    fn pp(id: &str) -> PaymentQr {
        PaymentQr::Promptpay { id: id.into() }
    }

    #[test]
    fn promptpay_worked_examples() {
        assert_eq!(
            payload(&pp("081-234-5678"), thb(125_050)).unwrap(),
            "00020101021229370016A00000067701011101130066812345678530376454071250.505802TH6304ABEB"
        );
        assert_eq!(
            payload(&pp("+66 81 234 5678"), thb(0)).unwrap(),
            "00020101021129370016A0000006770101110113006681234567853037645802TH6304823E"
        );
        assert_eq!(
            payload(&pp("1234567890121"), thb(9_900)).unwrap(),
            "00020101021229370016A000000677010111021312345678901215303764540599.005802TH630473C2"
        );
        assert_eq!(
            payload(&pp("140000812345678"), thb(3_500)).unwrap(),
            "00020101021229390016A00000067701011103151400008123456785303764540535.005802TH63043B5B"
        );
    }

    #[test]
    fn vietqr_worked_examples() {
        let q = PaymentQr::Vietqr {
            bank_bin: "970436".into(),
            account: "0011000123456".into(),
        };
        assert_eq!(
            payload_with_memo(&q, vnd(150_000), Some("DH1024")).unwrap(),
            "00020101021238570010A00000072701270006970436011300110001234560208QRIBFTTA530370454061500005802VN62100806DH102463048C5C"
        );
        assert_eq!(
            payload(&q, vnd(0)).unwrap(),
            "00020101021138570010A00000072701270006970436011300110001234560208QRIBFTTA53037045802VN6304B794"
        );
    }

    #[test]
    fn wrong_currency_and_ids_are_refused() {
        assert!(matches!(
            payload(&pp("0812345678"), vnd(100)),
            Err(PaymentQrError::Currency { .. })
        ));
        assert_eq!(
            payload(&pp("12345"), thb(100)),
            Err(PaymentQrError::PromptpayId)
        );
        assert_eq!(
            payload(&pp("0812345678"), thb(-1)),
            Err(PaymentQrError::NegativeAmount)
        );
        let bad = PaymentQr::Vietqr {
            bank_bin: "97".into(),
            account: "1".into(),
        };
        assert_eq!(payload(&bad, vnd(1)), Err(PaymentQrError::VietqrAccount));
    }

    #[test]
    fn rendered_png_decodes_back_to_the_payload() {
        let p = payload(&pp("081-234-5678"), thb(125_050)).unwrap();
        let png = render_png(&p).unwrap();
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .unwrap()
            .to_luma8();
        assert!(img.width() >= 512);
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, text) = grids[0].decode().unwrap();
        assert_eq!(text, p);
    }
}
