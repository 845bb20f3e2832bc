//! Store contract tests: run on SQLite by default and on PostgreSQL when
//! TEST_DATABASE_URL is set (CI runs both).

use crate::common;

use chatbill::app::orders as app_orders;
use chatbill::domain::ledger::LedgerKind;
use chatbill::domain::lifecycle::{Actor, Fulfilment, PaymentStatus, Tab};
use chatbill::domain::order::{Command, Fee, Notice, PaymentMethod};
use chatbill::domain::{Currency, OrderId, VariantId};
use chatbill::store::catalog;
use chatbill::store::customers;
use chatbill::store::orders::{self, ApplyError, NewOrder, PlaceError};
use chatbill::store::shops::Shop;
use chatbill::store::tokens::{self, Role};
use chatbill::store::{Db, StoreError};
use common::{fresh_db, make_shop, now, product};

fn seller() -> Actor {
    Actor::Seller("owner".into())
}

async fn customer(db: &Db, shop: &Shop, user: &str) -> chatbill::domain::CustomerId {
    common::customer(db, shop, user).await
}

fn new_order(customer: chatbill::domain::CustomerId, items: Vec<(VariantId, i64)>) -> NewOrder {
    NewOrder {
        customer,
        channel: "webchat".into(),
        items,
        address: Some(common::address()),
        method: None,
        shipping_fee: Some(5_000),
    }
}

async fn stock_of(db: &Db, shop: &Shop, v: VariantId) -> Option<i64> {
    let products = catalog::list_products(db, shop.id, true).await.unwrap();
    products
        .iter()
        .flat_map(|p| p.variants.iter())
        .find(|x| x.id == v)
        .unwrap()
        .stock
}

async fn count(db: &Db, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

#[tokio::test]
async fn placing_reserves_stock_and_snapshots_lines() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 29_900, Some(5)).await;
    let bag = product(db, &shop, "Bag", 25_000, None).await;
    let c = customer(db, &shop, "u1").await;
    let order = orders::place(db, &shop, new_order(c, vec![(tee, 2), (bag, 1)]), now())
        .await
        .unwrap();
    let t = order.totals();
    assert_eq!(t.subtotal.minor, 84_800);
    assert_eq!(t.total.minor, 89_800);
    assert_eq!(stock_of(db, &shop, tee).await, Some(3));
    assert_eq!(stock_of(db, &shop, bag).await, None);
    // The stored order reads back identical, with its history row.
    let loaded = orders::load(db, shop.id, order.id).await.unwrap();
    assert_eq!(loaded.lines, order.lines);
    assert_eq!(loaded.totals(), order.totals());
    assert_eq!(
        orders::find_by_code(db, shop.id, &order.code)
            .await
            .unwrap()
            .id,
        order.id
    );
    let h = orders::history(db, shop.id, order.id).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].from.as_str(), h[0].to.as_str()), ("new", "placed"));
    // A price change later does not touch the snapshot.
    sqlx::query("update products set price = 1")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        orders::load(db, shop.id, order.id).await.unwrap().lines[0].unit_price,
        29_900
    );
}

#[tokio::test]
async fn out_of_stock_writes_nothing() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 29_900, Some(5)).await;
    let cap = product(db, &shop, "Cap", 10_000, Some(1)).await;
    let c = customer(db, &shop, "u1").await;
    let err = orders::place(db, &shop, new_order(c, vec![(tee, 2), (cap, 2)]), now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlaceError::OutOfStock { variant, .. } if variant == cap),
        "{err}"
    );
    assert_eq!(
        stock_of(db, &shop, tee).await,
        Some(5),
        "earlier reservation rolled back"
    );
    assert_eq!(count(db, "select count(*) from orders").await, 0);
    assert_eq!(count(db, "select count(*) from order_lines").await, 0);
    let err = orders::place(db, &shop, new_order(c, vec![(tee, 0)]), now())
        .await
        .unwrap_err();
    assert!(matches!(err, PlaceError::BadQuantity));
    let err = orders::place(db, &shop, new_order(c, vec![]), now())
        .await
        .unwrap_err();
    assert!(matches!(err, PlaceError::Empty));
}

#[tokio::test]
async fn racing_for_the_last_unit_makes_exactly_one_order() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let last = product(db, &shop, "Last one", 50_000, Some(1)).await;
    let mut handles = Vec::new();
    for i in 0..10 {
        let db = db.clone();
        let shop = shop.clone();
        let c = customer(&db, &shop, &format!("racer{i}")).await;
        handles.push(tokio::spawn(async move {
            orders::place(&db, &shop, new_order(c, vec![(last, 1)]), now()).await
        }));
    }
    let mut won = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => won += 1,
            Err(PlaceError::OutOfStock { .. }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(stock_of(db, &shop, last).await, Some(0));
    assert_eq!(count(db, "select count(*) from orders").await, 1);
}

#[tokio::test]
async fn payment_confirmation_writes_history_counts_and_one_push() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 29_900, Some(5)).await;
    let c = customer(db, &shop, "u1").await;
    let order = orders::place(db, &shop, new_order(c, vec![(tee, 1)]), now())
        .await
        .unwrap();

    let counts = orders::tab_counts(db, shop.id).await.unwrap();
    assert!(counts.contains(&(Tab::PendingPayment, 1)));

    app_orders::apply(
        db,
        &shop,
        order.id,
        Command::SubmitSlip { suspicious: false },
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap();
    let counts = orders::tab_counts(db, shop.id).await.unwrap();
    assert!(
        counts.contains(&(Tab::PendingReview, 1)) && counts.contains(&(Tab::PendingPayment, 0))
    );

    let applied = app_orders::apply(
        db,
        &shop,
        order.id,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        &seller(),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(applied.order.payment, PaymentStatus::Paid);
    assert_eq!(applied.order.fulfilment, Fulfilment::Confirmed);
    let stored = orders::load(db, shop.id, order.id).await.unwrap();
    assert_eq!(stored.totals().remaining.minor, 0);
    assert_eq!(stored.version, 3);

    let history = orders::history(db, shop.id, order.id).await.unwrap();
    let moves: Vec<_> = history
        .iter()
        .map(|h| format!("{}:{}>{}", h.machine, h.from, h.to))
        .collect();
    assert_eq!(
        moves,
        [
            "fulfilment:new>placed",
            "payment:unpaid>pending_review",
            "payment:pending_review>paid",
            "fulfilment:placed>confirmed"
        ]
    );
    assert_eq!(history[2].actor, "seller:owner");

    let counts = orders::tab_counts(db, shop.id).await.unwrap();
    assert!(
        counts.contains(&(Tab::Paid, 1))
            && counts.contains(&(Tab::PendingReview, 0))
            && counts.contains(&(Tab::All, 1))
    );

    let notices = orders::queued_notices(db, shop.id, order.id).await.unwrap();
    assert_eq!(
        notices,
        vec![
            Notice::SlipReceived,
            Notice::PaymentConfirmed {
                amount: 34_900,
                remaining: 0
            }
        ]
    );

    // Confirming again is a conflict that names the state and queues nothing.
    let err = app_orders::apply(
        db,
        &shop,
        order.id,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        &seller(),
        now(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("paid"), "{err}");
    assert_eq!(
        orders::queued_notices(db, shop.id, order.id)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn twenty_concurrent_confirms_confirm_once_and_push_once() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 29_900, None).await;
    let c = customer(db, &shop, "u1").await;
    let order = orders::place(db, &shop, new_order(c, vec![(tee, 1)]), now())
        .await
        .unwrap();
    app_orders::apply(
        db,
        &shop,
        order.id,
        Command::SubmitSlip { suspicious: false },
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap();
    let mut handles = Vec::new();
    for _ in 0..20 {
        let (db, shop) = (db.clone(), shop.clone());
        handles.push(tokio::spawn(async move {
            app_orders::apply(
                &db,
                &shop,
                order.id,
                Command::ConfirmPayment {
                    amount: None,
                    credit_excess: false,
                    slip: false,
                },
                &seller(),
                now(),
            )
            .await
        }));
    }
    let mut ok = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ApplyError::Rejected(_)) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(ok, 1);
    let stored = orders::load(db, shop.id, order.id).await.unwrap();
    assert_eq!(stored.paid, stored.totals().total.minor);
    let confirmed = orders::queued_notices(db, shop.id, order.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| matches!(n, Notice::PaymentConfirmed { .. }))
        .count();
    assert_eq!(confirmed, 1);
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_to_balance_and_restocks() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 29_900, Some(3)).await;
    let c = customer(db, &shop, "u1").await;
    let order = orders::place(db, &shop, new_order(c, vec![(tee, 2)]), now())
        .await
        .unwrap();
    assert_eq!(stock_of(db, &shop, tee).await, Some(1));
    app_orders::apply(
        db,
        &shop,
        order.id,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        &seller(),
        now(),
    )
    .await
    .unwrap();
    // The customer may no longer cancel a confirmed order.
    let err = app_orders::apply(
        db,
        &shop,
        order.id,
        Command::Cancel { reason: "x".into() },
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApplyError::Rejected(_)));
    let applied = app_orders::apply(
        db,
        &shop,
        order.id,
        Command::Cancel {
            reason: "supplier out".into(),
        },
        &seller(),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(applied.order.fulfilment, Fulfilment::Cancelled);
    assert_eq!(applied.order.payment, PaymentStatus::Refunded);
    assert_eq!(stock_of(db, &shop, tee).await, Some(3));
    let cust = customers::get(db, shop.id, c).await.unwrap();
    assert_eq!(cust.balance, 64_800);
    let ledger = customers::ledger(db, shop.id, c).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].kind.as_str(), ledger[0].amount),
        ("refund", 64_800)
    );

    // The refunded balance pays the next order.
    let next = orders::place(db, &shop, new_order(c, vec![(tee, 1)]), now())
        .await
        .unwrap();
    let paid = app_orders::apply(
        db,
        &shop,
        next.id,
        Command::PayFromBalance {
            available: 0,
            allow_negative: false,
        },
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(paid.order.payment, PaymentStatus::Paid);
    assert_eq!(
        customers::get(db, shop.id, c).await.unwrap().balance,
        64_800 - 34_900
    );
}

#[tokio::test]
async fn cod_orders_skip_the_hold_and_count_as_ready_to_ship() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 29_900, None).await;
    let c = customer(db, &shop, "u1").await;
    let mut n = new_order(c, vec![(tee, 1)]);
    n.method = Some(PaymentMethod::Cod);
    let order = orders::place(db, &shop, n, now()).await.unwrap();
    assert_eq!(order.payment, PaymentStatus::CodPending);
    assert_eq!(
        count(db, "select count(*) from orders where hold_until is null").await,
        1
    );
    let counts = orders::tab_counts(db, shop.id).await.unwrap();
    assert!(counts.contains(&(Tab::Paid, 1)));
    for cmd in [
        Command::Confirm,
        Command::Ship {
            carrier: "Kerry".into(),
            tracking: Some("KE1".into()),
        },
        Command::Complete,
    ] {
        app_orders::apply(db, &shop, order.id, cmd, &seller(), now())
            .await
            .unwrap();
    }
    let counts = orders::tab_counts(db, shop.id).await.unwrap();
    assert!(counts.contains(&(Tab::AwaitingCod, 1)));
    let done = app_orders::apply(
        db,
        &shop,
        order.id,
        Command::CollectCod { amount: None },
        &seller(),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(done.order.fulfilment, Fulfilment::Completed);
    let counts = orders::tab_counts(db, shop.id).await.unwrap();
    assert!(counts.contains(&(Tab::Complete, 1)) && counts.contains(&(Tab::AwaitingCod, 0)));
}

#[tokio::test]
async fn another_shops_order_is_not_found() {
    let t = fresh_db().await;
    let db = &t.db;
    let (a, _) = make_shop(db, "A", Currency::THB).await;
    let (b, _) = make_shop(db, "B", Currency::THB).await;
    let tee = product(db, &a, "Tee", 29_900, None).await;
    let c = customer(db, &a, "u1").await;
    let order = orders::place(db, &a, new_order(c, vec![(tee, 1)]), now())
        .await
        .unwrap();
    assert!(matches!(
        orders::load(db, b.id, order.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        orders::find_by_code(db, b.id, &order.code).await,
        Err(StoreError::NotFound)
    ));
    let err = app_orders::apply(db, &b, order.id, Command::Confirm, &seller(), now())
        .await
        .unwrap_err();
    assert!(matches!(err, ApplyError::NotFound));
    assert!(matches!(
        orders::load(db, a.id, OrderId(order.id.get() + 1000)).await,
        Err(StoreError::NotFound)
    ));
    // B cannot buy A's product either.
    let cb = customer(db, &b, "u2").await;
    let err = orders::place(db, &b, new_order(cb, vec![(tee, 1)]), now())
        .await
        .unwrap_err();
    assert!(matches!(err, PlaceError::UnknownItem(_)));
    assert!(customers::get(db, b.id, c).await.is_err());
}

#[tokio::test]
async fn tokens_authenticate_until_revoked() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, owner) = make_shop(db, "A", Currency::THB).await;
    let info = tokens::authenticate(db, &owner).await.unwrap().unwrap();
    assert_eq!((info.shop_id, info.role), (shop.id, Role::Owner));
    let (staff, staff_info) = tokens::create(db, shop.id, "packer", Role::Staff, now())
        .await
        .unwrap();
    assert_eq!(
        tokens::authenticate(db, &staff)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Staff
    );
    assert!(
        tokens::authenticate(db, "cbk_wrong")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tokens::authenticate(db, "' or 1=1 --")
            .await
            .unwrap()
            .is_none()
    );
    let stored: String = {
        use sqlx::Row;
        sqlx::query("select token_hash from api_tokens where id = $1")
            .bind(staff_info.id)
            .fetch_one(db.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    };
    assert!(
        !stored.contains(&staff[4..]),
        "stored hashed, never in clear"
    );
    tokens::revoke(db, shop.id, staff_info.id, now())
        .await
        .unwrap();
    assert!(tokens::authenticate(db, &staff).await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_withdrawals_never_overdraw() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let c = customer(db, &shop, "u1").await;
    let mut tx = db.begin().await.unwrap();
    customers::post(
        &mut tx,
        &customers::LedgerPost {
            shop: shop.id,
            customer: c,
            kind: LedgerKind::Deposit,
            amount: 1_000,
            order: None,
            note: None,
            actor: "seller:owner",
            allow_negative: false,
        },
        now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        let shop_id = shop.id;
        handles.push(tokio::spawn(async move {
            for _ in 0..5 {
                let mut tx = db.begin().await.unwrap();
                let r = customers::post(
                    &mut tx,
                    &customers::LedgerPost {
                        shop: shop_id,
                        customer: c,
                        kind: LedgerKind::Withdraw,
                        amount: 300,
                        order: None,
                        note: None,
                        actor: "seller:owner",
                        allow_negative: false,
                    },
                    now(),
                )
                .await;
                match r {
                    Ok(_) => {
                        tx.commit().await.unwrap();
                        return true;
                    }
                    Err(customers::BalanceError::Store(StoreError::Stale)) => continue,
                    Err(customers::BalanceError::Store(StoreError::Database(_))) => continue,
                    Err(_) => return false,
                }
            }
            false
        }));
    }
    let mut ok = 0;
    for h in handles {
        if h.await.unwrap() {
            ok += 1;
        }
    }
    assert_eq!(ok, 3, "1000 covers three withdrawals of 300");
    let cust = customers::get(db, shop.id, c).await.unwrap();
    assert_eq!(cust.balance, 100);
    let ledger = customers::ledger(db, shop.id, c).await.unwrap();
    assert_eq!(ledger.iter().map(|l| l.amount).sum::<i64>(), cust.balance);
}

#[tokio::test]
async fn a_hundred_customers_racing_for_ten_units_make_exactly_ten_orders() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let hot = product(db, &shop, "Flash sale", 9_900, Some(10)).await;
    let mut customers_ = Vec::new();
    for i in 0..100 {
        customers_.push(customer(db, &shop, &format!("buyer{i}")).await);
    }
    let handles: Vec<_> = customers_
        .into_iter()
        .map(|c| {
            let (db, shop) = (db.clone(), shop.clone());
            tokio::spawn(async move {
                // Busy databases are retried like the inbox worker retries an event.
                for _ in 0..20 {
                    match orders::place(&db, &shop, new_order(c, vec![(hot, 1)]), now()).await {
                        Err(PlaceError::Store(_)) => {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await
                        }
                        other => return other.is_ok(),
                    }
                }
                false
            })
        })
        .collect();
    let mut won = 0;
    for h in handles {
        if h.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 10);
    assert_eq!(stock_of(db, &shop, hot).await, Some(0));
    assert_eq!(count(db, "select count(*) from orders").await, 10);
}

#[tokio::test]
async fn concurrent_changes_to_one_order_lose_no_update() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 10_000, None).await;
    let c = customer(db, &shop, "u1").await;
    let order = orders::place(db, &shop, new_order(c, vec![(tee, 1)]), now())
        .await
        .unwrap();
    let line = order.lines[0].id;
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let (db, shop) = (db.clone(), shop.clone());
            tokio::spawn(async move {
                for _ in 0..20 {
                    match app_orders::apply(
                        &db,
                        &shop,
                        order.id,
                        Command::OrderMore {
                            increases: vec![(line, 1)],
                        },
                        &Actor::Customer,
                        now(),
                    )
                    .await
                    {
                        Err(ApplyError::Store(_)) => {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await
                        }
                        other => return other.is_ok(),
                    }
                }
                false
            })
        })
        .collect();
    for h in handles {
        assert!(h.await.unwrap());
    }
    let stored = orders::load(db, shop.id, order.id).await.unwrap();
    assert_eq!(stored.lines[0].qty, 11, "every increase counted");
    assert_eq!(stored.version, 11);
    assert_eq!(stored.totals().subtotal.minor, 110_000);
}

#[tokio::test]
async fn an_extra_slip_for_a_paid_order_can_be_rejected_without_moving_the_order() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 29_900, None).await;
    let c = customer(db, &shop, "u1").await;
    let order = orders::place(db, &shop, new_order(c, vec![(tee, 1)]), now())
        .await
        .unwrap();
    app_orders::apply(
        db,
        &shop,
        order.id,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        &seller(),
        now(),
    )
    .await
    .unwrap();
    // A second slip arrives after the order was paid; the worker kept it, flagged.
    let payment: i64 = {
        use sqlx::Row;
        sqlx::query(
            "insert into payments (shop_id, order_id, method, amount, status, prechecks, created_at) \
             values ($1, $2, 'bank_transfer', 0, 'flagged', '{}', $3) returning id",
        )
        .bind(shop.id.get())
        .bind(order.id.get())
        .bind(now().millis())
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
    };
    let err = chatbill::app::payments::reject(db, &shop, payment, "  ", &seller(), now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("reason"), "{err}");
    let applied = chatbill::app::payments::reject(
        db,
        &shop,
        payment,
        "this order is already paid",
        &seller(),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(applied.order.payment, PaymentStatus::Paid);
    assert_eq!(
        orders::load(db, shop.id, order.id).await.unwrap().payment,
        PaymentStatus::Paid
    );
    let notices = orders::queued_notices(db, shop.id, order.id).await.unwrap();
    assert_eq!(
        notices.last(),
        Some(&Notice::PaymentRejected {
            reason: "this order is already paid".into()
        })
    );
    assert_eq!(
        count(
            db,
            "select count(*) from payments where status = 'rejected'"
        )
        .await,
        1
    );
    // Deciding it twice is refused.
    assert!(
        chatbill::app::payments::reject(db, &shop, payment, "again", &seller(), now())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn fees_come_back_with_the_order_even_a_zero_one_and_survive_later_steps() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let tee = product(db, &shop, "Tee", 29_900, None).await;
    let c = customer(db, &shop, "u1").await;
    let plain = orders::place(db, &shop, new_order(c, vec![(tee, 1)]), now())
        .await
        .unwrap();
    let order = orders::place(db, &shop, new_order(c, vec![(tee, 1)]), now())
        .await
        .unwrap();
    let fees = vec![
        Fee {
            label: "Gift wrap".into(),
            amount: 2_000,
        },
        Fee {
            label: "Free card".into(),
            amount: 0,
        },
    ];
    let edit = Command::EditFees {
        fees: fees.clone(),
        shipping_fee: None,
        discount: None,
    };
    app_orders::apply(db, &shop, order.id, edit, &seller(), now())
        .await
        .unwrap();
    // A later step reads the order again and must keep the fees in its total.
    app_orders::apply(
        db,
        &shop,
        order.id,
        Command::ChooseCod,
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap();
    let loaded = orders::load(db, shop.id, order.id).await.unwrap();
    assert_eq!(loaded.fees, fees);
    assert_eq!(loaded.totals().service_fees.minor, 2_000);
    assert_eq!(
        count(
            db,
            &format!("select total from orders where id = {}", order.id)
        )
        .await,
        29_900 + 5_000 + 2_000
    );
    // The batch read the engine uses agrees, for orders with and without fees.
    let mut tx = db.begin().await.unwrap();
    let recent = orders::recent_of_customers(&mut tx, shop.id, &[c], &[], 6)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let of = |id| {
        recent
            .iter()
            .find(|(o, _)| o.id == id)
            .unwrap()
            .0
            .fees
            .clone()
    };
    assert_eq!(of(order.id), fees);
    assert!(of(plain.id).is_empty());
}

#[tokio::test]
async fn a_command_refused_halfway_in_a_shared_transaction_leaves_nothing_behind() {
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let cap = product(db, &shop, "Cap", 10_000, Some(2)).await;
    let c = customer(db, &shop, "u1").await;
    let order = orders::place(db, &shop, new_order(c, vec![(cap, 1)]), now())
        .await
        .unwrap();
    let line = order.lines[0].id;
    // The inbox's batch goes on after a refusal and commits the rest.
    let mut tx = db.begin().await.unwrap();
    let more = Command::OrderMore {
        increases: vec![(line, 5)],
    };
    let refused =
        app_orders::apply_in_tx(&mut tx, &shop, order.id, more, &Actor::Customer, now()).await;
    assert!(
        matches!(refused, Err(ApplyError::OutOfStock(_))),
        "{refused:?}"
    );
    let more = Command::OrderMore {
        increases: vec![(line, 1)],
    };
    let grown = app_orders::apply_in_tx(&mut tx, &shop, order.id, more, &Actor::Customer, now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(grown.order.version, 2);
    let after = orders::load(db, shop.id, order.id).await.unwrap();
    assert_eq!((after.version, after.lines[0].qty), (2, 2));
    assert_eq!(stock_of(db, &shop, cap).await, Some(0));
}

#[tokio::test]
async fn a_message_is_queued_once_per_key_and_only_for_a_known_customer() {
    use chatbill::store::outbox::{self, OutboundPayload};
    let t = fresh_db().await;
    let db = &t.db;
    let (shop, _) = make_shop(db, "A", Currency::THB).await;
    let (other, _) = make_shop(db, "B", Currency::THB).await;
    let c = customer(db, &shop, "u1").await;
    let hello = OutboundPayload::SellerText {
        text: "hello".into(),
    };
    let mut tx = db.begin().await.unwrap();
    assert!(
        outbox::enqueue(&mut tx, shop.id, c, "k1", &hello, now())
            .await
            .unwrap()
    );
    assert!(
        !outbox::enqueue(&mut tx, shop.id, c, "k1", &hello, now())
            .await
            .unwrap()
    );
    // Another shop's id for the same customer is not theirs to message.
    assert!(matches!(
        outbox::enqueue(&mut tx, other.id, c, "k2", &hello, now()).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    assert_eq!(
        count(
            db,
            "select count(*) from outbox_messages where recipient = 'u1' and channel = 'webchat'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn twenty_instances_asking_a_page_s_budget_at_once_get_exactly_its_burst() {
    use chatbill::domain::Timestamp;
    use chatbill::domain::send_budget::SendRate;
    use chatbill::store::send_budgets;
    let t = fresh_db().await;
    let db = &t.db;
    let rate = SendRate::per_second(50);
    let at = now();
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                send_budgets::take(&db, "messenger:42", at, rate, &[1])
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut granted = 0;
    let mut told_when = 0;
    for h in handles {
        let g = h.await.unwrap();
        granted += g.messages;
        if let Some(retry) = g.retry_at {
            assert!(
                retry > at && retry.millis() <= at.millis() + 20,
                "{retry:?}"
            );
            told_when += 1;
        }
    }
    assert_eq!(
        granted,
        rate.burst() as usize,
        "a tenth of a second's worth"
    );
    assert_eq!(told_when, 20 - granted);

    // Another Page has a budget of its own.
    let other = send_budgets::take(db, "messenger:43", at, rate, &[1; 3])
        .await
        .unwrap();
    assert_eq!(other.messages, 3);

    // A pause holds every instance back until it ends, then the Page resumes.
    let until = send_budgets::pause(db, "messenger:42", at, rate, None)
        .await
        .unwrap();
    assert!(until > at);
    let during = send_budgets::take(
        db,
        "messenger:42",
        Timestamp(until.millis() - 1),
        rate,
        &[1],
    )
    .await
    .unwrap();
    assert_eq!((during.messages, during.retry_at), (0, Some(until)));
    let after = send_budgets::take(
        db,
        "messenger:42",
        Timestamp(until.millis() + 1000),
        rate,
        &[1],
    )
    .await
    .unwrap();
    assert_eq!(after.messages, 1);
    let stored = send_budgets::get(db, "messenger:42")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.paused_until, until);
}
