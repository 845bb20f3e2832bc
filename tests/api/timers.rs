//! Unpaid orders hold their stock only for the shop's hold time: a reminder
//! before it lapses, then cancellation that releases the stock. The timers
//! live in the database, so they survive restarts and run once.

use crate::common;

use chatbill::app::orders as app_orders;
use chatbill::domain::lifecycle::{Actor, Fulfilment, PaymentStatus};
use chatbill::domain::order::{Command, Notice};
use chatbill::store::catalog::{self, NewProduct, NewVariant};
use chatbill::store::customers;
use chatbill::store::orders::{self, NewOrder};
use common::{TestApp, now};
use sqlx::Row;

async fn setup(app: &TestApp) -> (chatbill::domain::Order, chatbill::domain::VariantId) {
    let p = catalog::create_product(
        &app.db,
        app.shop.id,
        &NewProduct {
            name: "Candle".into(),
            description: String::new(),
            category: String::new(),
            image_url: None,
            price: 45_000,
            variants: vec![NewVariant {
                name: String::new(),
                price: None,
                stock: Some(3),
            }],
        },
        now(),
    )
    .await
    .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let c = customers::upsert(&mut tx, app.shop.id, "webchat", "visitor1", now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let order = orders::place(
        &app.db,
        &app.shop,
        NewOrder {
            customer: c.id,
            channel: "webchat".into(),
            items: vec![(p.variants[0].id, 2)],
            address: None,
            method: None,
            shipping_fee: Some(0),
        },
        now(),
    )
    .await
    .unwrap();
    (order, p.variants[0].id)
}

async fn stock(app: &TestApp) -> i64 {
    sqlx::query("select stock from variants")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn set_hold(app: &TestApp, ms_from_now: i64) {
    sqlx::query("update orders set hold_until = $1")
        .bind(now().millis() + ms_from_now)
        .execute(app.db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn reminder_then_expiry_releases_stock_once() {
    let app = TestApp::spawn_with(&[("CHATBILL_WORKERS", "off")]).await;
    let (order, _) = setup(&app).await;
    assert_eq!(stock(&app).await, 1);
    // Not yet due: nothing happens.
    assert_eq!(
        chatbill::app::holds::expire_holds(app.state(), now())
            .await
            .unwrap(),
        0
    );
    // An hour left (reminders start 2 h before): one reminder, however often the timer runs.
    set_hold(&app, 3_600_000).await;
    assert_eq!(
        chatbill::app::holds::expire_holds(app.state(), now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        chatbill::app::holds::expire_holds(app.state(), now())
            .await
            .unwrap(),
        0
    );
    let notices = orders::queued_notices(&app.db, app.shop.id, order.id)
        .await
        .unwrap();
    assert_eq!(notices, vec![Notice::HoldReminder { hours_left: 1 }]);
    // Lapsed: cancelled, stock back, customer told, once.
    set_hold(&app, -1000).await;
    assert_eq!(
        chatbill::app::holds::expire_holds(app.state(), now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        chatbill::app::holds::expire_holds(app.state(), now())
            .await
            .unwrap(),
        0
    );
    let o = orders::load(&app.db, app.shop.id, order.id).await.unwrap();
    assert_eq!(
        (o.fulfilment, o.payment),
        (Fulfilment::Cancelled, PaymentStatus::Void)
    );
    assert_eq!(stock(&app).await, 3);
    let notices = orders::queued_notices(&app.db, app.shop.id, order.id)
        .await
        .unwrap();
    assert_eq!(notices.last(), Some(&Notice::Expired));
    let history = orders::history(&app.db, app.shop.id, order.id)
        .await
        .unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.event == "expire" && h.actor == "system")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_slip_extends_the_hold_and_paid_orders_never_expire() {
    let app = TestApp::spawn_with(&[("CHATBILL_WORKERS", "off")]).await;
    let (order, _) = setup(&app).await;
    app_orders::apply(
        &app.db,
        &app.shop,
        order.id,
        Command::SubmitSlip { suspicious: false },
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap();
    let hold: Option<i64> = sqlx::query("select hold_until from orders")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(hold, None, "under review: no clock running");
    assert_eq!(
        chatbill::app::holds::expire_holds(app.state(), now())
            .await
            .unwrap(),
        0
    );
    // The slip is rejected: the hold starts again, a full period from now.
    app_orders::apply(
        &app.db,
        &app.shop,
        order.id,
        Command::RejectPayment {
            reason: "blurry".into(),
        },
        &Actor::Seller("o".into()),
        now(),
    )
    .await
    .unwrap();
    let hold: Option<i64> = sqlx::query("select hold_until from orders")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let hold = hold.expect("hold restarted");
    assert!(hold > now().millis() + 23 * 3_600_000);
    // Paid: the timer has nothing to do even when the old time passes.
    app_orders::apply(
        &app.db,
        &app.shop,
        order.id,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        &Actor::Seller("o".into()),
        now(),
    )
    .await
    .unwrap();
    set_hold(&app, -1000).await;
    assert_eq!(
        chatbill::app::holds::expire_holds(app.state(), now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        orders::load(&app.db, app.shop.id, order.id)
            .await
            .unwrap()
            .payment,
        PaymentStatus::Paid
    );
    app.stop().await;
}

#[tokio::test]
async fn a_shop_that_keeps_unpaid_orders_open_is_not_cancelled_when_the_hold_lapses() {
    let app = TestApp::spawn_with(&[("CHATBILL_WORKERS", "off")]).await;
    let (status, body) = crate::undelivered::owner(
        &app,
        "PATCH",
        "/settings",
        Some(serde_json::json!({"expiry_cancels": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["settings"]["expiry_cancels"], false);
    let (order, _) = setup(&app).await;
    // No reminder threatens a cancellation that will not come.
    set_hold(&app, 3_600_000).await;
    assert_eq!(
        chatbill::app::holds::expire_holds(app.state(), now())
            .await
            .unwrap(),
        0
    );
    set_hold(&app, -1000).await;
    chatbill::app::holds::expire_holds(app.state(), now())
        .await
        .unwrap();
    let o = orders::load(&app.db, app.shop.id, order.id).await.unwrap();
    assert_eq!(
        (o.fulfilment, o.payment),
        (Fulfilment::Placed, PaymentStatus::Unpaid)
    );
    assert_eq!(stock(&app).await, 1, "the stock stays held for the order");
    let notices = orders::queued_notices(&app.db, app.shop.id, order.id)
        .await
        .unwrap();
    assert!(notices.is_empty(), "{notices:?}");
    let hold: Option<i64> = sqlx::query("select hold_until from orders")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(hold, None, "the timer is done with it");
    app.stop().await;
}
