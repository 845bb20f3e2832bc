//! Fixtures shared by the rule tests, and the property that no sequence of
//! commands breaks the aggregate's invariants.

use super::*;
use crate::domain::lifecycle as lc;
use proptest::prelude::*;
use std::collections::HashMap;

pub(super) fn line(id: i64, variant: i64, price: i64, qty: i64) -> OrderLine {
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

pub(super) fn order() -> Order {
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

pub(super) fn seller() -> Actor {
    Actor::Seller("owner".into())
}

#[test]
fn totals_are_recomputed_from_lines() {
    let t = order().totals();
    assert_eq!(t.subtotal.minor, 59_900);
    assert_eq!(t.total.minor, 64_900);
    assert_eq!(t.remaining.minor, 64_900);
}

fn arb_command() -> impl Strategy<Value = (Command, u8)> {
    let cmd = prop_oneof![
        Just(Command::Confirm),
        any::<bool>().prop_map(|suspicious| Command::SubmitSlip { suspicious }),
        (proptest::option::of(1i64..80_000)).prop_map(|amount| Command::ConfirmPayment { amount }),
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
