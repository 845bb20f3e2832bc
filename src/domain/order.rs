//! The order aggregate and the decisions a command makes on it.
//!
//! `decide(order, command, actor)` is pure: it returns the order as it should
//! be afterwards plus every effect the store must write in the same
//! transaction (history rows, stock moves, ledger entries, customer notices).

use super::address::Address;
use super::ids::{CustomerId, OrderCode, OrderId, ProductId, ShopId, VariantId};
use super::ledger::LedgerKind;
use super::lifecycle::{
    self as lc, Actor, Fulfilment, FulfilmentEvent as FE, PaymentEvent as PE, PaymentStatus,
    Transition, TransitionError, string_enum,
};
use super::money::{Currency, Money};
use std::fmt;

string_enum!(
    PaymentMethod {
        BankTransfer = "bank_transfer",
        QrTransfer = "qr_transfer",
        Cod = "cod",
        Balance = "balance",
    }
);

string_enum!(
    /// Seed 000 "product ordering confirmation": a line the shop could not buy
    /// as ordered waits for the customer's answer.
    LineStatus {
        Active = "active",
        AwaitingCustomer = "awaiting_customer",
        Refused = "refused",
    }
);

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderLine {
    pub id: i64,
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub name: String,
    pub variant_name: String,
    pub unit_price: i64,
    pub qty: i64,
    pub status: LineStatus,
    pub proposed_unit_price: Option<i64>,
    pub proposed_qty: Option<i64>,
}

impl OrderLine {
    fn counts(&self) -> bool {
        self.status != LineStatus::Refused
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fee {
    pub label: String,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub shop_id: ShopId,
    pub customer_id: CustomerId,
    pub code: OrderCode,
    pub currency: Currency,
    pub fulfilment: Fulfilment,
    pub payment: PaymentStatus,
    pub method: Option<PaymentMethod>,
    pub lines: Vec<OrderLine>,
    pub fees: Vec<Fee>,
    pub shipping_fee: i64,
    pub discount: i64,
    pub paid: i64,
    pub address: Option<Address>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub version: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    pub subtotal: Money,
    pub service_fees: Money,
    pub shipping_fee: Money,
    pub discount: Money,
    pub total: Money,
    pub paid: Money,
    pub remaining: Money,
}

impl Order {
    /// Totals are always recomputed from the lines, never taken from input.
    pub fn totals(&self) -> Totals {
        let c = self.currency;
        let subtotal: i64 = self
            .lines
            .iter()
            .filter(|l| l.counts())
            .map(|l| l.unit_price.saturating_mul(l.qty))
            .fold(0i64, i64::saturating_add);
        let fees: i64 = self
            .fees
            .iter()
            .map(|f| f.amount)
            .fold(0, i64::saturating_add);
        let total = subtotal
            .saturating_add(fees)
            .saturating_add(self.shipping_fee)
            .saturating_sub(self.discount)
            .max(0);
        Totals {
            subtotal: Money::new(subtotal, c),
            service_fees: Money::new(fees, c),
            shipping_fee: Money::new(self.shipping_fee, c),
            discount: Money::new(self.discount, c),
            total: Money::new(total, c),
            paid: Money::new(self.paid, c),
            remaining: Money::new(total - self.paid, c),
        }
    }
}

/// What a seller, the customer or the system asks of an order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    Confirm,
    /// A slip arrived. `suspicious` (re-used or unreadable QR) still puts the
    /// order in front of the seller, but the customer is not told all is well.
    SubmitSlip {
        suspicious: bool,
    },
    ConfirmPayment {
        amount: Option<i64>,
    },
    RejectPayment {
        reason: String,
    },
    ChooseCod,
    Ship {
        carrier: String,
        tracking: Option<String>,
    },
    Complete,
    FailDelivery,
    ReturnToStock,
    CollectCod {
        amount: Option<i64>,
    },
    Cancel {
        reason: String,
    },
    Expire,
    PayFromBalance {
        available: i64,
        allow_negative: bool,
    },
    OrderMore {
        increases: Vec<(i64, i64)>,
    },
    ProposeLineChange {
        line_id: i64,
        unit_price: i64,
        qty: i64,
    },
    AnswerLineChange {
        line_id: i64,
        accept: bool,
    },
    EditAddress {
        address: Address,
    },
    EditFees {
        fees: Vec<Fee>,
        shipping_fee: Option<i64>,
        discount: Option<i64>,
    },
}

/// A move of stock for one variant: negative reserves, positive releases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockMove {
    pub variant_id: VariantId,
    pub delta: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerMove {
    pub kind: LedgerKind,
    pub amount: i64,
}

/// What the customer hears about, pushed through the outbox.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    OrderConfirmed,
    /// "Payment confirmation: pending".
    SlipReceived,
    /// The slip needs the shop's eyes (e.g. it was used before).
    SlipNeedsShopCheck,
    /// The picture could not be used; `problem` is a template key such as
    /// `not_an_image`, `too_large`, `sticker`, `pdf`, `expired`.
    SlipProblem {
        problem: String,
    },
    /// The hold on an unpaid order is about to lapse.
    HoldReminder {
        hours_left: i64,
    },
    PaymentConfirmed {
        amount: i64,
        remaining: i64,
    },
    PaymentRejected {
        reason: String,
    },
    Shipped {
        carrier: String,
        tracking: Option<String>,
    },
    Delivered,
    DeliveryFailed,
    Cancelled {
        reason: String,
        refunded: i64,
    },
    Expired,
    CodCollected,
    LineChangeProposed {
        line_id: i64,
        name: String,
        unit_price: i64,
        qty: i64,
    },
    OrderUpdated,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub order: Order,
    pub transitions: Vec<Transition>,
    pub stock: Vec<StockMove>,
    pub ledger: Vec<LedgerMove>,
    pub notices: Vec<Notice>,
    /// Free-text reason kept with the history rows (cancel, reject).
    pub reason: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OrderError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("{0}")]
    Policy(String),
    #[error("{0}")]
    BadInput(String),
}

impl OrderError {
    /// Conflicts are about the order's state; bad input is about the request.
    pub fn is_conflict(&self) -> bool {
        !matches!(self, OrderError::BadInput(_))
    }
}

struct Draft {
    order: Order,
    transitions: Vec<Transition>,
    stock: Vec<StockMove>,
    ledger: Vec<LedgerMove>,
    notices: Vec<Notice>,
    reason: Option<String>,
}

impl Draft {
    fn fulfil(&mut self, event: FE, actor: &Actor) -> Result<(), OrderError> {
        let from = self.order.fulfilment;
        let to = lc::next_fulfilment(from, event, actor)?;
        self.order.fulfilment = to;
        self.transitions
            .push(Transition::fulfilment(from, event, to));
        Ok(())
    }
    fn pay(&mut self, event: PE, actor: &Actor) -> Result<(), OrderError> {
        let from = self.order.payment;
        let to = lc::next_payment(from, event, actor)?;
        self.order.payment = to;
        self.transitions.push(Transition::payment(from, event, to));
        Ok(())
    }
    fn release_all_stock(&mut self) {
        for l in self.order.lines.iter().filter(|l| l.counts()) {
            self.stock.push(StockMove {
                variant_id: l.variant_id,
                delta: l.qty,
            });
        }
    }
    /// Paid money goes back to the customer's shop balance; nothing is lost.
    fn refund_to_balance(&mut self, actor: &Actor) -> Result<i64, OrderError> {
        let paid = self.order.paid;
        if paid > 0 {
            self.pay(PE::Refund, actor)?;
            self.ledger.push(LedgerMove {
                kind: LedgerKind::Refund,
                amount: paid,
            });
            self.order.paid = 0;
        } else if matches!(
            self.order.payment,
            PaymentStatus::Unpaid
                | PaymentStatus::Rejected
                | PaymentStatus::CodPending
                | PaymentStatus::PendingReview
        ) {
            self.pay(PE::Void, actor)?;
        }
        Ok(paid)
    }
    fn remaining(&self) -> i64 {
        self.order.totals().remaining.minor
    }
    fn record_payment(
        &mut self,
        amount: i64,
        settles: PE,
        partly: PE,
        actor: &Actor,
    ) -> Result<(), OrderError> {
        self.order.paid = self
            .order
            .paid
            .checked_add(amount)
            .ok_or_else(|| OrderError::BadInput("amount out of range".into()))?;
        let event = if self.remaining() <= 0 {
            settles
        } else {
            partly
        };
        self.pay(event, actor)?;
        if self.order.payment == PaymentStatus::Paid && self.order.fulfilment == Fulfilment::Placed
        {
            // A settled order needs no second click to be confirmed.
            self.fulfil(FE::Confirm, &Actor::System)?;
        }
        Ok(())
    }
}

fn not_editable(order: &Order) -> OrderError {
    OrderError::Policy(format!(
        "the order is {}; it can only be edited before it ships",
        order.fulfilment
    ))
}

fn positive(amount: i64, what: &str) -> Result<i64, OrderError> {
    if amount > 0 {
        Ok(amount)
    } else {
        Err(OrderError::BadInput(format!(
            "{what} must be greater than zero"
        )))
    }
}

/// Decides what `command` by `actor` does to `order`.
pub fn decide(order: &Order, command: Command, actor: &Actor) -> Result<Plan, OrderError> {
    let mut d = Draft {
        order: order.clone(),
        transitions: Vec::new(),
        stock: Vec::new(),
        ledger: Vec::new(),
        notices: Vec::new(),
        reason: None,
    };
    match command {
        Command::Confirm => {
            d.fulfil(FE::Confirm, actor)?;
            d.notices.push(Notice::OrderConfirmed);
        }
        Command::SubmitSlip { suspicious } => {
            if !lc::holds_stock(order.fulfilment) {
                return Err(OrderError::Policy(format!(
                    "the order is {}",
                    order.fulfilment
                )));
            }
            // A second slip while one is under review is added, not a new state.
            if order.payment != PaymentStatus::PendingReview {
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
        }
        Command::ConfirmPayment { amount } => {
            if !lc::holds_stock(order.fulfilment) {
                return Err(OrderError::Policy(format!(
                    "the order is {}; refund or reject instead",
                    order.fulfilment
                )));
            }
            // State first, so a double confirmation says "already paid".
            lc::next_payment(order.payment, PE::ConfirmSettles, actor)?;
            let amount = positive(amount.unwrap_or(d.remaining()), "the amount")?;
            d.record_payment(amount, PE::ConfirmSettles, PE::ConfirmPartly, actor)?;
            let remaining = d.remaining();
            d.notices
                .push(Notice::PaymentConfirmed { amount, remaining });
        }
        Command::RejectPayment { reason } => {
            let reason = reason.trim().to_string();
            if reason.is_empty() {
                return Err(OrderError::BadInput(
                    "a reason is required to reject a slip".into(),
                ));
            }
            d.pay(PE::Reject, actor)?;
            d.reason = Some(reason.clone());
            d.notices.push(Notice::PaymentRejected { reason });
        }
        Command::ChooseCod => {
            d.pay(PE::ChooseCod, actor)?;
            d.order.method = Some(PaymentMethod::Cod);
        }
        Command::Ship { carrier, tracking } => {
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
        }
        Command::Complete => {
            let event = if order.payment == PaymentStatus::CodPending {
                FE::DeliverAwaitingCod
            } else {
                FE::Deliver
            };
            d.fulfil(event, actor)?;
            d.notices.push(Notice::Delivered);
        }
        Command::FailDelivery => {
            d.fulfil(FE::FailDelivery, actor)?;
            d.notices.push(Notice::DeliveryFailed);
        }
        Command::ReturnToStock => {
            d.fulfil(FE::ReturnToStock, actor)?;
            d.release_all_stock();
        }
        Command::CollectCod { amount } => {
            lc::next_fulfilment(order.fulfilment, FE::CollectCod, actor)?;
            let amount = positive(amount.unwrap_or(d.remaining()), "the amount")?;
            d.fulfil(FE::CollectCod, actor)?;
            d.pay(PE::CollectCod, actor)?;
            d.order.paid += amount;
            d.notices.push(Notice::CodCollected);
        }
        Command::Cancel { reason } => {
            if *actor == Actor::Customer
                && !lc::customer_may_cancel(order.fulfilment, order.payment)
            {
                return Err(OrderError::Policy(format!(
                    "the order is {} and its payment {}; only the shop can cancel it now",
                    order.fulfilment, order.payment
                )));
            }
            d.fulfil(FE::Cancel, actor)?;
            let refunded = d.refund_to_balance(actor)?;
            d.release_all_stock();
            let reason = reason.trim().to_string();
            d.reason = Some(reason.clone()).filter(|r| !r.is_empty());
            d.notices.push(Notice::Cancelled { reason, refunded });
        }
        Command::Expire => {
            if !matches!(
                order.payment,
                PaymentStatus::Unpaid | PaymentStatus::Rejected
            ) {
                return Err(OrderError::Policy(format!(
                    "the payment is {}; an order only expires while unpaid",
                    order.payment
                )));
            }
            d.fulfil(FE::Expire, actor)?;
            d.pay(PE::Void, actor)?;
            d.release_all_stock();
            d.notices.push(Notice::Expired);
        }
        Command::PayFromBalance {
            available,
            allow_negative,
        } => {
            if !lc::holds_stock(order.fulfilment) {
                return Err(OrderError::Policy(format!(
                    "the order is {}",
                    order.fulfilment
                )));
            }
            let remaining = d.remaining();
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
                    Money::new(available, order.currency),
                    Money::new(remaining, order.currency)
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
            let remaining = d.remaining();
            d.notices
                .push(Notice::PaymentConfirmed { amount, remaining });
        }
        Command::OrderMore { increases } => {
            if !lc::may_order_more(order.fulfilment, order.payment) {
                return Err(OrderError::Policy(format!(
                    "more can only be added while the order is unpaid and unconfirmed (it is {}, payment {})",
                    order.fulfilment, order.payment
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
                    .ok_or_else(|| {
                        OrderError::BadInput(format!("no line {line_id} on this order"))
                    })?;
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
        }
        Command::ProposeLineChange {
            line_id,
            unit_price,
            qty,
        } => {
            if !lc::seller_may_edit(order.fulfilment) {
                return Err(not_editable(order));
            }
            if unit_price < 0 || qty <= 0 {
                return Err(OrderError::BadInput(
                    "price must be ≥ 0 and quantity > 0".into(),
                ));
            }
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
        }
        Command::AnswerLineChange { line_id, accept } => {
            if !lc::seller_may_edit(order.fulfilment) {
                return Err(not_editable(order));
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
        }
        Command::EditAddress { address } => {
            if !lc::seller_may_edit(order.fulfilment) {
                return Err(not_editable(order));
            }
            d.order.address = Some(address);
        }
        Command::EditFees {
            fees,
            shipping_fee,
            discount,
        } => {
            if !lc::seller_may_edit(order.fulfilment) {
                return Err(not_editable(order));
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
            d.order.fees = fees;
            if let Some(s) = shipping_fee {
                d.order.shipping_fee = s;
            }
            if let Some(x) = discount {
                d.order.discount = x;
            }
            d.notices.push(Notice::OrderUpdated);
        }
    }
    Ok(Plan {
        order: d.order,
        transitions: d.transitions,
        stock: d.stock,
        ledger: d.ledger,
        notices: d.notices,
        reason: d.reason,
    })
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_string))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn line(id: i64, variant: i64, price: i64, qty: i64) -> OrderLine {
        OrderLine {
            id,
            product_id: ProductId(variant),
            variant_id: VariantId(variant),
            name: format!("item {id}"),
            variant_name: String::new(),
            unit_price: price,
            qty,
            status: LineStatus::Active,
            proposed_unit_price: None,
            proposed_qty: None,
        }
    }

    fn order() -> Order {
        Order {
            id: OrderId(1),
            shop_id: ShopId(1),
            customer_id: CustomerId(1),
            code: OrderCode::from_random([0; 8]),
            currency: Currency::THB,
            fulfilment: Fulfilment::Placed,
            payment: PaymentStatus::Unpaid,
            method: None,
            lines: vec![line(1, 1, 25_000, 2), line(2, 2, 9_900, 1)],
            fees: vec![],
            shipping_fee: 5_000,
            discount: 0,
            paid: 0,
            address: None,
            carrier: None,
            tracking: None,
            version: 1,
        }
    }

    fn seller() -> Actor {
        Actor::Seller("owner".into())
    }

    #[test]
    fn totals_are_recomputed_from_lines() {
        let t = order().totals();
        assert_eq!(t.subtotal.minor, 59_900);
        assert_eq!(t.total.minor, 64_900);
        assert_eq!(t.remaining.minor, 64_900);
    }

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
            Command::ConfirmPayment { amount: None },
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
                Command::ConfirmPayment { amount: None },
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
        let paid = decide(&o, Command::ConfirmPayment { amount: None }, &seller())
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
        let paid = decide(&o, Command::ConfirmPayment { amount: None }, &seller())
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

    fn arb_command() -> impl Strategy<Value = (Command, u8)> {
        let cmd = prop_oneof![
            Just(Command::Confirm),
            any::<bool>().prop_map(|suspicious| Command::SubmitSlip { suspicious }),
            (proptest::option::of(1i64..80_000))
                .prop_map(|amount| Command::ConfirmPayment { amount }),
            Just(Command::RejectPayment {
                reason: "blurry".into()
            }),
            Just(Command::ChooseCod),
            Just(Command::Ship {
                carrier: "Kerry".into(),
                tracking: None
            }),
            Just(Command::Complete),
            Just(Command::FailDelivery),
            Just(Command::ReturnToStock),
            (proptest::option::of(1i64..80_000)).prop_map(|amount| Command::CollectCod { amount }),
            Just(Command::Cancel { reason: "x".into() }),
            Just(Command::Expire),
            (0i64..100_000, any::<bool>()).prop_map(|(available, allow_negative)| {
                Command::PayFromBalance {
                    available,
                    allow_negative,
                }
            }),
            (1i64..3, 1i64..4).prop_map(|(l, n)| Command::OrderMore {
                increases: vec![(l, n)]
            }),
            (1i64..3, 0i64..40_000, 1i64..5).prop_map(|(line_id, unit_price, qty)| {
                Command::ProposeLineChange {
                    line_id,
                    unit_price,
                    qty,
                }
            }),
            (1i64..3, any::<bool>())
                .prop_map(|(line_id, accept)| Command::AnswerLineChange { line_id, accept }),
            (0i64..2_000, 0i64..90_000).prop_map(|(s, x)| Command::EditFees {
                fees: vec![Fee {
                    label: "gift wrap".into(),
                    amount: s
                }],
                shipping_fee: Some(s),
                discount: Some(x)
            }),
        ];
        (cmd, 0u8..3)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// No sequence of commands breaks the invariants: paid + remaining =
        /// total, stock never negative and never leaked, one history row per
        /// state change.
        #[test]
        fn invariants_hold_for_any_sequence(cmds in proptest::collection::vec(arb_command(), 0..40)) {
            let mut o = order();
            let initial: HashMap<VariantId, i64> = [(VariantId(1), 5), (VariantId(2), 3)].into();
            // Stock on the shelf after the initial reservation.
            let mut shelf: HashMap<VariantId, i64> = initial.clone();
            for l in &o.lines { *shelf.get_mut(&l.variant_id).unwrap() -= l.qty; }
            for (cmd, who) in cmds {
                let actor = match who { 0 => Actor::Customer, 1 => seller(), _ => Actor::System };
                let before = o.clone();
                let Ok(plan) = decide(&o, cmd, &actor) else { continue };
                // The store applies stock moves atomically; refuse like it would.
                let mut next_shelf = shelf.clone();
                let mut ok = true;
                for m in &plan.stock {
                    let s = next_shelf.get_mut(&m.variant_id).unwrap();
                    *s += m.delta;
                    if *s < 0 { ok = false; }
                }
                if !ok { continue; }
                shelf = next_shelf;
                // History: one row per transition, chained from the old state to the new.
                for (machine, from, to) in [
                    ("fulfilment", before.fulfilment.as_str(), plan.order.fulfilment.as_str()),
                    ("payment", before.payment.as_str(), plan.order.payment.as_str()),
                ] {
                    let rows: Vec<_> = plan.transitions.iter().filter(|t| t.machine == machine).collect();
                    let mut at = from;
                    for r in &rows {
                        prop_assert_eq!(r.from, at);
                        at = r.to;
                    }
                    prop_assert_eq!(at, to);
                    if from != to { prop_assert!(!rows.is_empty()); }
                }
                o = plan.order;
                let t = o.totals();
                prop_assert_eq!(t.paid.minor + t.remaining.minor, t.total.minor);
                prop_assert!(t.paid.minor >= 0);
                prop_assert!(t.total.minor >= 0);
                for s in shelf.values() { prop_assert!(*s >= 0); }
                // Whatever an order no longer holds is back on the shelf.
                if !lc::holds_stock(o.fulfilment) {
                    prop_assert_eq!(&shelf, &initial);
                } else {
                    for (v, start) in &initial {
                        let held: i64 = o.lines.iter().filter(|l| l.counts() && l.variant_id == *v).map(|l| l.qty).sum();
                        prop_assert_eq!(shelf[v] + held, *start);
                    }
                }
            }
        }
    }
}
