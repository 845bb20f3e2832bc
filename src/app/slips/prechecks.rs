//! The pre-checks on a readable slip: a pure reading of its analysis and of
//! what the earlier payments showed (an identical file, the same slip
//! reference held by another payment).

use crate::domain::Currency;
use crate::slips::analyze::Analysis;
use crate::slips::slip_qr::{self, SlipQr};
use crate::store::payments::PaymentRef;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct PreChecks<'a> {
    pub(super) flags: Vec<&'static str>,
    /// The payment goes to the seller as `flagged` rather than `pending`.
    pub(super) suspicious: bool,
    /// The customer hears that the shop will look, not "pending".
    pub(super) customer_warned: bool,
    /// What the QR said, for the seller.
    pub(super) slip_qr: Value,
    /// The slip's bank and transaction reference, when this payment is the
    /// first to carry them: a later copy of the slip is then caught.
    pub(super) holds: Option<(&'a str, &'a str)>,
}

/// The bank and transaction reference of a slip verification QR.
pub(super) fn slip_ref(analysis: &Analysis) -> Option<(&str, &str)> {
    match analysis.qr.as_ref().map(|f| &f.qr) {
        Some(SlipQr::Slip { bank, trans_ref }) => Some((bank, trans_ref)),
        _ => None,
    }
}

/// `duplicate`: another payment has the identical file; `reused`: another
/// payment holds this slip's reference.
pub(super) fn assess(
    analysis: &Analysis,
    currency: Currency,
    duplicate: bool,
    reused: bool,
) -> PreChecks<'_> {
    let mut flags = Vec::new();
    if duplicate {
        flags.push("exact_duplicate");
    }
    let qr_status = analysis.qr.as_ref().map_or("missing", |f| f.qr.status());
    let mut holds = None;
    let mut qr_json = json!({ "status": qr_status });
    match analysis.qr.as_ref().map(|f| &f.qr) {
        Some(SlipQr::Slip { bank, trans_ref }) => {
            qr_json = json!({
                "status": "ok",
                "checksum_ok": true,
                "bank": bank,
                "bank_name": slip_qr::bank_name(bank),
                "trans_ref": trans_ref,
            });
            if reused {
                flags.push("reused_slip");
            } else {
                holds = Some((bank.as_str(), trans_ref.as_str()));
            }
        }
        Some(SlipQr::BadChecksum) => {
            flags.push("qr_bad_checksum");
            qr_json["checksum_ok"] = json!(false);
        }
        Some(SlipQr::PaymentQr) => flags.push("payment_qr_not_slip"),
        Some(SlipQr::Malformed) => flags.push("qr_malformed"),
        None => flags.push("no_qr"),
    }
    if let Some(f) = &analysis.qr
        && !matches!(f.qr, SlipQr::Slip { .. })
        && !f.text.is_empty()
    {
        qr_json["text"] = json!(f.text);
    }
    // Thai slips carry the verification QR; elsewhere a missing QR is normal.
    let missing_matters = currency == Currency::THB;
    let suspicious = reused
        || duplicate
        || matches!(qr_status, "bad_checksum" | "malformed" | "payment_qr")
        || (qr_status == "missing" && missing_matters);
    let customer_warned = reused || duplicate || matches!(qr_status, "bad_checksum" | "payment_qr");
    PreChecks {
        flags,
        suspicious,
        customer_warned,
        slip_qr: qr_json,
        holds,
    }
}

impl PreChecks<'_> {
    /// The slip reached an order that is not waiting for a payment.
    pub(super) fn order_not_awaiting_payment(&mut self) {
        self.flags.push("order_not_awaiting_payment");
        self.suspicious = true;
    }

    /// The record kept on the payment for the seller.
    pub(super) fn report(
        &self,
        analysis: &Analysis,
        duplicates: &[PaymentRef],
        reused: Option<&PaymentRef>,
        similar: Vec<Value>,
    ) -> Value {
        json!({
            "suspicious": self.suspicious,
            "flags": self.flags,
            "image": {
                "format": analysis.format,
                "width": analysis.width,
                "height": analysis.height,
                "bytes": analysis.bytes,
                "orientation_applied": analysis.orientation_applied,
            },
            "exact_duplicate_of": serde_json::to_value(duplicates).unwrap_or_default(),
            "slip_qr": self.slip_qr,
            "reused_from": reused,
            "similar_images": similar,
            "similar_is_hint_only": true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slips::analyze::QrFinding;

    fn analysis(qr: Option<SlipQr>, text: &str) -> Analysis {
        Analysis {
            sha256: "00".repeat(32),
            format: "png",
            bytes: 1000,
            width: 400,
            height: 800,
            orientation_applied: false,
            thumb_jpeg: Vec::new(),
            phash: "0000000000000000".into(),
            qr: qr.map(|qr| QrFinding {
                qr,
                text: text.into(),
            }),
        }
    }

    fn slip() -> Option<SlipQr> {
        Some(SlipQr::Slip {
            bank: "004".into(),
            trans_ref: "REF1".into(),
        })
    }

    #[test]
    fn a_missing_qr_is_the_sellers_flag_only_in_thailand() {
        let a = analysis(None, "");
        let thb = assess(&a, Currency::THB, false, false);
        assert_eq!(thb.flags, ["no_qr"]);
        assert!(thb.suspicious && !thb.customer_warned);
        assert_eq!(thb.slip_qr, json!({ "status": "missing" }));
        assert!(!assess(&a, Currency::VND, false, false).suspicious);
    }

    #[test]
    fn a_fresh_slip_holds_its_reference_and_a_reused_one_warns() {
        let a = analysis(slip(), "raw");
        let fresh = assess(&a, Currency::THB, false, false);
        assert!(fresh.flags.is_empty() && !fresh.suspicious && !fresh.customer_warned);
        assert_eq!(fresh.holds, Some(("004", "REF1")));
        assert_eq!(slip_ref(&a), Some(("004", "REF1")));
        assert_eq!(fresh.slip_qr["bank_name"], "Kasikornbank");
        assert!(
            fresh.slip_qr.get("text").is_none(),
            "a slip's text is not kept"
        );
        let copied = assess(&a, Currency::THB, true, true);
        assert_eq!(copied.flags, ["exact_duplicate", "reused_slip"]);
        assert!(copied.suspicious && copied.customer_warned);
        assert_eq!(copied.holds, None);
    }

    #[test]
    fn unreadable_and_wrong_qrs() {
        let malformed = analysis(Some(SlipQr::Malformed), "hello");
        let c = assess(&malformed, Currency::USD, false, false);
        assert_eq!(c.flags, ["qr_malformed"]);
        assert!(c.suspicious && !c.customer_warned);
        assert_eq!(c.slip_qr, json!({ "status": "malformed", "text": "hello" }));
        let bad = analysis(Some(SlipQr::BadChecksum), "");
        let c = assess(&bad, Currency::USD, false, false);
        assert_eq!(
            c.slip_qr,
            json!({ "status": "bad_checksum", "checksum_ok": false })
        );
        assert!(c.suspicious && c.customer_warned);
        let bill = analysis(Some(SlipQr::PaymentQr), "");
        let mut c = assess(&bill, Currency::USD, false, false);
        assert_eq!(c.flags, ["payment_qr_not_slip"]);
        assert!(c.customer_warned);
        c.order_not_awaiting_payment();
        assert_eq!(
            c.flags,
            ["payment_qr_not_slip", "order_not_awaiting_payment"]
        );
    }
}
