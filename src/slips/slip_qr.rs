//! The verification QR printed on Thai bank slips ("mini QR"): sending bank
//! and transaction reference, no amount. Reading it tells which transfer a
//! slip claims to be; (bank, reference) is unique per real transfer, which
//! is what catches a re-used slip.

use super::emvco::{self, CrcCheck};

/// What a QR found on a slip image says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlipQr {
    /// A well-formed slip verification QR with a valid checksum.
    Slip { bank: String, trans_ref: String },
    /// A payment QR (PromptPay / VietQR): the customer sent a bill's QR,
    /// not a transfer slip.
    PaymentQr,
    /// Shaped like a slip QR, but its checksum is wrong.
    BadChecksum,
    /// Something else, or a slip QR missing required fields.
    Malformed,
}

impl SlipQr {
    pub fn status(&self) -> &'static str {
        match self {
            SlipQr::Slip { .. } => "ok",
            SlipQr::PaymentQr => "payment_qr",
            SlipQr::BadChecksum => "bad_checksum",
            SlipQr::Malformed => "malformed",
        }
    }
}

/// Classifies the text of a decoded QR.
pub fn classify(raw: &str) -> SlipQr {
    let raw = raw.trim();
    if raw.starts_with("000201") {
        if let Some(root) = emvco::parse(raw)
            && root
                .iter()
                .any(|(t, _)| matches!(*t, "26" | "29" | "30" | "38"))
        {
            return SlipQr::PaymentQr;
        }
        if matches!(emvco::check_crc(raw, "63"), CrcCheck::Valid(_)) {
            return SlipQr::PaymentQr;
        }
    }
    match emvco::check_crc(raw, "91") {
        CrcCheck::Valid(p) => parse_valid(&p).unwrap_or(SlipQr::Malformed),
        CrcCheck::Mismatch => {
            // Only call it a checksum problem when the rest is a slip QR.
            if raw.starts_with("00") && raw.contains("5102TH") {
                SlipQr::BadChecksum
            } else {
                SlipQr::Malformed
            }
        }
        CrcCheck::Missing => SlipQr::Malformed,
    }
}

fn parse_valid(p: &str) -> Option<SlipQr> {
    let root = emvco::parse(p)?;
    let find = |k: &str| root.iter().find(|(t, _)| *t == k).map(|(_, v)| *v);
    if find("51")? != "TH" {
        return None;
    }
    let sub = emvco::parse(find("00")?)?;
    let get = |k: &str| sub.iter().find(|(t, _)| *t == k).map(|(_, v)| *v);
    let reference_ok =
        |r: &str| !r.is_empty() && r.len() <= 25 && r.bytes().all(|b| b.is_ascii_alphanumeric());
    match (get("00")?, get("01")?) {
        ("000001", bank) => {
            let tr = get("02")?;
            (bank.len() == 3 && bank.bytes().all(|b| b.is_ascii_digit()) && reference_ok(tr)).then(
                || SlipQr::Slip {
                    bank: bank.to_string(),
                    trans_ref: tr.to_string(),
                },
            )
        }
        // TrueMoney Wallet: 00 = 01, 01 = 01, 03 = transaction id.
        ("01", "01") => {
            let tr = get("03")?;
            reference_ok(tr).then(|| SlipQr::Slip {
                bank: "truemoney".to_string(),
                trans_ref: tr.to_string(),
            })
        }
        _ => None,
    }
}

/// Builds a slip QR string (for tests, fixtures and the benchmark).
pub fn build(bank: &str, trans_ref: &str) -> Result<String, emvco::TlvError> {
    let inner =
        emvco::tlv("00", "000001")? + &emvco::tlv("01", bank)? + &emvco::tlv("02", trans_ref)?;
    let body = emvco::tlv("00", &inner)? + &emvco::tlv("51", "TH")?;
    Ok(emvco::with_crc(&body, "91"))
}

/// Short name of a Thai bank by its BOT code, for the seller's view.
pub fn bank_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "002" => "Bangkok Bank",
        "004" => "Kasikornbank",
        "006" => "Krungthai",
        "011" => "TMBThanachart",
        "014" => "Siam Commercial Bank",
        "017" => "Citibank",
        "020" => "Standard Chartered",
        "022" => "CIMB Thai",
        "024" => "UOB",
        "025" => "Krungsri",
        "030" => "Government Savings Bank",
        "033" => "Government Housing Bank",
        "034" => "BAAC",
        "065" => "Thanachart",
        "066" => "Islamic Bank of Thailand",
        "067" => "TISCO",
        "069" => "Kiatnakin Phatra",
        "070" => "ICBC (Thai)",
        "071" => "Thai Credit",
        "073" => "LH Bank",
        "truemoney" => "TrueMoney Wallet",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slip(bank: &str, r: &str) -> SlipQr {
        SlipQr::Slip {
            bank: bank.into(),
            trans_ref: r.into(),
        }
    }

    #[test]
    fn reference_vectors() {
        assert_eq!(
            classify("0041000600000101030040220016123142530ABC012345102TH910486B3"),
            slip("004", "016123142530ABC01234")
        );
        assert_eq!(
            classify("0041000600000101030040220016123142530ABC012345102TH910486b3"),
            slip("004", "016123142530ABC01234")
        );
        assert_eq!(
            classify("004100060000010103004022001612314000016ABC0165102TH9104A56"),
            slip("004", "01612314000016ABC016")
        );
        assert_eq!(
            classify("004100060000010103004022001612314000016ABC0165102TH91040A56"),
            slip("004", "01612314000016ABC016")
        );
        assert_eq!(
            classify("0041000600000101030040220016123142530ABC012345102TH91048600"),
            SlipQr::BadChecksum
        );
        assert_eq!(
            classify("00020101021129370016A0000006770101110113006681234567853037645802TH6304823E"),
            SlipQr::PaymentQr
        );
        assert_eq!(classify("https://example.com/"), SlipQr::Malformed);
        assert_eq!(classify(""), SlipQr::Malformed);
    }

    #[test]
    fn builder_matches_the_reference() {
        assert_eq!(
            build("004", "016123142530ABC01234").unwrap(),
            "0041000600000101030040220016123142530ABC012345102TH910486B3"
        );
    }

    #[test]
    fn wrong_api_type_or_bank_is_malformed() {
        let inner = emvco::tlv("00", "000002").unwrap()
            + &emvco::tlv("01", "004").unwrap()
            + &emvco::tlv("02", "REF1").unwrap();
        let p = emvco::with_crc(
            &(emvco::tlv("00", &inner).unwrap() + &emvco::tlv("51", "TH").unwrap()),
            "91",
        );
        assert_eq!(classify(&p), SlipQr::Malformed);
        assert_eq!(classify(&build("04", "REF1").unwrap()), SlipQr::Malformed);
    }
}
