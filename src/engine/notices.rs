//! Order events the customer cares about, put into words in their language.

use super::{Choice, Message, Tap, Texts};
use crate::domain::claim::{ClaimOutcome, ClaimReason, ClaimStatus};
use crate::domain::order::Notice;
use crate::domain::{Currency, Money, OrderId};

pub struct NoticeContext<'a> {
    pub order_id: OrderId,
    pub order_code: &'a str,
    pub currency: Currency,
    pub locale: &'a str,
    /// How the shop writes amounts.
    pub amounts: crate::domain::AmountStyle,
    pub texts: &'a Texts,
    /// The shop's own wording, if any.
    pub messages: Option<&'a super::texts::MessageOverrides>,
}

/// Every [`kind`]: the pushes a shop can name a utility template for.
pub const KINDS: &[&str] = &[
    "order_confirmed",
    "slip_received",
    "slip_needs_shop_check",
    "slip_problem",
    "hold_reminder",
    "payment_confirmed",
    "payment_rejected",
    "shipped",
    "delivered",
    "delivery_failed",
    "cancelled",
    "expired",
    "cod_collected",
    "amount_due",
    "credited_to_balance",
    "refund_due",
    "refund_paid_back",
    "line_change_proposed",
    "order_updated_notice",
    "address_changed",
    "returned_to_stock",
    "made_by_shop",
    "claim_update",
    "service_done",
    "tracking_update",
    BALANCE_KIND,
];

/// The push kind of a deposit to or withdrawal from the shop balance.
pub const BALANCE_KIND: &str = "balance_moved";

/// What words need when no order is involved.
pub struct Words<'a> {
    pub currency: Currency,
    pub locale: &'a str,
    pub amounts: crate::domain::AmountStyle,
    pub texts: &'a Texts,
    pub messages: Option<&'a super::texts::MessageOverrides>,
}

/// A seller's deposit or withdrawal, told to the customer with what is
/// left, and a button to see the movements.
pub fn render_balance(
    kind: crate::domain::ledger::LedgerKind,
    amount: i64,
    balance: i64,
    w: &Words,
) -> Message {
    let money = |m: i64| Money::new(m, w.currency).display_as(w.locale, w.amounts);
    let key = if kind.is_credit() {
        "notice_balance_deposit"
    } else {
        "notice_balance_withdraw"
    };
    let text = w.texts.get_with(
        w.messages,
        w.locale,
        key,
        &[("amount", &money(amount)), ("balance", &money(balance))],
    );
    let see = w.texts.get_with(w.messages, w.locale, "btn_balance", &[]);
    Message::Text {
        text,
        quick_replies: vec![Choice::tap(see, &Tap::Balance)],
    }
}

/// A balance push's utility-template parameters: the amount, then the
/// balance after it.
pub fn balance_template_parameters(amount: i64, balance: i64, w: &Words) -> Vec<String> {
    let money = |m: i64| Money::new(m, w.currency).display_as(w.locale, w.amounts);
    vec![money(amount), money(balance)]
}

/// The template key a notice uses (also the key of a shop's utility
/// template for reaching a customer outside the 24-hour window).
pub fn kind(notice: &Notice) -> &'static str {
    match notice {
        Notice::OrderConfirmed => "order_confirmed",
        Notice::SlipReceived => "slip_received",
        Notice::SlipNeedsShopCheck => "slip_needs_shop_check",
        Notice::SlipProblem { .. } => "slip_problem",
        Notice::HoldReminder { .. } => "hold_reminder",
        Notice::PaymentConfirmed { .. } => "payment_confirmed",
        Notice::PaymentRejected { .. } => "payment_rejected",
        Notice::Shipped { .. } => "shipped",
        Notice::Delivered => "delivered",
        Notice::DeliveryFailed => "delivery_failed",
        Notice::Cancelled { .. } => "cancelled",
        Notice::Expired => "expired",
        Notice::CodCollected => "cod_collected",
        Notice::AmountDue { .. } => "amount_due",
        Notice::CreditedToBalance { .. } => "credited_to_balance",
        Notice::RefundDue { .. } => "refund_due",
        Notice::RefundPaidBack { .. } => "refund_paid_back",
        Notice::LineChangeProposed { .. } => "line_change_proposed",
        Notice::OrderUpdated => "order_updated_notice",
        Notice::AddressChanged { .. } => "address_changed",
        Notice::ReturnedToStock => "returned_to_stock",
        Notice::MadeByShop { .. } => "made_by_shop",
        Notice::ClaimUpdate { .. } => "claim_update",
        Notice::ServiceDone { .. } => "service_done",
        Notice::Tracking { .. } => "tracking_update",
    }
}

/// The values a utility template's body placeholders take, in order.
pub fn template_parameters(notice: &Notice, c: &NoticeContext) -> Vec<String> {
    let money = |m: i64| Money::new(m, c.currency).display_as(c.locale, c.amounts);
    let mut p = vec![c.order_code.to_string()];
    match notice {
        Notice::PaymentConfirmed { amount, .. }
        | Notice::AmountDue { amount, .. }
        | Notice::CreditedToBalance { amount }
        | Notice::RefundDue { amount }
        | Notice::RefundPaidBack { amount } => p.push(money(*amount)),
        Notice::PaymentRejected { reason } | Notice::Cancelled { reason, .. } => {
            p.push(reason.clone())
        }
        Notice::AddressChanged { address } => p.push(address.clone()),
        Notice::MadeByShop { total } => p.push(money(*total)),
        Notice::ServiceDone { name, .. } => p.push(name.clone()),
        Notice::Tracking { status, .. } => p.push(c.texts.get_with(
            c.messages,
            c.locale,
            &format!("tracking_status_{}", status.as_str()),
            &[],
        )),
        Notice::Shipped { carrier, tracking } => p.push(
            format!("{carrier} {}", tracking.as_deref().unwrap_or(""))
                .trim()
                .to_string(),
        ),
        _ => {}
    }
    p
}

/// A changed line to accept or refuse, with the two buttons.
fn line_change_message(
    line_id: i64,
    name: &str,
    unit_price: i64,
    qty: i64,
    c: &NoticeContext,
) -> Message {
    let t = |key: &str, args: &[(&str, &str)]| {
        let mut all: Vec<(&str, &str)> = vec![("code", c.order_code)];
        all.extend_from_slice(args);
        c.texts.get_with(c.messages, c.locale, key, &all)
    };
    let price = Money::new(unit_price, c.currency).display_as(c.locale, c.amounts);
    let text = t(
        "notice_line_change",
        &[("name", name), ("qty", &qty.to_string()), ("price", &price)],
    );
    let answer = |accept| Tap::AnswerLineChange {
        order: c.order_id,
        line: line_id,
        accept,
    };
    let button = |key: &str, tap: Tap| Choice::tap(t(key, &[]), &tap);
    Message::Text {
        text,
        quick_replies: vec![
            button("btn_accept_change", answer(true)),
            button("btn_refuse_change", answer(false)),
        ],
    }
}

/// A text by key with its placeholders filled.
type Say<'a> = &'a dyn Fn(&str, &[(&str, &str)]) -> String;

/// A claim's news in the customer's words.
fn claim_words(
    reason: ClaimReason,
    status: ClaimStatus,
    outcome: Option<ClaimOutcome>,
    refund: Option<i64>,
    note: Option<&str>,
    t: Say,
    money: &dyn Fn(i64) -> String,
) -> String {
    let reason = t(&format!("claim_reason_{}", reason.as_str()), &[]);
    let mut s = match (status, outcome) {
        (ClaimStatus::Open, _) => t("notice_claim_received", &[("reason", &reason)]),
        (ClaimStatus::InProgress, _) => t("notice_claim_in_progress", &[]),
        (ClaimStatus::Resolved, Some(ClaimOutcome::Refund)) => t(
            "notice_claim_refund",
            &[("amount", &money(refund.unwrap_or(0)))],
        ),
        (ClaimStatus::Resolved, Some(ClaimOutcome::Reship)) => t("notice_claim_reship", &[]),
        (ClaimStatus::Resolved, _) => {
            return t("notice_claim_rejected", &[("reason", note.unwrap_or(""))]);
        }
    };
    if let Some(n) = note {
        s.push('\n');
        s.push_str(&t("claim_note_line", &[("note", n)]));
    }
    s
}

pub fn render(notice: &Notice, c: &NoticeContext) -> Message {
    let t = |key: &str, args: &[(&str, &str)]| {
        let mut all: Vec<(&str, &str)> = vec![("code", c.order_code)];
        all.extend_from_slice(args);
        c.texts.get_with(c.messages, c.locale, key, &all)
    };
    let money = |m: i64| Money::new(m, c.currency).display_as(c.locale, c.amounts);
    let button =
        |key: &str, tap: Tap| Choice::tap(c.texts.get_with(c.messages, c.locale, key, &[]), &tap);
    let view = button("btn_view_order", Tap::ShowOrder(c.order_id));
    let text = match notice {
        Notice::SlipProblem { problem } => t(&format!("slip_problem_{problem}"), &[]),
        Notice::HoldReminder { hours_left } => {
            let pay = button("btn_pay", Tap::PaymentMenu(c.order_id));
            return Message::Text {
                text: t(
                    "notice_hold_reminder",
                    &[("hours", &hours_left.to_string())],
                ),
                quick_replies: vec![pay, view],
            };
        }
        Notice::PaymentConfirmed { amount, remaining } => {
            let mut s = t("notice_payment_confirmed", &[("amount", &money(*amount))]);
            if *remaining > 0 {
                s.push('\n');
                s.push_str(&t("notice_remaining", &[("amount", &money(*remaining))]));
            }
            s
        }
        Notice::MadeByShop { total } => {
            let pay = button("btn_pay", Tap::PaymentMenu(c.order_id));
            return Message::Text {
                text: t("notice_made_by_shop", &[("total", &money(*total))]),
                quick_replies: vec![pay, view],
            };
        }
        Notice::AmountDue { amount, total } => {
            // "Pay" opens the payment menu: the shop's bank details, or a
            // payment QR for exactly what is still owed.
            let pay = button("btn_pay", Tap::PaymentMenu(c.order_id));
            return Message::Text {
                text: t(
                    "notice_amount_due",
                    &[("amount", &money(*amount)), ("total", &money(*total))],
                ),
                quick_replies: vec![pay, view],
            };
        }
        Notice::CreditedToBalance { amount } => {
            t("notice_credited_to_balance", &[("amount", &money(*amount))])
        }
        Notice::RefundDue { amount } => t("notice_refund_due", &[("amount", &money(*amount))]),
        Notice::RefundPaidBack { amount } => {
            t("notice_refund_paid_back", &[("amount", &money(*amount))])
        }
        Notice::PaymentRejected { reason } => t("notice_payment_rejected", &[("reason", reason)]),
        Notice::AddressChanged { address } => t("notice_address_changed", &[("address", address)]),
        Notice::Shipped { carrier, tracking } => match tracking {
            Some(tr) => t(
                "notice_shipped_tracking",
                &[("carrier", carrier), ("tracking", tr)],
            ),
            None => t("notice_shipped", &[("carrier", carrier)]),
        },
        Notice::Cancelled { reason, refunded } => {
            let mut s = if reason.is_empty() {
                t("notice_cancelled", &[])
            } else {
                t("notice_cancelled_reason", &[("reason", reason)])
            };
            if *refunded > 0 {
                s.push('\n');
                s.push_str(&t("notice_refunded", &[("amount", &money(*refunded))]));
            }
            s
        }
        Notice::LineChangeProposed {
            line_id,
            name,
            unit_price,
            qty,
        } => return line_change_message(*line_id, name, *unit_price, *qty, c),
        Notice::ClaimUpdate {
            reason,
            status,
            outcome,
            refund,
            note,
            ..
        } => claim_words(
            *reason,
            *status,
            *outcome,
            *refund,
            note.as_deref(),
            &t,
            &money,
        ),
        Notice::ServiceDone { name, charged } if *charged > 0 => t(
            "notice_service_done_charged",
            &[("service", name), ("amount", &money(*charged))],
        ),
        Notice::ServiceDone { name, .. } => t("notice_service_done", &[("service", name)]),
        Notice::Tracking { status, note } => {
            let mut text = t(&format!("notice_tracking_{}", status.as_str()), &[]);
            if let Some(note) = note {
                text.push('\n');
                text.push_str(note);
            }
            text
        }
        other => t(&format!("notice_{}", kind(other)), &[]),
    };
    Message::Text {
        text,
        quick_replies: vec![view],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_lists_every_notice_once() {
        let s = String::new;
        let all = [
            Notice::OrderConfirmed,
            Notice::SlipReceived,
            Notice::SlipNeedsShopCheck,
            Notice::SlipProblem { problem: s() },
            Notice::HoldReminder { hours_left: 1 },
            Notice::PaymentConfirmed {
                amount: 1,
                remaining: 0,
            },
            Notice::PaymentRejected { reason: s() },
            Notice::Shipped {
                carrier: s(),
                tracking: None,
            },
            Notice::Delivered,
            Notice::DeliveryFailed,
            Notice::Cancelled {
                reason: s(),
                refunded: 0,
            },
            Notice::Expired,
            Notice::CodCollected,
            Notice::AmountDue {
                amount: 1,
                total: 1,
            },
            Notice::CreditedToBalance { amount: 1 },
            Notice::RefundDue { amount: 1 },
            Notice::RefundPaidBack { amount: 1 },
            Notice::LineChangeProposed {
                line_id: 1,
                name: s(),
                unit_price: 1,
                qty: 1,
            },
            Notice::OrderUpdated,
            Notice::AddressChanged { address: s() },
            Notice::ReturnedToStock,
            Notice::MadeByShop { total: 1 },
            Notice::ClaimUpdate {
                claim_id: 1,
                reason: ClaimReason::Other,
                status: ClaimStatus::Open,
                outcome: None,
                refund: None,
                note: None,
            },
            Notice::ServiceDone {
                name: s(),
                charged: 0,
            },
            Notice::Tracking {
                status: crate::domain::order::TrackingStatus::InTransit,
                note: None,
            },
        ];
        let mut kinds: Vec<&str> = all.iter().map(kind).collect();
        kinds.push(BALANCE_KIND);
        assert_eq!(kinds, KINDS);
    }

    #[test]
    fn every_claim_step_reads_in_each_language() {
        let texts = Texts::embedded();
        for locale in ["en", "th", "vi"] {
            let c = NoticeContext {
                order_id: OrderId(1),
                order_code: "CB-TEST0001",
                currency: Currency::THB,
                locale,
                amounts: Default::default(),
                texts: &texts,
                messages: None,
            };
            let say = |status, outcome, refund, note: Option<&str>| {
                render(
                    &Notice::ClaimUpdate {
                        claim_id: 1,
                        reason: ClaimReason::WrongItem,
                        status,
                        outcome,
                        refund,
                        note: note.map(str::to_string),
                    },
                    &c,
                )
                .plain()
            };
            let cases = [
                say(ClaimStatus::InProgress, None, None, None),
                say(
                    ClaimStatus::Resolved,
                    Some(ClaimOutcome::Refund),
                    Some(5_000),
                    None,
                ),
                say(
                    ClaimStatus::Resolved,
                    Some(ClaimOutcome::Reship),
                    None,
                    Some("Sent today"),
                ),
                say(
                    ClaimStatus::Resolved,
                    Some(ClaimOutcome::Rejected),
                    None,
                    Some("Worn"),
                ),
            ];
            for text in &cases {
                assert!(text.contains("CB-TEST0001"), "{locale}: {text}");
                assert!(
                    !text.contains("notice_") && !text.contains('{'),
                    "{locale}: {text}"
                );
            }
            assert!(cases[1].contains("50"), "{locale}: {}", cases[1]);
            assert!(cases[2].contains("Sent today"), "{locale}: {}", cases[2]);
            assert!(cases[3].contains("Worn"), "{locale}: {}", cases[3]);
        }
    }
}
