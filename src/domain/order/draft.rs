//! The plan under construction: the order as it becomes, plus the effects
//! gathered on the way. Every rule goes through these steps so a state
//! change always leaves its history row.

use super::{LedgerMove, Notice, Order, OrderError, Plan, StockMove};
use crate::domain::ledger::LedgerKind;
use crate::domain::lifecycle::{
    self as lc, Actor, Fulfilment, FulfilmentEvent as FE, PaymentEvent as PE, PaymentStatus,
    Transition,
};

pub(super) struct Draft {
    pub(super) order: Order,
    transitions: Vec<Transition>,
    pub(super) stock: Vec<StockMove>,
    pub(super) ledger: Vec<LedgerMove>,
    pub(super) notices: Vec<Notice>,
    pub(super) reason: Option<String>,
}

impl Draft {
    pub(super) fn new(order: &Order) -> Draft {
        Draft {
            order: order.clone(),
            transitions: Vec::new(),
            stock: Vec::new(),
            ledger: Vec::new(),
            notices: Vec::new(),
            reason: None,
        }
    }
    pub(super) fn into_plan(self) -> Plan {
        Plan {
            order: self.order,
            transitions: self.transitions,
            stock: self.stock,
            ledger: self.ledger,
            notices: self.notices,
            reason: self.reason,
        }
    }
    pub(super) fn fulfil(&mut self, event: FE, actor: &Actor) -> Result<(), OrderError> {
        let from = self.order.fulfilment;
        let to = lc::next_fulfilment(from, event, actor)?;
        self.order.fulfilment = to;
        self.transitions
            .push(Transition::fulfilment(from, event, to));
        Ok(())
    }
    pub(super) fn pay(&mut self, event: PE, actor: &Actor) -> Result<(), OrderError> {
        let from = self.order.payment;
        let to = lc::next_payment(from, event, actor)?;
        self.order.payment = to;
        self.transitions.push(Transition::payment(from, event, to));
        Ok(())
    }
    pub(super) fn release_all_stock(&mut self) {
        for l in self.order.lines.iter().filter(|l| l.counts()) {
            self.stock.push(StockMove {
                variant_id: l.variant_id,
                delta: l.qty,
            });
        }
    }
    /// Paid money goes back to the customer's shop balance; nothing is lost.
    pub(super) fn refund_to_balance(&mut self, actor: &Actor) -> Result<i64, OrderError> {
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
    pub(super) fn remaining(&self) -> i64 {
        self.order.totals().remaining.minor
    }
    pub(super) fn record_payment(
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

pub(super) fn not_editable(order: &Order) -> OrderError {
    OrderError::Policy(format!(
        "the order is {}; it can only be edited before it ships",
        order.fulfilment
    ))
}

pub(super) fn positive(amount: i64, what: &str) -> Result<i64, OrderError> {
    if amount > 0 {
        Ok(amount)
    } else {
        Err(OrderError::BadInput(format!(
            "{what} must be greater than zero"
        )))
    }
}
