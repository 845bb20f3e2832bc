//! The parcel's way: confirm, ship, deliver or fail, return to stock, and
//! the two ends that release the stock early (cancel, expire).

use super::draft::Draft;
use super::{Notice, OrderError};
use crate::domain::lifecycle::InWords;
use crate::domain::lifecycle::{
    self as lc, Actor, FulfilmentEvent as FE, PaymentEvent as PE, PaymentStatus,
};

pub(super) fn confirm(d: &mut Draft, actor: &Actor) -> Result<(), OrderError> {
    d.fulfil(FE::Confirm, actor)?;
    d.notices.push(Notice::OrderConfirmed);
    Ok(())
}

pub(super) fn ship(
    d: &mut Draft,
    carrier: String,
    tracking: Option<String>,
    actor: &Actor,
) -> Result<(), OrderError> {
    let carrier = carrier.trim().to_string();
    if carrier.is_empty() {
        return Err(OrderError::BadInput(
            "name the carrier, or the person shipping it".into(),
        ));
    }
    let tracking = tracking
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    d.fulfil(FE::Ship, actor)?;
    d.order.carrier = Some(carrier.clone());
    d.order.tracking = tracking.clone();
    d.notices.push(Notice::Shipped { carrier, tracking });
    Ok(())
}

/// Delivered; a cash-on-delivery order still waits for the courier's cash.
pub(super) fn complete(d: &mut Draft, actor: &Actor) -> Result<(), OrderError> {
    let event = if d.order.payment == PaymentStatus::CodPending {
        FE::DeliverAwaitingCod
    } else {
        FE::Deliver
    };
    d.fulfil(event, actor)?;
    d.notices.push(Notice::Delivered);
    Ok(())
}

pub(super) fn fail_delivery(d: &mut Draft, actor: &Actor) -> Result<(), OrderError> {
    d.fulfil(FE::FailDelivery, actor)?;
    d.notices.push(Notice::DeliveryFailed);
    Ok(())
}

pub(super) fn return_to_stock(d: &mut Draft, actor: &Actor) -> Result<(), OrderError> {
    d.fulfil(FE::ReturnToStock, actor)?;
    d.release_all_stock();
    d.notices.push(Notice::ReturnedToStock);
    Ok(())
}

pub(super) fn cancel(d: &mut Draft, reason: String, actor: &Actor) -> Result<(), OrderError> {
    if *actor == Actor::Customer
        && !lc::customer_may_cancel(d.order.fulfilment, d.order.payment, d.rules.cancel)
    {
        return Err(OrderError::Policy(format!(
            "the order is {} and its payment {}; only the shop can cancel it now",
            d.order.fulfilment.in_words(),
            d.order.payment.in_words()
        )));
    }
    d.fulfil(FE::Cancel, actor)?;
    // A customer never moves money; the shop's cancel policy gives back
    // what they paid, so the refund is the system's.
    let refunder = match actor {
        Actor::Customer => Actor::System,
        other => other.clone(),
    };
    let refunded = d.refund_all(&refunder)?;
    d.release_all_stock();
    let reason = reason.trim().to_string();
    d.reason = Some(reason.clone()).filter(|r| !r.is_empty());
    d.notices.push(Notice::Cancelled { reason, refunded });
    Ok(())
}

/// The hold lapsed: only an order nobody paid for gives its stock back.
pub(super) fn expire(d: &mut Draft, actor: &Actor) -> Result<(), OrderError> {
    if !matches!(
        d.order.payment,
        PaymentStatus::Unpaid | PaymentStatus::Rejected
    ) {
        return Err(OrderError::Policy(format!(
            "the payment is {}; an order only expires while unpaid",
            d.order.payment.in_words()
        )));
    }
    d.fulfil(FE::Expire, actor)?;
    d.pay(PE::Void, actor)?;
    d.release_all_stock();
    d.notices.push(Notice::Expired);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::domain::ledger::LedgerKind;
    use crate::domain::lifecycle::{Actor, Fulfilment, PaymentStatus};
    use crate::domain::order::tests::{order, seller};
    use crate::domain::order::*;

    #[test]
    fn customer_cancel_follows_policy_and_paid_cancel_refunds_to_balance() {
        let o = order();
        let p = decide(
            &o,
            Command::Cancel {
                reason: "changed mind".into(),
            },
            &Actor::Customer,
        )
        .unwrap();
        assert_eq!(p.order.fulfilment, Fulfilment::Cancelled);
        assert_eq!(p.stock.iter().map(|s| s.delta).sum::<i64>(), 3);
        let confirmed = decide(&o, Command::Confirm, &seller()).unwrap().order;
        let err = decide(
            &confirmed,
            Command::Cancel {
                reason: String::new(),
            },
            &Actor::Customer,
        )
        .unwrap_err();
        assert!(err.to_string().contains("only the shop"), "{err}");
        let paid = decide(
            &o,
            Command::ConfirmPayment {
                amount: None,
                credit_excess: false,
                slip: false,
            },
            &seller(),
        )
        .unwrap()
        .order;
        let p = decide(
            &paid,
            Command::Cancel {
                reason: "no stock".into(),
            },
            &seller(),
        )
        .unwrap();
        assert_eq!(p.order.payment, PaymentStatus::Refunded);
        assert_eq!(
            p.ledger,
            vec![LedgerMove {
                kind: LedgerKind::Refund,
                amount: 64_900
            }]
        );
    }

    #[test]
    fn failed_delivery_returns_to_stock() {
        let mut o = order();
        for cmd in [
            Command::Confirm,
            Command::Ship {
                carrier: "Flash".into(),
                tracking: None,
            },
            Command::FailDelivery,
        ] {
            o = decide(&o, cmd, &seller()).unwrap().order;
        }
        let p = decide(&o, Command::ReturnToStock, &seller()).unwrap();
        assert_eq!(p.order.fulfilment, Fulfilment::Returned);
        assert_eq!(p.stock.len(), 2);
    }
}
