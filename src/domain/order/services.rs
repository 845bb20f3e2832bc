//! Extra services on an order (seed 000): gift wrap, insurance, inspection…
//! Each is charged always (owed from the moment it is chosen) or charged
//! after it is done (owed only once the seller marks it done). The money
//! follows from that: `Order::checked_totals` counts what is owed, and the
//! settle step asks for or gives back the difference.
//!
//! The parcel's tracking updates from a carrier or the seller live here
//! too: like services, they change what the customer is told, not what the
//! order is.

use super::draft::{Draft, not_editable};
use super::{Notice, OrderError, fulfilment};
use crate::domain::lifecycle::InWords;
use crate::domain::lifecycle::{self as lc, Actor, Fulfilment, Transition, string_enum};
use crate::domain::money::in_range;
use std::fmt;

string_enum!(
    /// When a service's price is owed.
    Charging {
        Always = "always",
        WhenDone = "when_done",
    }
);

/// A service the shop offers (its settings), as a customer may choose it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceOffer {
    /// Stable short name (`gift_wrap`): what an order and a button refer to.
    pub id: String,
    pub name: String,
    pub price: i64,
    pub charged: Charging,
}

impl ServiceOffer {
    /// What an id may be: it rides in a chat button's payload and a URL.
    pub fn valid_id(id: &str) -> bool {
        (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    }
}

/// A service chosen on one order: the offer as it was then, and whether the
/// shop has done it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderService {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub charged: Charging,
    pub done: bool,
}

impl OrderService {
    /// What the service adds to the total now.
    pub fn owed(&self) -> i64 {
        match (self.charged, self.done) {
            (Charging::Always, _) | (Charging::WhenDone, true) => self.price,
            (Charging::WhenDone, false) => 0,
        }
    }
}

string_enum!(
    /// Where the parcel is, as the carrier (or the seller) reports it;
    /// `failed_attempt`: nobody was there and the carrier tries again,
    /// `returning`: the carrier gave up and brings it back.
    TrackingStatus {
        InTransit = "in_transit",
        OutForDelivery = "out_for_delivery",
        Delivered = "delivered",
        FailedAttempt = "failed_attempt",
        Returning = "returning",
    }
);

fn service_transition(event: &'static str, done: bool) -> Transition {
    Transition {
        machine: "service",
        from: "",
        to: if done { "done" } else { "chosen" },
        event,
    }
}

pub(super) fn add(
    d: &mut Draft,
    id: &str,
    offer: Option<ServiceOffer>,
    actor: &Actor,
) -> Result<(), OrderError> {
    let offer =
        offer.ok_or_else(|| OrderError::BadInput(format!("the shop offers no service {id:?}")))?;
    if !lc::seller_may_edit(d.order.fulfilment) {
        return Err(not_editable(&d.order));
    }
    if d.order.services.iter().any(|s| s.id == offer.id) {
        return Err(OrderError::Policy(format!(
            "{} is already on the order",
            offer.name
        )));
    }
    in_range(offer.price, "the service's price")?;
    d.reason = Some(offer.name.clone());
    d.push_transition(service_transition("service_added", false));
    d.order.services.push(OrderService {
        id: offer.id,
        name: offer.name,
        price: offer.price,
        charged: offer.charged,
        done: false,
    });
    if *actor != Actor::Customer {
        d.notices.push(Notice::OrderUpdated);
    }
    Ok(())
}

pub(super) fn remove(d: &mut Draft, id: &str, actor: &Actor) -> Result<(), OrderError> {
    if !lc::seller_may_edit(d.order.fulfilment) {
        return Err(not_editable(&d.order));
    }
    let at = d
        .order
        .services
        .iter()
        .position(|s| s.id == id)
        .ok_or_else(|| OrderError::BadInput(format!("no service {id:?} on this order")))?;
    if d.order.services[at].done {
        return Err(OrderError::Policy(format!(
            "{} is already done; it cannot be taken off",
            d.order.services[at].name
        )));
    }
    let gone = d.order.services.remove(at);
    d.reason = Some(gone.name);
    d.push_transition(service_transition("service_removed", false));
    if *actor != Actor::Customer {
        d.notices.push(Notice::OrderUpdated);
    }
    Ok(())
}

/// The shop did the service: one charged after it is done is owed now.
pub(super) fn mark_done(d: &mut Draft, id: &str, actor: &Actor) -> Result<(), OrderError> {
    if !matches!(actor, Actor::Seller(_)) {
        return Err(OrderError::Policy(
            "only the shop marks a service done".into(),
        ));
    }
    if matches!(
        d.order.fulfilment,
        Fulfilment::Cancelled | Fulfilment::Returned
    ) {
        return Err(OrderError::Policy(format!(
            "the order is {}; its services are no longer done",
            d.order.fulfilment.in_words()
        )));
    }
    let service = d
        .order
        .services
        .iter_mut()
        .find(|s| s.id == id)
        .ok_or_else(|| OrderError::BadInput(format!("no service {id:?} on this order")))?;
    if service.done {
        return Err(OrderError::Policy(format!(
            "{} is already done",
            service.name
        )));
    }
    service.done = true;
    let notice = Notice::ServiceDone {
        name: service.name.clone(),
        charged: match service.charged {
            Charging::WhenDone => service.price,
            Charging::Always => 0,
        },
    };
    d.reason = Some(service.name.clone());
    d.push_transition(service_transition("service_done", true));
    d.notices.push(notice);
    Ok(())
}

/// A tracking update: delivered and returning move the order as the
/// seller's own actions do; the others only tell the customer.
pub(super) fn track(
    d: &mut Draft,
    status: TrackingStatus,
    note: Option<String>,
    actor: &Actor,
) -> Result<(), OrderError> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(OrderError::BadInput(
            "the note is longer than 200 characters".into(),
        ));
    }
    let previous = d.order.tracking_status;
    match status {
        TrackingStatus::Delivered => fulfilment::complete(d, actor)?,
        TrackingStatus::Returning => fulfilment::fail_delivery(d, actor)?,
        _ => {
            if d.order.fulfilment != Fulfilment::Shipping {
                return Err(OrderError::Policy(format!(
                    "the order is {}; tracking updates come while it is on its way",
                    d.order.fulfilment.in_words()
                )));
            }
            // A second failed attempt is news; a repeated "in transit" is not.
            if previous == Some(status) && status != TrackingStatus::FailedAttempt {
                return Err(OrderError::Policy(format!(
                    "the parcel is already {status}"
                )));
            }
            d.notices.push(Notice::Tracking {
                status,
                note: note.clone(),
            });
        }
    }
    d.order.tracking_status = Some(status);
    d.reason = note;
    d.push_transition(Transition {
        machine: "tracking",
        from: previous.map(TrackingStatus::as_str).unwrap_or(""),
        to: status.as_str(),
        event: "tracking_update",
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::PaymentStatus;
    use crate::domain::order::tests::{order, seller};
    use crate::domain::order::*;

    fn wrap(charged: Charging) -> Command {
        Command::AddService {
            service: "wrap".into(),
            offer: Some(ServiceOffer {
                id: "wrap".into(),
                name: "Gift wrap".into(),
                price: 2_000,
                charged,
            }),
        }
    }

    fn paid(o: &Order) -> Order {
        decide(
            o,
            Command::ConfirmPayment {
                amount: None,
                credit_excess: false,
                slip: false,
            },
            &seller(),
        )
        .unwrap()
        .order
    }

    #[test]
    fn charged_always_is_owed_when_chosen_and_given_back_when_removed() {
        let o = order();
        let before = o.totals().total.minor;
        let p = decide(&o, wrap(Charging::Always), &Actor::Customer).unwrap();
        assert_eq!(p.order.totals().total.minor, before + 2_000);
        assert!(
            p.notices.is_empty(),
            "the customer chose it: {:?}",
            p.notices
        );
        let again = decide(&p.order, wrap(Charging::Always), &Actor::Customer).unwrap_err();
        assert!(again.to_string().contains("already"), "{again}");
        // Paid with the service, then taken off: the price goes back.
        let paid = paid(&p.order);
        let p = decide(
            &paid,
            Command::RemoveService {
                service: "wrap".into(),
            },
            &Actor::Customer,
        )
        .unwrap();
        assert_eq!(p.order.totals().total.minor, before);
        assert_eq!(p.ledger.iter().map(|l| l.amount).sum::<i64>(), 2_000);
        assert_eq!(p.order.payment, PaymentStatus::Paid);
    }

    #[test]
    fn charged_when_done_is_owed_only_after_the_shop_marks_it() {
        let o = order();
        let before = o.totals().total.minor;
        let chosen = decide(&o, wrap(Charging::WhenDone), &Actor::Customer)
            .unwrap()
            .order;
        assert_eq!(chosen.totals().total.minor, before);
        let paid = paid(&chosen);
        assert_eq!(paid.payment, PaymentStatus::Paid);
        let not_customer = Command::ServiceDone {
            service: "wrap".into(),
        };
        assert!(decide(&paid, not_customer.clone(), &Actor::Customer).is_err());
        let p = decide(&paid, not_customer, &seller()).unwrap();
        assert_eq!(p.order.totals().remaining.minor, 2_000);
        assert_eq!(p.order.payment, PaymentStatus::PartiallyPaid);
        assert!(p.notices.contains(&Notice::ServiceDone {
            name: "Gift wrap".into(),
            charged: 2_000
        }));
        assert!(p.notices.contains(&Notice::AmountDue {
            amount: 2_000,
            total: before + 2_000
        }));
        let undo = decide(
            &p.order,
            Command::RemoveService {
                service: "wrap".into(),
            },
            &seller(),
        )
        .unwrap_err();
        assert!(undo.to_string().contains("already done"), "{undo}");
    }

    #[test]
    fn services_change_only_before_shipping_and_only_offered_ones() {
        let mut o = order();
        let none = Command::AddService {
            service: "ghost".into(),
            offer: None,
        };
        assert!(matches!(
            decide(&o, none, &Actor::Customer),
            Err(OrderError::BadInput(_))
        ));
        for cmd in [
            Command::Confirm,
            Command::Ship {
                carrier: "Flash".into(),
                tracking: None,
            },
        ] {
            o = decide(&o, cmd, &seller()).unwrap().order;
        }
        let late = decide(&o, wrap(Charging::Always), &Actor::Customer).unwrap_err();
        assert!(late.to_string().contains("before it ships"), "{late}");
    }

    #[test]
    fn tracking_updates_tell_the_customer_and_delivered_completes() {
        let mut o = order();
        let early = decide(
            &o,
            Command::Track {
                status: TrackingStatus::OutForDelivery,
                note: None,
            },
            &seller(),
        );
        assert!(early.is_err(), "not shipped yet");
        for cmd in [
            Command::Confirm,
            Command::Ship {
                carrier: "Flash".into(),
                tracking: Some("TH1".into()),
            },
        ] {
            o = decide(&o, cmd, &seller()).unwrap().order;
        }
        let track = |o: &Order, status| decide(o, Command::Track { status, note: None }, &seller());
        let p = track(&o, TrackingStatus::OutForDelivery).unwrap();
        assert_eq!(
            p.notices,
            vec![Notice::Tracking {
                status: TrackingStatus::OutForDelivery,
                note: None
            }]
        );
        assert!(track(&p.order, TrackingStatus::OutForDelivery).is_err());
        let failed = track(&p.order, TrackingStatus::FailedAttempt)
            .unwrap()
            .order;
        let twice = track(&failed, TrackingStatus::FailedAttempt).unwrap().order;
        let done = track(&twice, TrackingStatus::Delivered).unwrap();
        assert_eq!(done.order.fulfilment, Fulfilment::Completed);
        assert!(done.notices.contains(&Notice::Delivered));
    }
}
