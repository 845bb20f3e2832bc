//! Changing what was ordered before it ships: the customer adds more, the
//! seller proposes a changed line and the customer answers, the seller
//! edits the address and the fees.

use super::draft::{Draft, not_editable, positive};
use super::{Fee, LineStatus, Notice, OrderError, StockMove};
use crate::domain::address::Address;
use crate::domain::lifecycle as lc;
use crate::domain::lifecycle::InWords;
use crate::domain::lifecycle::PaymentStatus;
use crate::domain::money::in_range;

/// `increases` are `(line id, quantity to add)`; each reserves its stock.
pub(super) fn order_more(d: &mut Draft, increases: Vec<(i64, i64)>) -> Result<(), OrderError> {
    if !lc::may_order_more(d.order.fulfilment, d.order.payment) {
        return Err(OrderError::Policy(format!(
            "more can only be added while the order is unpaid and unconfirmed (it is {}, the payment {})",
            d.order.fulfilment.in_words(),
            d.order.payment.in_words()
        )));
    }
    if increases.is_empty() {
        return Err(OrderError::BadInput("nothing to add".into()));
    }
    for (line_id, add) in increases {
        let add = positive(add, "an increase")?;
        let line = d
            .order
            .lines
            .iter_mut()
            .find(|l| l.id == line_id && l.counts())
            .ok_or_else(|| OrderError::BadInput(format!("no line {line_id} on this order")))?;
        line.qty = line
            .qty
            .checked_add(add)
            .filter(|q| *q <= 10_000)
            .ok_or_else(|| OrderError::BadInput("quantity too large".into()))?;
        d.stock.push(StockMove {
            variant_id: line.variant_id,
            delta: -add,
        });
    }
    d.notices.push(Notice::OrderUpdated);
    Ok(())
}

/// The shop could not buy the line as ordered: the new price and quantity
/// wait for the customer; the totals keep the old ones until then.
pub(super) fn propose_line_change(
    d: &mut Draft,
    line_id: i64,
    unit_price: i64,
    qty: i64,
) -> Result<(), OrderError> {
    if !lc::seller_may_edit(d.order.fulfilment) {
        return Err(not_editable(&d.order));
    }
    if unit_price < 0 || qty <= 0 {
        return Err(OrderError::BadInput(
            "price must be ≥ 0 and quantity > 0".into(),
        ));
    }
    // The proposed line must fit what a shop can hold before it is offered.
    let line_total = unit_price.checked_mul(qty).unwrap_or(i64::MAX);
    in_range(line_total, "the line's price × quantity")?;
    let line = d
        .order
        .lines
        .iter_mut()
        .find(|l| l.id == line_id && l.counts())
        .ok_or_else(|| OrderError::BadInput(format!("no line {line_id} on this order")))?;
    if line.unit_price == unit_price && line.qty == qty {
        return Err(OrderError::BadInput(
            "that is what the line already says".into(),
        ));
    }
    line.status = LineStatus::AwaitingCustomer;
    line.proposed_unit_price = Some(unit_price);
    line.proposed_qty = Some(qty);
    let name = line.name.clone();
    d.notices.push(Notice::LineChangeProposed {
        line_id,
        name,
        unit_price,
        qty,
    });
    Ok(())
}

/// Accepting moves stock by the difference; refusing releases the line.
pub(super) fn answer_line_change(
    d: &mut Draft,
    line_id: i64,
    accept: bool,
) -> Result<(), OrderError> {
    if !lc::seller_may_edit(d.order.fulfilment) {
        return Err(not_editable(&d.order));
    }
    let line = d
        .order
        .lines
        .iter_mut()
        .find(|l| l.id == line_id && l.status == LineStatus::AwaitingCustomer)
        .ok_or_else(|| {
            OrderError::Policy("that change is no longer waiting for an answer".into())
        })?;
    let (price, qty) = (
        line.proposed_unit_price.take().unwrap_or(line.unit_price),
        line.proposed_qty.take().unwrap_or(line.qty),
    );
    if accept {
        let delta = line.qty - qty;
        line.unit_price = price;
        line.qty = qty;
        line.status = LineStatus::Active;
        if delta != 0 {
            d.stock.push(StockMove {
                variant_id: line.variant_id,
                delta,
            });
        }
    } else {
        line.status = LineStatus::Refused;
        d.stock.push(StockMove {
            variant_id: line.variant_id,
            delta: line.qty,
        });
    }
    d.notices.push(Notice::OrderUpdated);
    Ok(())
}

pub(super) fn edit_address(
    d: &mut Draft,
    address: Address,
    shipping_fee: Option<i64>,
) -> Result<(), OrderError> {
    if !lc::seller_may_edit(d.order.fulfilment) {
        return Err(not_editable(&d.order));
    }
    if let Some(fee) = shipping_fee {
        in_range(fee, "the shipping fee")?;
        if fee < 0 {
            return Err(OrderError::BadInput("the shipping fee is ≥ 0".into()));
        }
        d.order.shipping_fee = fee;
    }
    if d.order.address.as_ref() != Some(&address) {
        d.notices.push(Notice::AddressChanged {
            address: address.one_line(),
        });
    }
    d.order.address = Some(address);
    Ok(())
}

/// `None` leaves the shipping fee or the discount as it is.
pub(super) fn edit_fees(
    d: &mut Draft,
    fees: Vec<Fee>,
    shipping_fee: Option<i64>,
    discount: Option<i64>,
) -> Result<(), OrderError> {
    if !lc::seller_may_edit(d.order.fulfilment) {
        return Err(not_editable(&d.order));
    }
    if fees
        .iter()
        .any(|f| f.amount < 0 || f.label.trim().is_empty())
        || shipping_fee.is_some_and(|s| s < 0)
        || discount.is_some_and(|s| s < 0)
    {
        return Err(OrderError::BadInput(
            "fees need a label and an amount ≥ 0; shipping and discount ≥ 0".into(),
        ));
    }
    for f in &fees {
        in_range(f.amount, "a fee")?;
    }
    in_range(shipping_fee.unwrap_or(0), "the shipping fee")?;
    in_range(discount.unwrap_or(0), "the discount")?;
    d.order.fees = fees;
    if let Some(s) = shipping_fee {
        d.order.shipping_fee = s;
    }
    if let Some(x) = discount {
        d.order.discount = x;
    }
    d.notices.push(Notice::OrderUpdated);
    Ok(())
}

/// A claim's refund, in any state but cancelled or returned: the
/// discount grows by `amount` (at most what was paid), and settling gives
/// the money above the new total back to the balance, whatever the shop's
/// setting for excess money (the claim's outcome is a refund to balance).
pub(super) fn refund_claim(d: &mut Draft, amount: i64) -> Result<(), OrderError> {
    if !lc::holds_stock(d.order.fulfilment)
        || matches!(
            d.order.payment,
            PaymentStatus::Refunded | PaymentStatus::Void
        )
    {
        return Err(not_editable(&d.order));
    }
    if amount <= 0 || amount > d.order.paid {
        return Err(OrderError::BadInput(format!(
            "amount: a claim refund is above 0 and at most what was paid ({})",
            d.order.paid
        )));
    }
    d.order.discount += amount;
    d.rules.excess = super::ExcessPolicy::Balance;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::domain::ids::VariantId;
    use crate::domain::lifecycle::Actor;
    use crate::domain::order::tests::{order, seller};
    use crate::domain::order::*;

    #[test]
    fn order_more_only_increases_and_only_while_unpaid() {
        let o = order();
        let p = decide(
            &o,
            Command::OrderMore {
                increases: vec![(1, 1)],
            },
            &Actor::Customer,
        )
        .unwrap();
        assert_eq!(p.order.lines[0].qty, 3);
        assert_eq!(
            p.stock,
            vec![StockMove {
                variant_id: VariantId(1),
                delta: -1
            }]
        );
        assert!(
            decide(
                &o,
                Command::OrderMore {
                    increases: vec![(1, -1)]
                },
                &Actor::Customer
            )
            .is_err()
        );
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
        assert!(
            decide(
                &paid,
                Command::OrderMore {
                    increases: vec![(1, 1)]
                },
                &Actor::Customer
            )
            .is_err()
        );
    }

    #[test]
    fn a_changed_line_waits_for_the_customer() {
        let o = order();
        let p = decide(
            &o,
            Command::ProposeLineChange {
                line_id: 1,
                unit_price: 26_000,
                qty: 1,
            },
            &seller(),
        )
        .unwrap();
        assert_eq!(p.order.lines[0].status, LineStatus::AwaitingCustomer);
        assert_eq!(
            p.order.totals().subtotal.minor,
            59_900,
            "unchanged until accepted"
        );
        let accepted = decide(
            &p.order,
            Command::AnswerLineChange {
                line_id: 1,
                accept: true,
            },
            &Actor::Customer,
        )
        .unwrap();
        assert_eq!(accepted.order.totals().subtotal.minor, 26_000 + 9_900);
        assert_eq!(
            accepted.stock,
            vec![StockMove {
                variant_id: VariantId(1),
                delta: 1
            }]
        );
        let refused = decide(
            &p.order,
            Command::AnswerLineChange {
                line_id: 1,
                accept: false,
            },
            &Actor::Customer,
        )
        .unwrap();
        assert_eq!(refused.order.totals().subtotal.minor, 9_900);
        assert!(
            decide(
                &refused.order,
                Command::AnswerLineChange {
                    line_id: 1,
                    accept: true
                },
                &Actor::Customer
            )
            .is_err()
        );
    }
}
