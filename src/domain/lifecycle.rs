//! The two order state machines, each an explicit transition table.
//!
//! Fulfilment and payment move independently ("order collection is an
//! independent link", seed 001). Every legal move is one row below; anything
//! else is illegal and the caller gets the current state back in the error.

use std::fmt;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$variant),)* _ => None }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Where the goods are.
    Fulfilment {
        Placed = "placed",
        Confirmed = "confirmed",
        Shipping = "shipping",
        AwaitingCod = "awaiting_cod",
        Completed = "completed",
        Failed = "failed",
        Returned = "returned",
        Cancelled = "cancelled",
    }
);

string_enum!(
    FulfilmentEvent {
        Confirm = "confirm",
        Ship = "ship",
        Deliver = "deliver",
        DeliverAwaitingCod = "deliver_awaiting_cod",
        CollectCod = "collect_cod",
        FailDelivery = "fail_delivery",
        ReturnToStock = "return_to_stock",
        Cancel = "cancel",
        Expire = "expire",
    }
);

string_enum!(
    /// Where the money is.
    PaymentStatus {
        Unpaid = "unpaid",
        PendingReview = "pending_review",
        PartiallyPaid = "partially_paid",
        Paid = "paid",
        Rejected = "rejected",
        CodPending = "cod_pending",
        CodCollected = "cod_collected",
        Refunded = "refunded",
        Void = "void",
    }
);

string_enum!(
    PaymentEvent {
        SubmitSlip = "submit_slip",
        ConfirmSettles = "confirm_settles",
        ConfirmPartly = "confirm_partly",
        Reject = "reject",
        ChooseCod = "choose_cod",
        CollectCod = "collect_cod",
        PayFromBalanceSettles = "pay_from_balance_settles",
        PayFromBalancePartly = "pay_from_balance_partly",
        Refund = "refund",
        Void = "void",
        AmountsChanged = "amounts_changed",
        // Records, not moves (the state stays): the seller settled a COD
        // remittance that did not match, or paid a refund due back by hand.
        ResolveDifference = "resolve_difference",
        RefundPaidBack = "refund_paid_back",
    }
);

/// Who may fire a transition, as a small bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Who(u8);
pub const CUSTOMER: Who = Who(1);
pub const SELLER: Who = Who(2);
pub const SYSTEM: Who = Who(4);
const ANYONE: Who = Who(7);
const SELLER_OR_SYSTEM: Who = Who(6);
/// The customer only where the shop's [`CancelRule`] lets them.
const SELLER_OR_CUSTOMER: Who = Who(3);

impl Who {
    pub fn allows(self, actor: &Actor) -> bool {
        let bit = match actor {
            Actor::Customer => CUSTOMER.0,
            Actor::Seller(_) => SELLER.0,
            Actor::System => SYSTEM.0,
        };
        self.0 & bit != 0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Actor {
    Customer,
    /// A seller or staff member, named by their token's label.
    Seller(String),
    System,
}

impl Actor {
    /// Stored form in history rows: `customer`, `system`, `seller:<label>`.
    pub fn to_db(&self) -> String {
        match self {
            Actor::Customer => "customer".into(),
            Actor::System => "system".into(),
            Actor::Seller(name) => format!("seller:{name}"),
        }
    }
}

use Fulfilment as F;
use FulfilmentEvent as FE;
use PaymentEvent as PE;
use PaymentStatus as P;

/// Fulfilment: placed → confirmed → shipping → completed, with COD, failure,
/// return to stock and cancellation (seeds 001 and 002).
#[rustfmt::skip]
pub const FULFILMENT_TABLE: &[(Fulfilment, FulfilmentEvent, Fulfilment, Who)] = &[
    // from            event                    to               who
    (F::Placed,      FE::Confirm,             F::Confirmed,    SELLER_OR_SYSTEM),
    (F::Placed,      FE::Cancel,              F::Cancelled,    ANYONE),
    (F::Placed,      FE::Expire,              F::Cancelled,    SYSTEM),
    (F::Confirmed,   FE::Cancel,              F::Cancelled,    SELLER_OR_CUSTOMER),
    (F::Confirmed,   FE::Ship,                F::Shipping,     SELLER),
    (F::Shipping,    FE::Deliver,             F::Completed,    SELLER),
    (F::Shipping,    FE::DeliverAwaitingCod,  F::AwaitingCod,  SELLER),
    (F::Shipping,    FE::FailDelivery,        F::Failed,       SELLER),
    (F::AwaitingCod, FE::CollectCod,          F::Completed,    SELLER),
    (F::Failed,      FE::Ship,                F::Shipping,     SELLER),
    (F::Failed,      FE::ReturnToStock,       F::Returned,     SELLER),
];

/// Payment: unpaid → pending review → paid, rejected slips, COD, balance,
/// refunds. Partial payments keep `paid + remaining = total` honest.
#[rustfmt::skip]
pub const PAYMENT_TABLE: &[(PaymentStatus, PaymentEvent, PaymentStatus, Who)] = &[
    (P::Unpaid,        PE::SubmitSlip,             P::PendingReview, ANYONE),
    (P::Rejected,      PE::SubmitSlip,             P::PendingReview, ANYONE),
    (P::PartiallyPaid, PE::SubmitSlip,             P::PendingReview, ANYONE),
    (P::Unpaid,        PE::ConfirmSettles,         P::Paid,          SELLER),
    (P::Unpaid,        PE::ConfirmPartly,          P::PartiallyPaid, SELLER),
    (P::PendingReview, PE::ConfirmSettles,         P::Paid,          SELLER),
    (P::PendingReview, PE::ConfirmPartly,          P::PartiallyPaid, SELLER),
    (P::PartiallyPaid, PE::ConfirmSettles,         P::Paid,          SELLER),
    (P::PartiallyPaid, PE::ConfirmPartly,          P::PartiallyPaid, SELLER),
    (P::Rejected,      PE::ConfirmSettles,         P::Paid,          SELLER),
    (P::Rejected,      PE::ConfirmPartly,          P::PartiallyPaid, SELLER),
    (P::PendingReview, PE::Reject,                 P::Rejected,      SELLER),
    (P::Unpaid,        PE::ChooseCod,              P::CodPending,    ANYONE),
    (P::Rejected,      PE::ChooseCod,              P::CodPending,    SELLER),
    (P::CodPending,    PE::CollectCod,             P::CodCollected,  SELLER),
    (P::Unpaid,        PE::PayFromBalanceSettles,  P::Paid,          ANYONE),
    (P::Rejected,      PE::PayFromBalanceSettles,  P::Paid,          ANYONE),
    (P::PartiallyPaid, PE::PayFromBalanceSettles,  P::Paid,          ANYONE),
    (P::CodPending,    PE::PayFromBalanceSettles,  P::Paid,          ANYONE),
    (P::Unpaid,        PE::PayFromBalancePartly,   P::PartiallyPaid, SELLER),
    (P::PartiallyPaid, PE::PayFromBalancePartly,   P::PartiallyPaid, SELLER),
    (P::Paid,          PE::Refund,                 P::Refunded,      SELLER_OR_SYSTEM),
    (P::PartiallyPaid, PE::Refund,                 P::Refunded,      SELLER_OR_SYSTEM),
    (P::CodCollected,  PE::Refund,                 P::Refunded,      SELLER),
    (P::Unpaid,        PE::Void,                   P::Void,          ANYONE),
    (P::Rejected,      PE::Void,                   P::Void,          ANYONE),
    (P::PendingReview, PE::Void,                   P::Void,          SELLER),
    (P::CodPending,    PE::Void,                   P::Void,          ANYONE),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TransitionError {
    #[error("the order is {}; it cannot {}", .from.in_words(), .event.in_words())]
    IllegalFulfilment {
        from: Fulfilment,
        event: FulfilmentEvent,
    },
    #[error("the payment is {}; it cannot {}", .from.in_words(), .event.in_words())]
    IllegalPayment {
        from: PaymentStatus,
        event: PaymentEvent,
    },
    #[error("an order that is {from} cannot {event} by {actor}")]
    NotAllowed {
        actor: &'static str,
        from: String,
        event: String,
    },
}

fn actor_name(a: &Actor) -> &'static str {
    match a {
        Actor::Customer => "the customer",
        Actor::Seller(_) => "the seller",
        Actor::System => "the system",
    }
}

/// A state or a move as a refusal says it to a person: "the order is
/// {state}; it cannot {move}" (the API's body names the codes beside it).
pub trait InWords {
    fn in_words(self) -> &'static str;
}

impl InWords for Fulfilment {
    fn in_words(self) -> &'static str {
        match self {
            Fulfilment::Placed => "new",
            Fulfilment::Confirmed => "confirmed",
            Fulfilment::Shipping => "out for delivery",
            Fulfilment::AwaitingCod => "delivered and waiting for its COD money",
            Fulfilment::Completed => "complete",
            Fulfilment::Failed => "not delivered",
            Fulfilment::Returned => "returned to stock",
            Fulfilment::Cancelled => "cancelled",
        }
    }
}

impl InWords for FulfilmentEvent {
    fn in_words(self) -> &'static str {
        match self {
            FulfilmentEvent::Confirm => "be confirmed",
            FulfilmentEvent::Ship => "be shipped",
            FulfilmentEvent::Deliver | FulfilmentEvent::DeliverAwaitingCod => "be marked delivered",
            FulfilmentEvent::CollectCod => "have its COD money collected",
            FulfilmentEvent::FailDelivery => "be marked not delivered",
            FulfilmentEvent::ReturnToStock => "be returned to stock",
            FulfilmentEvent::Cancel => "be cancelled",
            FulfilmentEvent::Expire => "expire",
        }
    }
}

impl InWords for PaymentStatus {
    fn in_words(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "not made yet",
            PaymentStatus::PendingReview => "waiting for review",
            PaymentStatus::PartiallyPaid => "partly made",
            PaymentStatus::Paid => "paid in full",
            PaymentStatus::Rejected => "rejected",
            PaymentStatus::CodPending => "due on delivery (COD)",
            PaymentStatus::CodCollected => "collected on delivery",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Void => "void",
        }
    }
}

impl InWords for PaymentEvent {
    fn in_words(self) -> &'static str {
        match self {
            PaymentEvent::SubmitSlip => "take a slip",
            PaymentEvent::ConfirmSettles | PaymentEvent::ConfirmPartly => "be confirmed",
            PaymentEvent::Reject => "be rejected",
            PaymentEvent::ChooseCod => "change to COD",
            PaymentEvent::CollectCod => "be collected on delivery",
            PaymentEvent::PayFromBalanceSettles | PaymentEvent::PayFromBalancePartly => {
                "be paid from the balance"
            }
            PaymentEvent::Refund => "be refunded",
            PaymentEvent::Void => "be voided",
            PaymentEvent::AmountsChanged => "change its amounts",
            PaymentEvent::ResolveDifference => "have a difference settled",
            PaymentEvent::RefundPaidBack => "have a refund paid back",
        }
    }
}

/// Looks `(from, event)` up in a transition table and checks the actor.
fn lookup<S, E>(
    table: &[(S, E, S, Who)],
    from: S,
    event: E,
    actor: &Actor,
    illegal: TransitionError,
) -> Result<S, TransitionError>
where
    S: Copy + PartialEq + InWords,
    E: Copy + PartialEq + InWords,
{
    let row = table
        .iter()
        .find(|(f, e, _, _)| *f == from && *e == event)
        .ok_or(illegal)?;
    if !row.3.allows(actor) {
        return Err(TransitionError::NotAllowed {
            actor: actor_name(actor),
            from: from.in_words().to_string(),
            event: event.in_words().to_string(),
        });
    }
    Ok(row.2)
}

pub fn next_fulfilment(
    from: Fulfilment,
    event: FulfilmentEvent,
    actor: &Actor,
) -> Result<Fulfilment, TransitionError> {
    lookup(
        FULFILMENT_TABLE,
        from,
        event,
        actor,
        TransitionError::IllegalFulfilment { from, event },
    )
}

pub fn next_payment(
    from: PaymentStatus,
    event: PaymentEvent,
    actor: &Actor,
) -> Result<PaymentStatus, TransitionError> {
    lookup(
        PAYMENT_TABLE,
        from,
        event,
        actor,
        TransitionError::IllegalPayment { from, event },
    )
}

/// One row of order history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transition {
    /// `fulfilment` or `payment`.
    pub machine: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub event: &'static str,
}

impl Transition {
    pub fn fulfilment(from: Fulfilment, event: FulfilmentEvent, to: Fulfilment) -> Transition {
        Transition {
            machine: "fulfilment",
            from: from.as_str(),
            to: to.as_str(),
            event: event.as_str(),
        }
    }
    pub fn payment(from: PaymentStatus, event: PaymentEvent, to: PaymentStatus) -> Transition {
        Transition {
            machine: "payment",
            from: from.as_str(),
            to: to.as_str(),
            event: event.as_str(),
        }
    }
}

/// Before the seller confirms or ships, the customer may still change
/// their mind (seeds 000 and 001).
/// Until when a customer may cancel in chat (the shop's cancel policy).
/// Later, only the shop can. A slip under review always waits for the
/// seller's decision, so the money is never in two minds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelRule {
    /// While nothing is paid (cash on delivery counts as unpaid).
    #[default]
    UntilPaid,
    /// Until the shop confirms the order, paid or not; money paid goes
    /// back by the shop's excess rule (balance or refund).
    UntilConfirmed,
    /// Until the goods leave.
    UntilShipped,
}

pub fn customer_may_cancel(f: Fulfilment, p: PaymentStatus, rule: CancelRule) -> bool {
    match rule {
        CancelRule::UntilPaid => {
            f == F::Placed && matches!(p, P::Unpaid | P::Rejected | P::CodPending)
        }
        CancelRule::UntilConfirmed => f == F::Placed && p != P::PendingReview,
        CancelRule::UntilShipped => matches!(f, F::Placed | F::Confirmed) && p != P::PendingReview,
    }
}

/// "Order more": only increases, and only while unpaid and unconfirmed.
pub fn may_order_more(f: Fulfilment, p: PaymentStatus) -> bool {
    f == F::Placed && matches!(p, P::Unpaid | P::Rejected | P::CodPending)
}

/// Seller edits (address, services, lines) before the goods leave.
pub fn seller_may_edit(f: Fulfilment) -> bool {
    matches!(f, F::Placed | F::Confirmed)
}

/// Stock is held by every order that has not been cancelled or returned.
pub fn holds_stock(f: Fulfilment) -> bool {
    !matches!(f, F::Cancelled | F::Returned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seller() -> Actor {
        Actor::Seller("owner".into())
    }

    #[test]
    fn every_fulfilment_row_is_reachable_and_unique() {
        for (i, (from, ev, to, who)) in FULFILMENT_TABLE.iter().enumerate() {
            for actor in [Actor::Customer, seller(), Actor::System] {
                let got = next_fulfilment(*from, *ev, &actor);
                if who.allows(&actor) {
                    assert_eq!(got, Ok(*to), "row {i}");
                } else {
                    assert!(
                        matches!(got, Err(TransitionError::NotAllowed { .. })),
                        "row {i}"
                    );
                }
            }
            let dupes = FULFILMENT_TABLE
                .iter()
                .filter(|(f, e, _, _)| f == from && e == ev)
                .count();
            assert_eq!(dupes, 1, "row {i} is ambiguous");
        }
    }

    #[test]
    fn every_payment_row_is_reachable_and_unique() {
        for (i, (from, ev, to, who)) in PAYMENT_TABLE.iter().enumerate() {
            for actor in [Actor::Customer, seller(), Actor::System] {
                let got = next_payment(*from, *ev, &actor);
                if who.allows(&actor) {
                    assert_eq!(got, Ok(*to), "row {i}");
                } else {
                    assert!(got.is_err(), "row {i}");
                }
            }
            let dupes = PAYMENT_TABLE
                .iter()
                .filter(|(f, e, _, _)| f == from && e == ev)
                .count();
            assert_eq!(dupes, 1, "row {i} is ambiguous");
        }
    }

    #[test]
    fn a_sample_of_illegal_moves_is_refused_with_the_current_state() {
        let s = seller();
        assert_eq!(
            next_fulfilment(F::Placed, FE::Ship, &s),
            Err(TransitionError::IllegalFulfilment {
                from: F::Placed,
                event: FE::Ship
            })
        );
        assert!(next_fulfilment(F::Shipping, FE::Cancel, &s).is_err());
        assert!(next_fulfilment(F::Completed, FE::Cancel, &s).is_err());
        assert!(next_fulfilment(F::Cancelled, FE::Confirm, &s).is_err());
        assert!(next_fulfilment(F::Returned, FE::ReturnToStock, &s).is_err());
        assert!(next_fulfilment(F::Confirmed, FE::Cancel, &Actor::System).is_err());
        assert!(next_fulfilment(F::Placed, FE::Expire, &s).is_err());
        assert!(next_payment(P::Paid, PE::SubmitSlip, &Actor::Customer).is_err());
        assert!(next_payment(P::Paid, PE::ConfirmSettles, &s).is_err());
        assert!(next_payment(P::Unpaid, PE::Reject, &s).is_err());
        assert!(next_payment(P::Refunded, PE::Refund, &s).is_err());
        assert!(next_payment(P::PendingReview, PE::ConfirmSettles, &Actor::Customer).is_err());
        let msg = next_fulfilment(F::Shipping, FE::Confirm, &s)
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "the order is out for delivery; it cannot be confirmed");
    }

    #[test]
    fn customer_policy_follows_the_seeds() {
        let until_paid = CancelRule::UntilPaid;
        assert!(customer_may_cancel(F::Placed, P::Unpaid, until_paid));
        assert!(!customer_may_cancel(
            F::Placed,
            P::PendingReview,
            until_paid
        ));
        assert!(!customer_may_cancel(F::Placed, P::Paid, until_paid));
        assert!(!customer_may_cancel(F::Confirmed, P::Unpaid, until_paid));
        assert!(!customer_may_cancel(F::Shipping, P::CodPending, until_paid));
        let until_confirmed = CancelRule::UntilConfirmed;
        assert!(customer_may_cancel(F::Placed, P::Paid, until_confirmed));
        assert!(!customer_may_cancel(
            F::Placed,
            P::PendingReview,
            until_confirmed
        ));
        assert!(!customer_may_cancel(F::Confirmed, P::Paid, until_confirmed));
        let until_shipped = CancelRule::UntilShipped;
        assert!(customer_may_cancel(F::Confirmed, P::Paid, until_shipped));
        assert!(!customer_may_cancel(F::Shipping, P::Paid, until_shipped));
        assert!(!customer_may_cancel(
            F::Confirmed,
            P::PendingReview,
            until_shipped
        ));
        assert!(may_order_more(F::Placed, P::Unpaid));
        assert!(!may_order_more(F::Placed, P::Paid));
        assert!(seller_may_edit(F::Confirmed));
        assert!(!seller_may_edit(F::Shipping));
    }

    #[test]
    fn names_round_trip() {
        for f in Fulfilment::ALL {
            assert_eq!(Fulfilment::parse(f.as_str()), Some(*f));
        }
        for p in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(p.as_str()), Some(*p));
        }
    }
}

string_enum!(
    /// The seller's status tabs. Every order sits in exactly one tab besides
    /// `all`: the goods decide first, and before the goods leave, the money.
    Tab {
        All = "all",
        PendingPayment = "pending_payment",
        PendingReview = "pending_review",
        Paid = "paid",
        Shipping = "shipping",
        AwaitingCod = "awaiting_cod",
        Complete = "complete",
        Failed = "failed",
        Returned = "returned",
        Cancelled = "cancelled",
    }
);

impl Tab {
    /// The tab as fulfilment set × payment set (`None` = any).
    pub fn filter(
        self,
    ) -> (
        Option<&'static [Fulfilment]>,
        Option<&'static [PaymentStatus]>,
    ) {
        const BEFORE_SHIPPING: &[Fulfilment] = &[F::Placed, F::Confirmed];
        match self {
            Tab::All => (None, None),
            Tab::PendingPayment => (
                Some(BEFORE_SHIPPING),
                Some(&[P::Unpaid, P::Rejected, P::PartiallyPaid]),
            ),
            Tab::PendingReview => (Some(BEFORE_SHIPPING), Some(&[P::PendingReview])),
            Tab::Paid => (
                Some(BEFORE_SHIPPING),
                Some(&[P::Paid, P::CodPending, P::CodCollected]),
            ),
            Tab::Shipping => (Some(&[F::Shipping]), None),
            Tab::AwaitingCod => (Some(&[F::AwaitingCod]), None),
            Tab::Complete => (Some(&[F::Completed]), None),
            Tab::Failed => (Some(&[F::Failed]), None),
            Tab::Returned => (Some(&[F::Returned]), None),
            Tab::Cancelled => (Some(&[F::Cancelled]), None),
        }
    }
    pub fn contains(self, f: Fulfilment, p: PaymentStatus) -> bool {
        let (fs, ps) = self.filter();
        fs.is_none_or(|fs| fs.contains(&f)) && ps.is_none_or(|ps| ps.contains(&p))
    }
}

#[cfg(test)]
mod tab_tests {
    use super::*;

    /// Walk every state the tables can reach and check each lands in one tab.
    #[test]
    fn every_reachable_state_is_in_exactly_one_tab() {
        let mut seen = vec![(F::Placed, P::Unpaid)];
        let mut i = 0;
        while i < seen.len() {
            let (f, p) = seen[i];
            for (from, _, to, _) in FULFILMENT_TABLE {
                if *from == f && !seen.contains(&(*to, p)) {
                    seen.push((*to, p));
                }
            }
            for (from, _, to, _) in PAYMENT_TABLE {
                if *from == p && !seen.contains(&(f, *to)) {
                    seen.push((f, *to));
                }
            }
            i += 1;
        }
        for (f, p) in seen {
            if matches!(p, P::Void | P::Refunded) && matches!(f, F::Placed | F::Confirmed) {
                // Void and refund only happen together with cancellation.
                continue;
            }
            let tabs: Vec<_> = Tab::ALL
                .iter()
                .filter(|t| **t != Tab::All && t.contains(f, p))
                .collect();
            assert_eq!(tabs.len(), 1, "{f}/{p} is in {tabs:?}");
        }
    }
}
