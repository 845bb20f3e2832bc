//! The order aggregate and the decisions a command makes on it.
//!
//! `decide(order, command, actor)` is pure: it returns the order as it should
//! be afterwards plus every effect the store must write in the same
//! transaction (history rows, stock moves, ledger entries, customer notices).
//!
//! This file holds the types and the dispatch; the rules live by subject:
//! `payment` (slips, confirmation, COD, balance), `fulfilment` (confirm to
//! complete, cancel, expire) and `edit` (lines, address, fees), all built on
//! the `draft` that records every transition and effect.

mod draft;
mod edit;
mod fulfilment;
mod payment;
mod services;
mod settle;

pub use services::{Charging, OrderService, ServiceOffer, TrackingStatus};
pub use settle::implied_status;

use super::address::Address;
use super::ids::{CustomerId, OrderCode, OrderId, ProductId, ShopId, VariantId};
use super::ledger::LedgerKind;
use super::lifecycle::{
    Actor, Fulfilment, PaymentStatus, Transition, TransitionError, string_enum,
};
use super::money::{Currency, MAX_MINOR, Money, MoneyError};
use draft::Draft;
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
    /// The shop's extra services the customer or seller chose.
    pub services: Vec<OrderService>,
    pub shipping_fee: i64,
    pub discount: i64,
    pub paid: i64,
    pub address: Option<Address>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    /// The carrier's last word on the parcel.
    pub tracking_status: Option<TrackingStatus>,
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
    /// Every decision checks them (`checked_totals`), so a stored order's
    /// totals are always in range; the saturating fallback only keeps a
    /// display of a hand-edited row from panicking.
    pub fn totals(&self) -> Totals {
        self.checked_totals()
            .unwrap_or_else(|_| self.saturated_totals())
    }

    /// The totals with every step checked: each part and the total within
    /// `0..=MAX_MINOR`. `remaining` is what is still owed, never negative.
    pub fn checked_totals(&self) -> Result<Totals, MoneyError> {
        let c = self.currency;
        let over = || MoneyError::OutOfRange("the order total".into());
        let mut subtotal = 0i64;
        for l in self.lines.iter().filter(|l| l.counts()) {
            let line = l.unit_price.checked_mul(l.qty).ok_or_else(over)?;
            subtotal = subtotal.checked_add(line).ok_or_else(over)?;
        }
        let mut fees = 0i64;
        for f in &self.fees {
            fees = fees.checked_add(f.amount).ok_or_else(over)?;
        }
        for s in &self.services {
            fees = fees.checked_add(s.owed()).ok_or_else(over)?;
        }
        let total = subtotal
            .checked_add(fees)
            .and_then(|t| t.checked_add(self.shipping_fee))
            .and_then(|t| t.checked_sub(self.discount))
            .ok_or_else(over)?
            .max(0);
        for v in [
            subtotal,
            fees,
            self.shipping_fee,
            self.discount,
            total,
            self.paid,
        ] {
            if !(0..=MAX_MINOR).contains(&v) {
                return Err(over());
            }
        }
        Ok(Totals {
            subtotal: Money::new(subtotal, c),
            service_fees: Money::new(fees, c),
            shipping_fee: Money::new(self.shipping_fee, c),
            discount: Money::new(self.discount, c),
            total: Money::new(total, c),
            paid: Money::new(self.paid, c),
            remaining: Money::new(settle::owed(total, self.paid), c),
        })
    }

    fn saturated_totals(&self) -> Totals {
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
            .chain(self.services.iter().map(OrderService::owed))
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
            remaining: Money::new(settle::owed(total, self.paid), c),
        }
    }
}

/// What the shop does with money it holds above an order's total (the total
/// went down after payment, or the order was cancelled).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExcessPolicy {
    /// Credit the customer's shop balance (a ledger entry).
    #[default]
    Balance,
    /// Record a `refund_due` payment row the seller pays back by hand.
    RefundDue,
}

/// The shop's money rules a decision follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    pub excess: ExcessPolicy,
    /// Until when the customer may cancel in chat.
    pub cancel: super::lifecycle::CancelRule,
    /// Added as a fee line when the customer chooses cash on delivery.
    pub cod_fee: i64,
}

/// The label of the fee line cash on delivery adds.
pub const COD_FEE_LABEL: &str = "COD fee";

string_enum!(
    /// A payment row's status as the money rules write it (slips have more:
    /// `fetching`, `pending`, `flagged`, `failed`, `rejected`): `difference`
    /// is a COD remittance that did not match what was owed, `refund_due`
    /// money the seller owes back to the customer.
    PaymentRowStatus {
        Confirmed = "confirmed",
        Difference = "difference",
        RefundDue = "refund_due",
    }
);

/// A payment row the plan adds: money in (`amount` > 0) or a refund the
/// seller owes (`amount` < 0). `difference` is what a COD remittance was
/// above (+) or below (−) what the order owed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRecord {
    pub method: PaymentMethod,
    pub amount: i64,
    pub status: PaymentRowStatus,
    pub difference: i64,
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
    /// `amount` is what the slip shows (default: what is still owed). More
    /// than owed is refused unless `credit_excess` (an owner's explicit
    /// choice) credits the excess to the customer's balance. `slip`: the
    /// confirmation is of a slip row the caller updates, so no new payment
    /// row is added.
    ConfirmPayment {
        amount: Option<i64>,
        #[serde(default)]
        credit_excess: bool,
        #[serde(default)]
        slip: bool,
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
        /// The shipping fee the shop's rules give for the new address, when
        /// the customer changes it in chat; `None` keeps the fee.
        #[serde(default)]
        shipping_fee: Option<i64>,
    },
    EditFees {
        fees: Vec<Fee>,
        shipping_fee: Option<i64>,
        discount: Option<i64>,
    },
    /// Add one of the shop's services; `offer` is the shop's as the caller
    /// read it (`None`: the shop offers no such service).
    AddService {
        service: String,
        #[serde(default)]
        offer: Option<ServiceOffer>,
    },
    RemoveService {
        service: String,
    },
    /// The shop did the service (a service charged after done is owed now).
    ServiceDone {
        service: String,
    },
    /// Where the parcel is, from a shipping integration or the seller.
    Track {
        status: TrackingStatus,
        #[serde(default)]
        note: Option<String>,
    },
    /// A claim resolved with a refund: the total goes down by `amount` and
    /// what was paid above it goes to the customer's balance.
    RefundClaim {
        claim_id: i64,
        amount: i64,
    },
    /// The seller dealt with a COD difference or paid a refund due back.
    /// `row` is the payment as the caller read it in the transaction
    /// (`None`: no such payment on this order).
    ResolvePayment {
        payment_id: i64,
        note: String,
        #[serde(default)]
        row: Option<OpenPayment>,
    },
}

/// A payment row as a resolution finds it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpenPayment {
    /// The stored status (`difference`, `refund_due`, or another).
    pub status: String,
    /// Signed: a refund due is negative.
    pub amount: i64,
    pub difference: i64,
    pub resolved: bool,
}

/// A payment row the plan marks resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub payment_id: i64,
    pub note: String,
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
    /// The total went up after payment: `amount` is still to pay.
    AmountDue {
        amount: i64,
        total: i64,
    },
    /// `amount` went to the customer's shop balance (an overpayment, or the
    /// total went down after payment).
    CreditedToBalance {
        amount: i64,
    },
    /// The shop owes `amount` back and will pay it back.
    RefundDue {
        amount: i64,
    },
    /// The shop paid `amount` back (a refund due, resolved).
    RefundPaidBack {
        amount: i64,
    },
    LineChangeProposed {
        line_id: i64,
        name: String,
        unit_price: i64,
        qty: i64,
    },
    OrderUpdated,
    /// The shop made this order for the customer (they phoned or came in):
    /// the bill and how to pay.
    MadeByShop {
        total: i64,
    },
    /// The seller changed where the order goes (`address` on one line).
    AddressChanged {
        address: String,
    },
    /// The parcel came back to the shop; its items are on sale again.
    ReturnedToStock,
    /// The shop did a service; `charged` is what it added (0: it was in
    /// the total already).
    ServiceDone {
        name: String,
        charged: i64,
    },
    /// The carrier's news of the parcel ("out for delivery", "failed, will
    /// retry").
    Tracking {
        status: TrackingStatus,
        note: Option<String>,
    },
    /// A claim on the order was filed, taken up or resolved.
    ClaimUpdate {
        claim_id: i64,
        reason: crate::domain::claim::ClaimReason,
        status: crate::domain::claim::ClaimStatus,
        outcome: Option<crate::domain::claim::ClaimOutcome>,
        refund: Option<i64>,
        note: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub order: Order,
    pub transitions: Vec<Transition>,
    pub stock: Vec<StockMove>,
    pub ledger: Vec<LedgerMove>,
    /// Payment rows to add (manual confirmations, COD, refunds due).
    pub payments: Vec<PaymentRecord>,
    /// Payment rows the seller resolved.
    pub resolutions: Vec<Resolution>,
    pub notices: Vec<Notice>,
    /// Free-text reason kept with the history rows (cancel, reject).
    pub reason: Option<String>,
}

impl From<MoneyError> for OrderError {
    fn from(e: MoneyError) -> Self {
        OrderError::BadInput(e.to_string())
    }
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

/// Decides what `command` by `actor` does to `order`, with the default rules.
pub fn decide(order: &Order, command: Command, actor: &Actor) -> Result<Plan, OrderError> {
    decide_with(order, command, actor, Rules::default())
}

/// Decides under the shop's `rules`. After the command, the amounts settle
/// the payment state (`settle::settle`): money above the total goes back,
/// and the state is the one the amounts imply.
pub fn decide_with(
    order: &Order,
    command: Command,
    actor: &Actor,
    rules: Rules,
) -> Result<Plan, OrderError> {
    let mut d = Draft::new(order, rules);
    match command {
        Command::Confirm => fulfilment::confirm(&mut d, actor),
        Command::SubmitSlip { suspicious } => payment::submit_slip(&mut d, suspicious, actor),
        Command::ConfirmPayment {
            amount,
            credit_excess,
            slip,
        } => payment::confirm(
            &mut d,
            payment::Confirmation {
                amount,
                credit_excess,
                slip,
            },
            actor,
        ),
        Command::RejectPayment { reason } => payment::reject(&mut d, reason, actor),
        Command::ChooseCod => payment::choose_cod(&mut d, actor),
        Command::Ship { carrier, tracking } => fulfilment::ship(&mut d, carrier, tracking, actor),
        Command::Complete => fulfilment::complete(&mut d, actor),
        Command::FailDelivery => fulfilment::fail_delivery(&mut d, actor),
        Command::ReturnToStock => fulfilment::return_to_stock(&mut d, actor),
        Command::CollectCod { amount } => payment::collect_cod(&mut d, amount, actor),
        Command::Cancel { reason } => fulfilment::cancel(&mut d, reason, actor),
        Command::Expire => fulfilment::expire(&mut d, actor),
        Command::PayFromBalance {
            available,
            allow_negative,
        } => payment::pay_from_balance(&mut d, available, allow_negative, actor),
        Command::OrderMore { increases } => edit::order_more(&mut d, increases),
        Command::ProposeLineChange {
            line_id,
            unit_price,
            qty,
        } => edit::propose_line_change(&mut d, line_id, unit_price, qty),
        Command::AnswerLineChange { line_id, accept } => {
            edit::answer_line_change(&mut d, line_id, accept)
        }
        Command::EditAddress {
            address,
            shipping_fee,
        } => edit::edit_address(&mut d, address, shipping_fee),
        Command::EditFees {
            fees,
            shipping_fee,
            discount,
        } => edit::edit_fees(&mut d, fees, shipping_fee, discount),
        Command::ResolvePayment {
            payment_id,
            note,
            row,
        } => payment::resolve(&mut d, payment_id, note, row, actor),
        Command::RefundClaim { amount, .. } => edit::refund_claim(&mut d, amount),
        Command::AddService { service, offer } => services::add(&mut d, &service, offer, actor),
        Command::RemoveService { service } => services::remove(&mut d, &service, actor),
        Command::ServiceDone { service } => services::mark_done(&mut d, &service, actor),
        Command::Track { status, note } => services::track(&mut d, status, note, actor),
    }?;
    settle::settle(&mut d)?;
    // The customer made this change and reads its answer in chat; "updated
    // by the shop" would be wrong.
    if *actor == Actor::Customer {
        d.notices
            .retain(|n| !matches!(n, Notice::OrderUpdated | Notice::AddressChanged { .. }));
    }
    Ok(d.into_plan())
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
mod tests;
