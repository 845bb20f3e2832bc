//! The names chatbill stores, as a seller reads them: "To review", not
//! `pending_review`; "Bank transfer", not `bank_transfer`. The console's
//! templates reach these as filters (`{{ o.payment_status | payment_words }}`),
//! so no page shows an internal name.

/// Where the goods are.
pub fn fulfilment(f: &str) -> String {
    match f {
        "placed" => "New",
        "confirmed" => "Confirmed",
        "shipping" => "On its way",
        "awaiting_cod" => "Delivered, waiting for the COD money",
        "completed" => "Completed",
        "failed" => "Delivery failed",
        "returned" => "Returned to stock",
        "cancelled" => "Cancelled",
        other => return readable(other),
    }
    .to_string()
}

/// Where the money is.
pub fn payment(p: &str) -> String {
    match p {
        "unpaid" => "Not paid",
        "pending_review" => "To review",
        "partially_paid" => "Partly paid",
        "paid" => "Paid",
        "rejected" => "Slip rejected",
        "cod_pending" => "Cash on delivery",
        "cod_collected" => "COD collected",
        "refunded" => "Refunded",
        "void" => "Nothing to pay",
        other => return readable(other),
    }
    .to_string()
}

pub fn method(m: &str) -> String {
    match m {
        "bank_transfer" => "Bank transfer",
        "qr_transfer" => "QR transfer",
        "cod" => "Cash on delivery",
        "balance" => "Shop balance",
        other => return readable(other),
    }
    .to_string()
}

/// One payment row's state.
pub fn payment_row(s: &str) -> String {
    match s {
        "fetching" => "Downloading the slip",
        "pending" | "pending_review" => "To review",
        "flagged" => "To review, needs a second look",
        "failed" => "Could not be read",
        "confirmed" => "Confirmed",
        "rejected" => "Rejected",
        "difference" => "Did not match what was owed",
        "refund_due" => "To pay back",
        other => return readable(other),
    }
    .to_string()
}

pub fn channel(c: &str) -> String {
    match c {
        "messenger" => "Messenger",
        "instagram" => "Instagram",
        "webchat" => "Web chat",
        "line" => "LINE",
        "shop" => "Made by the shop",
        other => return readable(other),
    }
    .to_string()
}

/// A slip pre-check flag.
pub fn flag(f: &str) -> String {
    match f {
        "exact_duplicate" => "The same picture was sent before",
        "reused_slip" => "This slip was already used",
        "qr_bad_checksum" => "The slip's QR does not check out",
        "payment_qr_not_slip" => "A payment QR, not a slip",
        "qr_malformed" => "The slip's QR cannot be read",
        "no_qr" => "No QR on the slip",
        "order_not_awaiting_payment" => "The order was not waiting for a payment",
        other => return readable(other),
    }
    .to_string()
}

/// A history row's event.
pub fn event(e: &str) -> String {
    match e {
        "confirm" => "Confirmed",
        "ship" => "Shipped",
        "deliver" => "Delivered",
        "deliver_awaiting_cod" => "Delivered, COD to collect",
        "collect_cod" => "COD collected",
        "fail_delivery" => "Delivery failed",
        "return_to_stock" => "Returned to stock",
        "cancel" => "Cancelled",
        "expire" => "Lapsed unpaid",
        "submit_slip" => "Slip sent",
        "amounts_changed" => "Amounts changed",
        "confirm_settles" => "Payment confirmed",
        "confirm_partly" => "Part of the payment confirmed",
        "reject" => "Slip rejected",
        "choose_cod" => "Changed to cash on delivery",
        "pay_from_balance_settles" => "Paid from the balance",
        "pay_from_balance_partly" => "Partly paid from the balance",
        "refund" => "Refunded",
        "void" => "Payment voided",
        "resolve_difference" => "Difference settled",
        "refund_paid_back" => "Refund paid back",
        other => return readable(other),
    }
    .to_string()
}

/// Any other stored name: its words with spaces, capitalised.
fn readable(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::lifecycle::{Fulfilment, PaymentStatus};
    use crate::domain::order::PaymentMethod;

    #[test]
    fn no_stored_name_is_shown_as_it_is_stored() {
        let shown = Fulfilment::ALL
            .iter()
            .map(|f| (f.as_str(), super::fulfilment(f.as_str())))
            .chain(
                PaymentStatus::ALL
                    .iter()
                    .map(|p| (p.as_str(), super::payment(p.as_str()))),
            )
            .chain(
                PaymentMethod::ALL
                    .iter()
                    .map(|m| (m.as_str(), super::method(m.as_str()))),
            );
        for (stored, words) in shown {
            assert!(
                !words.contains('_') && words != stored,
                "{stored} is shown as {words}"
            );
        }
        assert_eq!(super::flag("no_qr"), "No QR on the slip");
        assert_eq!(super::payment_row("some_new_state"), "Some new state");
    }
}
