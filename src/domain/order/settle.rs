//! The amounts decide the payment state, never the other way round.
//!
//! After every command: money above the total goes back (the shop's way),
//! `paid` is within `0..=total`, and the state is the one `implied_status`
//! gives. A total that went up on an order with money on it asks the
//! customer for exactly the difference.

use super::draft::Draft;
use super::{Notice, OrderError};
use crate::domain::lifecycle::PaymentStatus as P;

/// What is still owed: never negative.
pub(super) fn owed(total: i64, paid: i64) -> i64 {
    total.saturating_sub(paid).max(0)
}

/// The payment state `paid` and `total` imply, given the state it was in.
/// Nothing paid: unpaid (or its review / COD / refused-slip flavours).
/// Part of it: partially paid (or a slip under review, or just refused).
/// All of it: paid (or paid on delivery). Refunded and void are final.
pub fn implied_status(current: P, paid: i64, total: i64) -> P {
    match current {
        P::Refunded | P::Void => current,
        _ if paid <= 0 => match current {
            P::Paid | P::PartiallyPaid | P::CodCollected => P::Unpaid,
            other => other,
        },
        _ if paid >= total => match current {
            P::CodCollected => P::CodCollected,
            _ => P::Paid,
        },
        P::PendingReview | P::Rejected | P::PartiallyPaid => current,
        _ => P::PartiallyPaid,
    }
}

pub(super) fn settle(d: &mut Draft) -> Result<(), OrderError> {
    let totals = d.order.checked_totals()?;
    let total = totals.total.minor;
    if d.order.paid > total && !matches!(d.order.payment, P::Refunded | P::Void) {
        // The total went down below what was paid: the difference goes back.
        let excess = d.order.paid - total;
        if d.give_back(excess) {
            d.notices.push(Notice::CreditedToBalance { amount: excess });
        }
    }
    let to = implied_status(d.order.payment, d.order.paid, total);
    if to != d.order.payment {
        d.derive_payment(to);
    }
    let was_owed = d.before.totals().remaining.minor;
    let now_owed = owed(total, d.order.paid);
    if d.order.paid > 0 && now_owed > was_owed && d.order.paid == d.before.paid {
        d.notices.push(Notice::AmountDue {
            amount: now_owed,
            total,
        });
    }
    Ok(())
}
