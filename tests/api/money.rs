//! The money rules against a real database (SQLite, or PostgreSQL with
//! TEST_DATABASE_URL): random sequences of seller and customer commands
//! through `app::orders`, the reconciliation checked after every step; two
//! connections at once; the overpayment example over HTTP.

use crate::common;

use chatbill::app::customers::move_balance;
use chatbill::app::orders as app_orders;
use chatbill::domain::ledger::LedgerKind;
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::{Command, ExcessPolicy, Fee, Notice};
use chatbill::domain::{Currency, CustomerId, OrderId, VariantId};
use chatbill::store::customers::{self, LedgerPost};
use chatbill::store::orders::{self, NewOrder};
use chatbill::store::shops::Shop;
use chatbill::store::tokens::{self, Role};
use chatbill::store::{Db, reconcile};
use common::{TestApp, fresh_db, make_shop, now, product};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

fn seller() -> Actor {
    Actor::Seller("owner".into())
}

async fn customer(db: &Db, shop: &Shop, user: &str) -> CustomerId {
    common::customer(db, shop, user).await
}

async fn place(db: &Db, shop: &Shop, c: CustomerId, v: VariantId) -> OrderId {
    let new = NewOrder {
        customer: c,
        channel: "webchat".into(),
        items: vec![(v, 1)],
        address: Some(common::address()),
        method: None,
        shipping_fee: Some(5_000),
    };
    orders::place(db, shop, new, now()).await.unwrap().id
}

#[derive(Clone, Debug)]
enum Step {
    Order(usize, Command, u8),
    Deposit(i64),
    Withdraw(i64),
}

fn arb_command() -> impl Strategy<Value = Command> {
    let amount = proptest::option::of(prop_oneof![1i64..80_000, Just(100_000_000)]);
    prop_oneof![
        Just(Command::Confirm),
        Just(Command::SubmitSlip { suspicious: false }),
        (amount.clone(), any::<bool>()).prop_map(|(amount, credit_excess)| {
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
        amount.prop_map(|amount| Command::CollectCod { amount }),
        Just(Command::Cancel { reason: "x".into() }),
        Just(Command::PayFromBalance {
            available: 0,
            allow_negative: false
        }),
        (0i64..40_000, 1i64..3).prop_map(|(unit_price, qty)| Command::ProposeLineChange {
            line_id: 0,
            unit_price,
            qty
        }),
        any::<bool>().prop_map(|accept| Command::AnswerLineChange { line_id: 0, accept }),
        (0i64..20_000, 0i64..10_000).prop_map(|(s, x)| Command::EditFees {
            fees: vec![Fee {
                label: "wrap".into(),
                amount: s
            }],
            shipping_fee: Some(s),
            discount: Some(x)
        }),
    ]
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0usize..2, arb_command(), 0u8..2).prop_map(|(o, c, w)| Step::Order(o, c, w)),
        1 => (1i64..50_000).prop_map(Step::Deposit),
        1 => (1i64..50_000).prop_map(Step::Withdraw),
    ]
}

struct World {
    db: Db,
    shop: Shop,
    customer: CustomerId,
    orders: Vec<OrderId>,
    /// The first line of each order (line changes name it).
    lines: Vec<i64>,
}

async fn world(excess: ExcessPolicy) -> (World, common::TestDb) {
    let t = fresh_db().await;
    let db = t.db.clone();
    let (mut shop, _) = make_shop(&db, "Money", Currency::THB).await;
    shop.settings.excess_payment = excess;
    let tee = product(&db, &shop, "Tee", 29_900, Some(50)).await;
    let c = customer(&db, &shop, "u1").await;
    let mut orders_ = Vec::new();
    let mut lines = Vec::new();
    for _ in 0..2 {
        let id = place(&db, &shop, c, tee).await;
        lines.push(orders::load(&db, shop.id, id).await.unwrap().lines[0].id);
        orders_.push(id);
    }
    let w = World {
        db,
        shop,
        customer: c,
        orders: orders_,
        lines,
    };
    (w, t)
}

impl World {
    async fn run(&self, step: Step) {
        match step {
            Step::Order(i, cmd, who) => {
                let cmd = match cmd {
                    Command::ProposeLineChange {
                        unit_price, qty, ..
                    } => Command::ProposeLineChange {
                        line_id: self.lines[i],
                        unit_price,
                        qty,
                    },
                    Command::AnswerLineChange { accept, .. } => Command::AnswerLineChange {
                        line_id: self.lines[i],
                        accept,
                    },
                    other => other,
                };
                let actor = if who == 0 { Actor::Customer } else { seller() };
                let _ = app_orders::apply(&self.db, &self.shop, self.orders[i], cmd, &actor, now())
                    .await;
            }
            Step::Deposit(a) | Step::Withdraw(a) => {
                let kind = if matches!(step, Step::Deposit(_)) {
                    LedgerKind::Deposit
                } else {
                    LedgerKind::Withdraw
                };
                let post = LedgerPost {
                    shop: self.shop.id,
                    customer: self.customer,
                    kind,
                    amount: a,
                    order: None,
                    note: None,
                    actor: "seller:owner",
                    allow_negative: false,
                };
                let _ = move_balance(&self.db, &post, now()).await;
            }
        }
    }

    async fn check(&self, after: &str) -> Result<(), TestCaseError> {
        let r = reconcile::check(&self.db, self.shop.id).await.unwrap();
        prop_assert!(r.balances(), "after {after}: {r:?}");
        Ok(())
    }
}

/// Random command sequences on two orders and the customer's balance; the
/// reconciliation balances after every step, on both excess policies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_sequence_keeps_the_money_reconciled() {
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (proptest::collection::vec(arb_step(), 1..25), any::<bool>());
    runner
        .run(&strategy, |(steps, refund_due)| {
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let excess = if refund_due {
                        ExcessPolicy::RefundDue
                    } else {
                        ExcessPolicy::Balance
                    };
                    let (w, _t) = world(excess).await;
                    for step in steps {
                        let what = format!("{step:?}");
                        w.run(step).await;
                        w.check(&what).await?;
                    }
                    Ok(())
                })
            })
        })
        .unwrap();
}

/// Two connections at once: seller edits, confirmations, cancels and
/// balance moves race; afterwards the money still reconciles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_keep_the_money_reconciled() {
    let (w, _t) = world(ExcessPolicy::Balance).await;
    let w = std::sync::Arc::new(w);
    let confirm = |amount| Command::ConfirmPayment {
        amount: Some(amount),
        credit_excess: true,
        slip: false,
    };
    let a_steps = vec![
        Step::Order(0, confirm(20_000), 1),
        Step::Deposit(30_000),
        Step::Order(0, confirm(50_000), 1),
        Step::Order(1, Command::Cancel { reason: "x".into() }, 1),
        Step::Order(0, Command::Cancel { reason: "y".into() }, 1),
    ];
    let fees = |s| Command::EditFees {
        fees: vec![],
        shipping_fee: Some(s),
        discount: None,
    };
    let b_steps = vec![
        Step::Order(0, fees(9_000), 1),
        Step::Order(
            1,
            Command::PayFromBalance {
                available: 0,
                allow_negative: false,
            },
            0,
        ),
        Step::Order(1, confirm(10_000), 1),
        Step::Order(0, fees(1_000), 1),
        Step::Withdraw(5_000),
        Step::Order(
            1,
            Command::PayFromBalance {
                available: 0,
                allow_negative: false,
            },
            0,
        ),
    ];
    for _ in 0..3 {
        let (wa, wb) = (w.clone(), w.clone());
        let (sa, sb) = (a_steps.clone(), b_steps.clone());
        let a = tokio::spawn(async move {
            for s in sa {
                wa.run(s).await;
            }
        });
        let b = tokio::spawn(async move {
            for s in sb {
                wb.run(s).await;
            }
        });
        a.await.unwrap();
        b.await.unwrap();
        w.check("the concurrent run").await.unwrap();
    }
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The example: 1,000,000 THB "confirmed" on a 349 THB order.
#[tokio::test]
async fn staff_overpayment_is_refused_and_an_owners_credit_is_in_the_ledger_and_chat() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let tee = product(db, shop, "Tee", 29_900, Some(5)).await;
    let c = customer(db, shop, "u1").await;
    let id = place(db, shop, c, tee).await;
    let (staff, _) = tokens::create(db, shop.id, "staff", Role::Staff, now())
        .await
        .unwrap();
    let path = format!("/api/v1/orders/{}/confirm-payment", id);
    // Staff do not handle money at all: 403, naming the permission.
    let (status, body) = post(&app, &staff, &path, json!({"amount": 100_000_000})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["permission"], "confirm_payments", "{body}");
    // A manager confirms payments, but an amount above what is owed is an
    // overpayment: only who may record one.
    let (manager, _) = tokens::create(db, shop.id, "manager", Role::Manager, now())
        .await
        .unwrap();
    let (status, body) = post(&app, &manager, &path, json!({"amount": 100_000_000})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["permission"], "record_overpayment", "{body}");
    // Even the owner must say that the excess is the customer's credit.
    let (status, body) = post(&app, &app.token, &path, json!({"amount": 100_000_000})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("credit_excess"), "{body}");
    let (status, body) = post(
        &app,
        &app.token,
        &path,
        json!({"amount": 1_000_000_000_000_000_i64}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(&app, &app.token, &path, json!({"amount": -5})).await;
    assert_eq!(status, 400, "{body}");
    let stored = orders::load(db, shop.id, id).await.unwrap();
    assert_eq!((stored.paid, stored.totals().remaining.minor), (0, 34_900));

    let (status, body) = post(
        &app,
        &app.token,
        &path,
        json!({"amount": 40_000, "credit_excess": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let stored = orders::load(db, shop.id, id).await.unwrap();
    assert_eq!(stored.paid, 34_900);
    assert_eq!(stored.totals().remaining.minor, 0);
    let ledger = customers::ledger(db, shop.id, c).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].kind.as_str(), ledger[0].amount),
        ("credit", 5_100)
    );
    let notices = orders::queued_notices(db, shop.id, id).await.unwrap();
    assert!(
        notices.contains(&Notice::CreditedToBalance { amount: 5_100 }),
        "{notices:?}"
    );
    assert!(reconcile::check(db, shop.id).await.unwrap().balances());

    // Cancelling gives back exactly what the order holds, once.
    let cancel = format!("/api/v1/orders/{}/cancel", id);
    assert_eq!(
        post(&app, &app.token, &cancel, json!({"reason": "x"}))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&app, &app.token, &cancel, json!({"reason": "x"}))
            .await
            .0,
        409
    );
    let ledger = customers::ledger(db, shop.id, c).await.unwrap();
    assert_eq!(ledger.last().unwrap().balance_after, 40_000);
    assert!(reconcile::check(db, shop.id).await.unwrap().balances());
    app.stop().await;
}

/// A fee raised after payment asks the customer for exactly the difference.
#[tokio::test]
async fn a_raised_total_after_payment_is_asked_for() {
    let (w, _t) = world(ExcessPolicy::Balance).await;
    let id = w.orders[0];
    let confirm = Command::ConfirmPayment {
        amount: None,
        credit_excess: false,
        slip: false,
    };
    app_orders::apply(&w.db, &w.shop, id, confirm, &seller(), now())
        .await
        .unwrap();
    let fees = Command::EditFees {
        fees: vec![],
        shipping_fee: Some(8_000),
        discount: None,
    };
    let a = app_orders::apply(&w.db, &w.shop, id, fees, &seller(), now())
        .await
        .unwrap();
    assert_eq!(a.order.payment.as_str(), "partially_paid");
    let notices = orders::queued_notices(&w.db, w.shop.id, id).await.unwrap();
    assert!(notices.contains(&Notice::AmountDue {
        amount: 3_000,
        total: 37_900
    }));
    let slip = Command::SubmitSlip { suspicious: false };
    let a = app_orders::apply(&w.db, &w.shop, id, slip, &Actor::Customer, now())
        .await
        .unwrap();
    assert_eq!(a.order.payment.as_str(), "pending_review");
    assert!(reconcile::check(&w.db, w.shop.id).await.unwrap().balances());
}

/// The console offers the credit only to a role that may record it, and
/// the form credits the excess the same way as the API.
#[tokio::test]
async fn the_console_credits_an_overpayment_only_for_a_role_that_may() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let tee = product(db, shop, "Tee", 29_900, Some(5)).await;
    let c = customer(db, shop, "u-console").await;
    let id = place(db, shop, c, tee).await;
    let owed = orders::load(db, shop.id, id)
        .await
        .unwrap()
        .totals()
        .remaining
        .minor;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |cookie: String| {
        let client = client.clone();
        let url = app.url(&format!("/admin/orders/{id}"));
        async move {
            let r = client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            r.text().await.unwrap()
        }
    };
    let (manager, _) = tokens::create(db, shop.id, "m", Role::Manager, now())
        .await
        .unwrap();
    let manager = app.console_cookie(&manager).await;
    let html = page(manager.clone()).await;
    assert!(html.contains("id=\"confirm-payment\""), "{html}");
    assert!(
        !html.contains("id=\"credit-excess\""),
        "a manager is not offered the credit"
    );

    let owner = app.console_cookie(&app.token).await;
    assert!(page(owner.clone()).await.contains("id=\"credit-excess\""));
    let r = client
        .post(app.url(&format!("/admin/orders/{id}/confirm-payment")))
        .header("cookie", owner)
        .form(&[
            // Typed as the seller reads it: baht, not satang.
            (
                "amount",
                chatbill::domain::Money::new(owed + 5_000, chatbill::domain::Currency::THB)
                    .to_decimal_string(),
            ),
            ("credit_excess", "true".into()),
            ("idem", "console-credit".into()),
            ("yes", "on".into()),
        ])
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("notice=Done"), "{location}");
    let order = orders::load(db, shop.id, id).await.unwrap();
    assert_eq!(order.totals().remaining.minor, 0);
    let ledger = customers::ledger(db, shop.id, c).await.unwrap();
    assert_eq!(
        ledger.last().map(|e| (e.kind.as_str(), e.amount)),
        Some(("credit", 5_000))
    );
    app.stop().await;
}
