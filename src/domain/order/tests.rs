//! Fixtures shared by the rule tests, and the property that no sequence of
//! commands breaks the aggregate's invariants.

use super::*;
use crate::domain::ledger::LedgerKind;
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
        services: vec![],
        shipping_fee: 5_000,
        discount: 0,
        paid: 0,
        address: None,
        carrier: None,
        tracking: None,
        tracking_status: None,
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
        (proptest::option::of(1i64..80_000), any::<bool>()).prop_map(|(amount, credit_excess)| {
            Command::ConfirmPayment {
                amount,
                credit_excess,
                slip: false,
            }
        }),
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
        (0i64..=crate::domain::money::MAX_MINOR).prop_map(|s| Command::EditFees {
            fees: vec![],
            shipping_fee: Some(s),
            discount: None
        }),
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

/// Σ of what a plan moves: payment rows in, balance spent on the order,
/// money given back (refunds and credits).
fn money_moved(plan: &Plan) -> i64 {
    let rows: i64 = plan.payments.iter().map(|p| p.amount).sum();
    let ledger: i64 = plan
        .ledger
        .iter()
        .map(|l| {
            if l.kind.is_credit() {
                -l.amount
            } else {
                l.amount
            }
        })
        .sum();
    rows + ledger
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// No sequence of commands breaks the invariants: paid within 0..=total,
    /// remaining = total − paid ≥ 0, the payment state the amounts imply,
    /// every change of `paid` matched by payment rows and ledger entries,
    /// the customer's balance never negative, stock never negative and never
    /// leaked, one history row per state change.
    #[test]
    fn invariants_hold_for_any_sequence(
        cmds in proptest::collection::vec(arb_command(), 0..40),
        refund_due in any::<bool>(),
    ) {
        let rules = Rules {
            excess: if refund_due { ExcessPolicy::RefundDue } else { ExcessPolicy::Balance },
            ..Rules::default()
        };
        let mut o = order();
        let mut balance = 0i64;
        let initial: HashMap<VariantId, i64> = [(VariantId(1), 5), (VariantId(2), 3)].into();
        // Stock on the shelf after the initial reservation.
        let mut shelf: HashMap<VariantId, i64> = initial.clone();
        for l in &o.lines { *shelf.get_mut(&l.variant_id).unwrap() -= l.qty; }
        for (cmd, who) in cmds {
            let actor = match who { 0 => Actor::Customer, 1 => seller(), _ => Actor::System };
            let cmd = match cmd {
                Command::PayFromBalance { .. } => Command::PayFromBalance { available: balance, allow_negative: false },
                other => other,
            };
            let before = o.clone();
            let Ok(plan) = decide_with(&o, cmd, &actor, rules) else { continue };
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
            for l in &plan.ledger {
                balance = crate::domain::ledger::post(balance, l.kind, l.amount, false).unwrap().1;
            }
            prop_assert!(balance >= 0);
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
            // Every change of `paid` is one payment row or ledger entry.
            prop_assert_eq!(plan.order.paid - before.paid, money_moved(&plan));
            o = plan.order;
            let t = o.checked_totals().unwrap();
            prop_assert!(t.paid.minor >= 0);
            prop_assert!(t.paid.minor <= t.total.minor);
            prop_assert!(t.remaining.minor >= 0);
            prop_assert_eq!(t.remaining.minor, t.total.minor - t.paid.minor);
            prop_assert_eq!(o.payment, implied_status(o.payment, t.paid.minor, t.total.minor));
            if matches!(o.payment, PaymentStatus::Paid | PaymentStatus::CodCollected) {
                prop_assert_eq!(t.paid.minor, t.total.minor);
            }
            if o.payment == PaymentStatus::PartiallyPaid {
                prop_assert!(t.paid.minor > 0 && t.paid.minor < t.total.minor);
            }
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

fn confirm(amount: Option<i64>, credit_excess: bool) -> Command {
    Command::ConfirmPayment {
        amount,
        credit_excess,
        slip: false,
    }
}

fn fees(shipping: i64) -> Command {
    Command::EditFees {
        fees: vec![],
        shipping_fee: Some(shipping),
        discount: None,
    }
}

/// The example: 1,000,000 THB confirmed on a 649 THB order.
#[test]
fn an_overpayment_is_refused_unless_credited_explicitly() {
    let o = order();
    let err = decide(&o, confirm(Some(100_000_000), false), &seller()).unwrap_err();
    assert!(matches!(err, OrderError::BadInput(_)), "{err}");
    assert!(err.to_string().contains("credit_excess"), "{err}");
    // The customer (or the system) cannot credit themselves.
    assert!(decide(&o, confirm(Some(100_000_000), true), &Actor::System).is_err());
    let p = decide(&o, confirm(Some(100_000), true), &seller()).unwrap();
    assert_eq!(p.order.paid, 64_900);
    assert_eq!(p.order.payment, PaymentStatus::Paid);
    assert_eq!(p.order.totals().remaining.minor, 0);
    assert_eq!(
        p.ledger,
        vec![LedgerMove {
            kind: LedgerKind::Credit,
            amount: 35_100
        }]
    );
    assert_eq!(p.payments[0].amount, 100_000);
    assert!(
        p.notices
            .contains(&Notice::CreditedToBalance { amount: 35_100 })
    );
    // Cancelling now gives back exactly what the order holds, once.
    let c = decide(&p.order, Command::Cancel { reason: "x".into() }, &seller()).unwrap();
    assert_eq!(c.ledger[0].amount, 64_900);
    assert!(decide(&c.order, Command::Cancel { reason: "x".into() }, &seller()).is_err());
}

#[test]
fn a_raised_total_after_payment_asks_for_the_difference() {
    let paid = decide(&order(), confirm(None, false), &seller())
        .unwrap()
        .order;
    let p = decide(&paid, fees(8_000), &seller()).unwrap();
    assert_eq!(p.order.payment, PaymentStatus::PartiallyPaid);
    assert_eq!(p.order.totals().remaining.minor, 3_000);
    assert!(p.notices.contains(&Notice::AmountDue {
        amount: 3_000,
        total: 67_900
    }));
    // A slip for the difference goes back to review, then settles.
    let s = decide(
        &p.order,
        Command::SubmitSlip { suspicious: false },
        &Actor::Customer,
    )
    .unwrap();
    assert_eq!(s.order.payment, PaymentStatus::PendingReview);
    let s = decide(&s.order, confirm(None, false), &seller()).unwrap();
    assert_eq!(s.order.payment, PaymentStatus::Paid);
}

#[test]
fn a_lowered_total_after_payment_gives_the_difference_back() {
    let paid = decide(&order(), confirm(None, false), &seller())
        .unwrap()
        .order;
    let p = decide(&paid, fees(0), &seller()).unwrap();
    assert_eq!(p.order.paid, 59_900);
    assert_eq!(p.order.payment, PaymentStatus::Paid);
    assert_eq!(
        p.ledger,
        vec![LedgerMove {
            kind: LedgerKind::Refund,
            amount: 5_000
        }]
    );
    assert!(
        p.notices
            .contains(&Notice::CreditedToBalance { amount: 5_000 })
    );
    let rules = Rules {
        excess: ExcessPolicy::RefundDue,
        ..Rules::default()
    };
    let p = decide_with(&paid, fees(0), &seller(), rules).unwrap();
    assert!(p.ledger.is_empty());
    assert_eq!(p.payments[0].status, PaymentRowStatus::RefundDue);
    assert_eq!(p.payments[0].amount, -5_000);
    assert!(p.notices.contains(&Notice::RefundDue { amount: 5_000 }));
}

#[test]
fn cod_remittance_is_checked_against_what_is_owed() {
    let mut o = decide(&order(), Command::ChooseCod, &Actor::Customer)
        .unwrap()
        .order;
    for cmd in [
        Command::Confirm,
        Command::Ship {
            carrier: "Kerry".into(),
            tracking: None,
        },
        Command::Complete,
    ] {
        o = decide(&o, cmd, &seller()).unwrap().order;
    }
    let short = decide(
        &o,
        Command::CollectCod {
            amount: Some(60_000),
        },
        &seller(),
    )
    .unwrap();
    assert_eq!(short.order.payment, PaymentStatus::PartiallyPaid);
    assert_eq!(short.payments[0].status, PaymentRowStatus::Difference);
    assert_eq!(short.payments[0].difference, -4_900);
    let long = decide(
        &o,
        Command::CollectCod {
            amount: Some(70_000),
        },
        &seller(),
    )
    .unwrap();
    assert_eq!(long.order.payment, PaymentStatus::CodCollected);
    assert_eq!(long.order.paid, 64_900);
    assert_eq!(long.payments[0].amount, 64_900);
    assert_eq!(long.payments[0].difference, 5_100);
}

#[test]
fn amounts_out_of_range_are_refused_not_wrapped() {
    let o = order();
    for cmd in [
        confirm(Some(i64::MAX), true),
        confirm(Some(-1), false),
        fees(i64::MAX),
        Command::ProposeLineChange {
            line_id: 1,
            unit_price: i64::MAX / 2,
            qty: 3,
        },
    ] {
        let err = decide(&o, cmd, &seller()).unwrap_err();
        assert!(matches!(err, OrderError::BadInput(_)), "{err}");
    }
    // Two fees each in range whose sum is not.
    let err = decide(
        &o,
        Command::EditFees {
            fees: vec![
                Fee {
                    label: "a".into(),
                    amount: crate::domain::money::MAX_MINOR,
                },
                Fee {
                    label: "b".into(),
                    amount: crate::domain::money::MAX_MINOR,
                },
            ],
            shipping_fee: None,
            discount: None,
        },
        &seller(),
    )
    .unwrap_err();
    assert!(matches!(err, OrderError::BadInput(_)), "{err}");
}

#[test]
fn the_shop_s_cancel_rule_decides_whether_a_customer_may_cancel_a_paid_order() {
    use crate::domain::lifecycle::CancelRule;
    // Confirming the payment confirms the order too.
    let paid = decide(&order(), confirm(None, false), &seller())
        .unwrap()
        .order;
    assert_eq!(paid.fulfilment, Fulfilment::Confirmed);
    let cancel = || Command::Cancel {
        reason: "changed my mind".into(),
    };
    let rule = |cancel| Rules {
        cancel,
        ..Rules::default()
    };
    for refusing in [CancelRule::UntilPaid, CancelRule::UntilConfirmed] {
        let refused = decide_with(&paid, cancel(), &Actor::Customer, rule(refusing)).unwrap_err();
        assert!(matches!(refused, OrderError::Policy(_)), "{refused:?}");
    }
    let p = decide_with(
        &paid,
        cancel(),
        &Actor::Customer,
        rule(CancelRule::UntilShipped),
    )
    .unwrap();
    assert_eq!(p.order.fulfilment, Fulfilment::Cancelled);
    // The money goes back by the excess rule: to the shop balance here.
    assert_eq!(
        p.ledger.iter().map(|l| l.amount).sum::<i64>(),
        paid.paid,
        "{:?}",
        p.ledger
    );
    // Shipped: nobody's rule lets the customer cancel in chat.
    let ship = Command::Ship {
        carrier: "Kerry".into(),
        tracking: None,
    };
    let shipped = decide(&paid, ship, &seller()).unwrap().order;
    assert!(
        decide_with(
            &shipped,
            cancel(),
            &Actor::Customer,
            rule(CancelRule::UntilShipped)
        )
        .is_err()
    );
}
