//! A seller's decision on one slip: the payment row and the order move
//! together, with the customer's push, in one transaction.

use super::orders::{Applied, ApplyError, apply_in_tx, transaction};
use crate::domain::lifecycle::Actor;
use crate::domain::order::{Command, Notice, OrderError, Plan};
use crate::domain::{PaymentStatus, Timestamp};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::payments::{self, SlipDecision};
use crate::store::shops::Shop;
use crate::store::{Db, Tx, orders};

pub enum Decision {
    /// Confirm the slip; the order takes `amount`, or what it still owes.
    /// `credit_excess`: an owner records money above what is owed as the
    /// customer's credit (the caller checks who may).
    Confirm {
        amount: Option<i64>,
        credit_excess: bool,
    },
    Reject(String),
}

/// Decides on payment `payment_id`, which must be a pending or flagged slip.
pub async fn decide(
    db: &Db,
    shop: &Shop,
    payment_id: i64,
    decision: &Decision,
    actor: &Actor,
    now: Timestamp,
) -> Result<Applied, ApplyError> {
    transaction(db, |mut tx| {
        Box::pin(async move {
            let r = decide_in_tx(&mut tx, shop, payment_id, decision, actor, now).await;
            (tx, r)
        })
    })
    .await
}

async fn decide_in_tx(
    tx: &mut Tx,
    shop: &Shop,
    payment_id: i64,
    decision: &Decision,
    actor: &Actor,
    now: Timestamp,
) -> Result<Applied, ApplyError> {
    let (order_id, status) = payments::lock(tx, shop.id, payment_id).await?;
    if !matches!(status.as_str(), "pending" | "flagged") {
        return Err(ApplyError::Rejected(OrderError::Policy(format!(
            "this payment is {status}; only a pending or flagged slip can be confirmed or rejected"
        ))));
    }
    let command = match decision {
        Decision::Confirm {
            amount,
            credit_excess,
        } => Command::ConfirmPayment {
            amount: *amount,
            credit_excess: *credit_excess,
            slip: true,
        },
        Decision::Reject(reason) => Command::RejectPayment {
            reason: reason.clone(),
        },
    };
    // A slip that arrived for an order no longer waiting for money (paid,
    // cancelled, ...) is rejected on its own: the order does not move, and
    // the customer still hears why.
    if let Decision::Reject(reason) = decision {
        let order = orders::load_locked(tx, shop.id, order_id).await?;
        if order.payment != PaymentStatus::PendingReview {
            let reason = reason.trim().to_string();
            if reason.is_empty() {
                return Err(ApplyError::Rejected(OrderError::BadInput(
                    "a reason is required to reject a slip".into(),
                )));
            }
            let notice = Notice::PaymentRejected {
                reason: reason.clone(),
            };
            outbox::enqueue(
                tx,
                shop.id,
                order.customer_id,
                &format!("payment:{payment_id}:rejected"),
                &OutboundPayload::Notice {
                    order_id,
                    order_code: order.code.clone(),
                    notice: notice.clone(),
                },
                now,
            )
            .await?;
            let rejected = SlipDecision::Rejected { reason: &reason };
            payments::set_decision(tx, shop.id, payment_id, &rejected, actor, now).await?;
            let plan = Plan {
                order: order.clone(),
                transitions: Vec::new(),
                stock: Vec::new(),
                ledger: Vec::new(),
                payments: Vec::new(),
                resolutions: Vec::new(),
                notices: vec![notice],
                reason: Some(reason),
            };
            return Ok(Applied { order, plan });
        }
    }
    let applied = apply_in_tx(tx, shop, order_id, command, actor, now).await?;
    let reason;
    let recorded = match decision {
        Decision::Confirm { .. } => SlipDecision::Confirmed {
            amount: applied
                .plan
                .notices
                .iter()
                .find_map(|n| match n {
                    Notice::PaymentConfirmed { amount, .. } => Some(*amount),
                    _ => None,
                })
                .unwrap_or(0),
        },
        Decision::Reject(r) => {
            reason = r.trim().to_string();
            SlipDecision::Rejected { reason: &reason }
        }
    };
    payments::set_decision(tx, shop.id, payment_id, &recorded, actor, now).await?;
    Ok(applied)
}

/// The seller confirms a slip: payment confirmed and the order paid (or
/// partly paid with `amount`), with the customer's push.
pub async fn confirm(
    db: &Db,
    shop: &Shop,
    payment_id: i64,
    amount: Option<i64>,
    actor: &Actor,
    now: Timestamp,
) -> Result<Applied, ApplyError> {
    let decision = Decision::Confirm {
        amount,
        credit_excess: false,
    };
    decide(db, shop, payment_id, &decision, actor, now).await
}

/// The seller rejects a slip with a reason; the customer hears the reason
/// and is asked for a new slip.
pub async fn reject(
    db: &Db,
    shop: &Shop,
    payment_id: i64,
    reason: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<Applied, ApplyError> {
    let decision = Decision::Reject(reason.to_string());
    decide(db, shop, payment_id, &decision, actor, now).await
}
