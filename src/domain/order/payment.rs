//! Money rules: slips, the seller's confirmation or rejection, cash on
//! delivery, and paying from the customer's shop balance.

use super::draft::{Draft, positive};
use super::{LedgerMove, Notice, OrderError, PaymentMethod, PaymentRecord, PaymentRowStatus};
use crate::domain::ledger::LedgerKind;
use crate::domain::lifecycle::InWords;
use crate::domain::lifecycle::{
    self as lc, Actor, FulfilmentEvent as FE, PaymentEvent as PE, PaymentStatus,
};
use crate::domain::money::Money;

pub(super) fn submit_slip(
    d: &mut Draft,
    suspicious: bool,
    actor: &Actor,
) -> Result<(), OrderError> {
    if !lc::holds_stock(d.order.fulfilment) {
        return Err(OrderError::Policy(format!(
            "the order is {}; it takes no slip now",
            d.order.fulfilment.in_words()
        )));
    }
    // A second slip while one is under review is added, not a new state.
    if d.order.payment != PaymentStatus::PendingReview {
        d.pay(PE::SubmitSlip, actor)?;
    }
    if d.order.method.is_none() {
        d.order.method = Some(PaymentMethod::BankTransfer);
    }
    d.notices.push(if suspicious {
        Notice::SlipNeedsShopCheck
    } else {
        Notice::SlipReceived
    });
    Ok(())
}

/// A seller's confirmation of money received.
pub(super) struct Confirmation {
    pub(super) amount: Option<i64>,
    pub(super) credit_excess: bool,
    pub(super) slip: bool,
}

/// The seller confirms the amount the slip shows. Above what is owed is
/// refused, unless the excess is explicitly credited to the customer's
/// balance (the edge lets only an owner ask for that).
pub(super) fn confirm(d: &mut Draft, c: Confirmation, actor: &Actor) -> Result<(), OrderError> {
    if !lc::holds_stock(d.order.fulfilment) {
        return Err(OrderError::Policy(format!(
            "the order is {}; refund or reject instead",
            d.order.fulfilment.in_words()
        )));
    }
    // State first, so a double confirmation says "already paid".
    lc::next_payment(d.order.payment, PE::ConfirmSettles, actor)?;
    let owed = d.remaining()?;
    let amount = positive(c.amount.unwrap_or(owed), "the amount")?;
    let excess = amount.saturating_sub(owed).max(0);
    if excess > 0 && !(c.credit_excess && matches!(actor, Actor::Seller(_))) {
        return Err(OrderError::BadInput(format!(
            "{} is more than the {} still owed; confirm what is owed, or (owner only) \
             record the excess as a credit to the customer's balance with credit_excess",
            Money::new(amount, d.order.currency),
            Money::new(owed, d.order.currency)
        )));
    }
    d.record_payment(
        amount - excess,
        PE::ConfirmSettles,
        PE::ConfirmPartly,
        actor,
    )?;
    if !c.slip {
        d.payments.push(PaymentRecord {
            method: d.order.method.unwrap_or(PaymentMethod::BankTransfer),
            amount,
            status: PaymentRowStatus::Confirmed,
            difference: 0,
        });
    }
    let remaining = d.remaining()?;
    d.notices
        .push(Notice::PaymentConfirmed { amount, remaining });
    if excess > 0 {
        d.ledger.push(LedgerMove {
            kind: LedgerKind::Credit,
            amount: excess,
        });
        d.notices.push(Notice::CreditedToBalance { amount: excess });
    }
    Ok(())
}

pub(super) fn reject(d: &mut Draft, reason: String, actor: &Actor) -> Result<(), OrderError> {
    let reason = reason.trim().to_string();
    if reason.is_empty() {
        return Err(OrderError::BadInput(
            "a reason is required to reject a slip".into(),
        ));
    }
    d.pay(PE::Reject, actor)?;
    d.reason = Some(reason.clone());
    d.notices.push(Notice::PaymentRejected { reason });
    Ok(())
}

pub(super) fn choose_cod(d: &mut Draft, actor: &Actor) -> Result<(), OrderError> {
    d.pay(PE::ChooseCod, actor)?;
    d.order.method = Some(PaymentMethod::Cod);
    if d.rules.cod_fee > 0 && !d.order.fees.iter().any(|f| f.label == super::COD_FEE_LABEL) {
        d.order.fees.push(super::Fee {
            label: super::COD_FEE_LABEL.into(),
            amount: d.rules.cod_fee,
        });
    }
    Ok(())
}

/// The courier's cash reached the shop: the order completes with it. What
/// was collected is checked against what is owed: the order takes at most
/// what it owes, and a short or long remittance is a `difference` payment
/// row the seller must resolve (a short one leaves the order partly paid).
pub(super) fn collect_cod(
    d: &mut Draft,
    amount: Option<i64>,
    actor: &Actor,
) -> Result<(), OrderError> {
    // State first, so a wrong state wins over a bad amount.
    lc::next_fulfilment(d.order.fulfilment, FE::CollectCod, actor)?;
    let owed = d.remaining()?;
    let collected = positive(amount.unwrap_or(owed), "the amount")?;
    d.fulfil(FE::CollectCod, actor)?;
    d.pay(PE::CollectCod, actor)?;
    let applied = collected.min(owed);
    let difference = collected - owed;
    d.order.paid += applied;
    d.payments.push(PaymentRecord {
        method: PaymentMethod::Cod,
        amount: applied,
        status: if difference == 0 {
            PaymentRowStatus::Confirmed
        } else {
            PaymentRowStatus::Difference
        },
        difference,
    });
    d.notices.push(Notice::CodCollected);
    Ok(())
}

/// The seller settled a COD remittance that did not match, or paid a
/// refund due back by hand. The amounts stay as they were written (the
/// money moved when the row was made); the resolution is recorded beside
/// the row, in the history, and a refund paid back is told to the customer.
pub(super) fn resolve(
    d: &mut Draft,
    payment_id: i64,
    note: String,
    row: Option<super::OpenPayment>,
    actor: &Actor,
) -> Result<(), OrderError> {
    if !matches!(actor, Actor::Seller(_)) {
        return Err(OrderError::Policy(
            "only the shop resolves a payment".into(),
        ));
    }
    let row = row.ok_or_else(|| {
        OrderError::BadInput(format!(
            "payment {payment_id} is not a payment of this order"
        ))
    })?;
    if row.resolved {
        return Err(OrderError::Policy(format!(
            "payment {payment_id} is already resolved"
        )));
    }
    match PaymentRowStatus::parse(&row.status) {
        Some(PaymentRowStatus::Difference) => d.record(PE::ResolveDifference),
        Some(PaymentRowStatus::RefundDue) => {
            d.record(PE::RefundPaidBack);
            d.notices.push(Notice::RefundPaidBack {
                amount: row.amount.saturating_neg(),
            });
        }
        _ => {
            return Err(OrderError::Policy(format!(
                "payment {payment_id} is {}; only a COD difference or a refund due is resolved",
                row.status
            )));
        }
    }
    let note = note.trim().to_string();
    d.reason = (!note.is_empty()).then(|| note.clone());
    d.resolutions.push(super::Resolution { payment_id, note });
    Ok(())
}

/// `available` is the customer's balance as the caller read it; with
/// `allow_negative` the shop lets the balance go below zero.
pub(super) fn pay_from_balance(
    d: &mut Draft,
    available: i64,
    allow_negative: bool,
    actor: &Actor,
) -> Result<(), OrderError> {
    if !lc::holds_stock(d.order.fulfilment) {
        return Err(OrderError::Policy(format!(
            "the order is {}; it takes no slip now",
            d.order.fulfilment.in_words()
        )));
    }
    let remaining = d.remaining()?;
    if remaining <= 0 {
        return Err(OrderError::Policy("the order is already paid".into()));
    }
    let amount = if allow_negative {
        remaining
    } else {
        remaining.min(available)
    };
    if amount <= 0 {
        return Err(OrderError::Policy("the balance is empty".into()));
    }
    if amount < remaining && *actor == Actor::Customer {
        return Err(OrderError::Policy(format!(
            "the balance covers {} of {}",
            Money::new(available, d.order.currency),
            Money::new(remaining, d.order.currency)
        )));
    }
    d.record_payment(
        amount,
        PE::PayFromBalanceSettles,
        PE::PayFromBalancePartly,
        actor,
    )?;
    if d.order.method.is_none() {
        d.order.method = Some(PaymentMethod::Balance);
    }
    d.ledger.push(LedgerMove {
        kind: LedgerKind::PayOrder,
        amount,
    });
    let remaining = d.remaining()?;
    d.notices
        .push(Notice::PaymentConfirmed { amount, remaining });
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::domain::lifecycle::{Actor, Fulfilment, PaymentStatus};
    use crate::domain::order::tests::{order, seller};
    use crate::domain::order::*;

    #[test]
    fn slip_then_confirm_pays_and_confirms_the_order() {
        let o = order();
        let p = decide(
            &o,
            Command::SubmitSlip { suspicious: false },
            &Actor::Customer,
        )
        .unwrap();
        assert_eq!(p.order.payment, PaymentStatus::PendingReview);
        // A second slip is added without a new transition.
        let p2 = decide(
            &p.order,
            Command::SubmitSlip { suspicious: false },
            &Actor::Customer,
        )
        .unwrap();
        assert!(p2.transitions.is_empty());
        let p3 = decide(
            &p2.order,
            Command::ConfirmPayment {
                amount: None,
                credit_excess: false,
                slip: false,
            },
            &seller(),
        )
        .unwrap();
        assert_eq!(p3.order.payment, PaymentStatus::Paid);
        assert_eq!(p3.order.fulfilment, Fulfilment::Confirmed);
        assert_eq!(p3.transitions.len(), 2);
        assert_eq!(p3.order.totals().remaining.minor, 0);
        assert_eq!(
            p3.notices,
            vec![Notice::PaymentConfirmed {
                amount: 64_900,
                remaining: 0
            }]
        );
        // Double confirmation is a conflict, not a second payment.
        assert!(
            decide(
                &p3.order,
                Command::ConfirmPayment {
                    amount: None,
                    credit_excess: false,
                    slip: false
                },
                &seller()
            )
            .is_err()
        );
    }

    #[test]
    fn cod_path_ships_awaits_cod_and_collects() {
        let mut o = decide(&order(), Command::ChooseCod, &Actor::Customer)
            .unwrap()
            .order;
        for cmd in [
            Command::Confirm,
            Command::Ship {
                carrier: "Kerry".into(),
                tracking: Some("TH123".into()),
            },
            Command::Complete,
        ] {
            o = decide(&o, cmd, &seller()).unwrap().order;
        }
        assert_eq!(o.fulfilment, Fulfilment::AwaitingCod);
        let p = decide(&o, Command::CollectCod { amount: None }, &seller()).unwrap();
        assert_eq!(p.order.fulfilment, Fulfilment::Completed);
        assert_eq!(p.order.payment, PaymentStatus::CodCollected);
        assert_eq!(p.order.totals().remaining.minor, 0);
    }
}
