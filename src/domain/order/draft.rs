//! The plan under construction: the order as it becomes, plus the effects
//! gathered on the way. Every rule goes through these steps so a state
//! change always leaves its history row.

use super::{
    ExcessPolicy, LedgerMove, Notice, Order, OrderError, PaymentMethod, PaymentRecord,
    PaymentRowStatus, Plan, Resolution, Rules, StockMove,
};
use crate::domain::ledger::LedgerKind;
use crate::domain::lifecycle::InWords;
use crate::domain::lifecycle::{
    self as lc, Actor, Fulfilment, FulfilmentEvent as FE, PaymentEvent as PE, PaymentStatus,
    Transition,
};

pub(super) struct Draft {
    pub(super) order: Order,
    transitions: Vec<Transition>,
    pub(super) stock: Vec<StockMove>,
    pub(super) ledger: Vec<LedgerMove>,
    pub(super) payments: Vec<PaymentRecord>,
    pub(super) resolutions: Vec<Resolution>,
    pub(super) notices: Vec<Notice>,
    pub(super) reason: Option<String>,
    pub(super) rules: Rules,
    /// The order as the command found it.
    pub(super) before: Order,
}

impl Draft {
    pub(super) fn new(order: &Order, rules: Rules) -> Draft {
        Draft {
            order: order.clone(),
            transitions: Vec::new(),
            stock: Vec::new(),
            ledger: Vec::new(),
            payments: Vec::new(),
            resolutions: Vec::new(),
            notices: Vec::new(),
            reason: None,
            rules,
            before: order.clone(),
        }
    }
    pub(super) fn into_plan(self) -> Plan {
        Plan {
            order: self.order,
            transitions: self.transitions,
            stock: self.stock,
            ledger: self.ledger,
            payments: self.payments,
            resolutions: self.resolutions,
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
    /// A history row of another machine (services, tracking).
    pub(super) fn push_transition(&mut self, t: Transition) {
        self.transitions.push(t);
    }
    /// A history row for something that changes no state (a resolution).
    pub(super) fn record(&mut self, event: PE) {
        let p = self.order.payment;
        self.transitions.push(Transition::payment(p, event, p));
    }
    /// A state the amounts imply, not a command: recorded, not looked up.
    pub(super) fn derive_payment(&mut self, to: PaymentStatus) {
        let from = self.order.payment;
        self.order.payment = to;
        self.transitions
            .push(Transition::payment(from, PE::AmountsChanged, to));
    }
    /// Gives `amount` of what was paid back, the shop's way: to the
    /// customer's balance (returned: `true`) or as a refund the seller owes.
    /// One ledger entry or one payment row, and one push.
    pub(super) fn give_back(&mut self, amount: i64) -> bool {
        self.order.paid -= amount;
        match self.rules.excess {
            ExcessPolicy::Balance => {
                self.ledger.push(LedgerMove {
                    kind: LedgerKind::Refund,
                    amount,
                });
                true
            }
            ExcessPolicy::RefundDue => {
                self.payments.push(PaymentRecord {
                    method: self.order.method.unwrap_or(PaymentMethod::BankTransfer),
                    amount: -amount,
                    status: PaymentRowStatus::RefundDue,
                    difference: 0,
                });
                self.notices.push(Notice::RefundDue { amount });
                false
            }
        }
    }
    /// Paid money goes back, exactly once (a cancelled order cannot be
    /// cancelled again); returns what went to the balance.
    pub(super) fn refund_all(&mut self, actor: &Actor) -> Result<i64, OrderError> {
        let paid = self.order.paid;
        if paid > 0 {
            self.pay(PE::Refund, actor)?;
            return Ok(if self.give_back(paid) { paid } else { 0 });
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
    /// What is still owed, from checked totals.
    pub(super) fn remaining(&self) -> Result<i64, OrderError> {
        Ok(self.order.checked_totals()?.remaining.minor)
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
        let event = if self.remaining()? <= 0 {
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
        order.fulfilment.in_words()
    ))
}

pub(super) fn positive(amount: i64, what: &str) -> Result<i64, OrderError> {
    if amount > crate::domain::money::MAX_MINOR {
        Err(OrderError::BadInput(format!(
            "{what} must be at most {} minor units",
            crate::domain::money::MAX_MINOR
        )))
    } else if amount > 0 {
        Ok(amount)
    } else {
        Err(OrderError::BadInput(format!(
            "{what} must be greater than zero"
        )))
    }
}
