//! The built-in web chat: signed-cookie identity, sending, live replies
//! over server-sent events, and pushes from the seller side.

use crate::common;

use chatbill::app::orders as app_orders;
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::Command;
use chatbill::store::orders;
use common::{TestApp, now};
use sqlx::Row;

struct Visitor {
    cookie: String,
}

async fn open(app: &TestApp) -> Visitor {
    let r = app
        .client
        .get(app.url(&format!("/chat/{}", app.shop.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("Test shop"));
    Visitor { cookie }
}

async fn send(app: &TestApp, v: &Visitor, body: serde_json::Value) -> reqwest::StatusCode {
    app.client
        .post(app.url(&format!("/chat/{}/send", app.shop.id)))
        .header("cookie", &v.cookie)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

/// Reads the event stream for a moment and returns the messages in it.
async fn messages(app: &TestApp, v: &Visitor, after: i64) -> Vec<serde_json::Value> {
    let mut r = app
        .client
        .get(app.url(&format!("/chat/{}/events?after={after}", app.shop.id)))
        .header("cookie", &v.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(1500);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, r.chunk()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

#[tokio::test]
async fn a_visitor_chats_and_gets_replies_live() {
    let app = TestApp::spawn().await;
    let v = open(&app).await;
    assert_eq!(
        send(
            &app,
            &v,
            serde_json::json!({"payload": "GET_STARTED", "client_id": "c1"})
        )
        .await,
        202
    );
    // A retried POST with the same client id is stored once.
    assert_eq!(
        send(
            &app,
            &v,
            serde_json::json!({"payload": "GET_STARTED", "client_id": "c1"})
        )
        .await,
        202
    );
    assert_eq!(
        send(
            &app,
            &v,
            serde_json::json!({"text": "cart", "client_id": "c2"})
        )
        .await,
        202
    );
    app.drain().await;
    assert!({ messages(&app, &v, 0).await.len() >= 2 }, "two replies");
    let got = messages(&app, &v, 0).await;
    assert!(
        got[0]["text"]
            .as_str()
            .unwrap()
            .contains("Welcome to Test shop"),
        "{got:?}"
    );
    assert_eq!(got[0]["quick_replies"][0]["payload"], "MENU_PRODUCTS");
    assert!(got[1]["text"].as_str().unwrap().contains("cart is empty"));
    assert_eq!(got.len(), 2, "the duplicate POST was not answered twice");
    app.stop().await;
}

#[tokio::test]
async fn forged_or_missing_cookies_are_refused() {
    let app = TestApp::spawn().await;
    let v = open(&app).await;
    let (name, value) = v.cookie.split_once('=').unwrap();
    let (id, _sig) = value.split_once('.').unwrap();
    let forged = Visitor {
        cookie: format!("{name}={id}.00000000000000000000000000000000"),
    };
    assert_eq!(
        send(
            &app,
            &forged,
            serde_json::json!({"text": "hi", "client_id": "x"})
        )
        .await,
        401
    );
    let other_id = Visitor {
        cookie: format!("{name}={}.{}", "a".repeat(24), &value[25..]),
    };
    assert_eq!(
        send(
            &app,
            &other_id,
            serde_json::json!({"text": "hi", "client_id": "x"})
        )
        .await,
        401
    );
    let none = Visitor {
        cookie: String::new(),
    };
    assert_eq!(
        send(
            &app,
            &none,
            serde_json::json!({"text": "hi", "client_id": "x"})
        )
        .await,
        401
    );
    // A cookie for shop 1 is not valid for another shop's chat.
    let r = app.client.get(app.url("/chat/9999")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // Bad bodies are 400 with a reason.
    assert_eq!(
        send(&app, &v, serde_json::json!({"text": "", "client_id": "x"})).await,
        400
    );
    assert_eq!(
        send(
            &app,
            &v,
            serde_json::json!({"text": "hi", "client_id": "bad id!"})
        )
        .await,
        400
    );
    assert_eq!(
        send(
            &app,
            &v,
            serde_json::json!({"text": "x".repeat(2001), "client_id": "y"})
        )
        .await,
        400
    );
    let count: i64 = sqlx::query("select count(*) from inbox_events")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(count, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_seller_push_reaches_the_web_chat_without_reloading() {
    let app = TestApp::spawn().await;
    let v = open(&app).await;
    send(
        &app,
        &v,
        serde_json::json!({"payload": "GET_STARTED", "client_id": "c1"}),
    )
    .await;
    app.drain().await;
    assert!(
        sqlx::query("select count(*) from customers where channel = 'webchat'")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap()
            == 1,
        "customer exists"
    );
    let customer: i64 = sqlx::query("select id from customers")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let product = chatbill::store::catalog::create_product(
        &app.db,
        app.shop.id,
        &chatbill::store::catalog::NewProduct {
            name: "Tee".into(),
            description: String::new(),
            category: String::new(),
            image_url: None,
            price: 10_000,
            variants: vec![],
        },
        now(),
    )
    .await
    .unwrap();
    let order = orders::place(
        &app.db,
        &app.shop,
        orders::NewOrder {
            customer: chatbill::domain::CustomerId(customer),
            channel: "webchat".into(),
            items: vec![(product.variants[0].id, 1)],
            address: None,
            method: None,
            shipping_fee: Some(0),
        },
        now(),
    )
    .await
    .unwrap();
    app_orders::apply(
        &app.db,
        &app.shop,
        order.id,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        &Actor::Seller("owner".into()),
        now(),
    )
    .await
    .unwrap();
    app.drain().await;
    assert!(
        messages(&app, &v, 0).await.iter().any(|m| {
            m["text"]
                .as_str()
                .unwrap_or("")
                .contains("Payment confirmed")
        }),
        "payment confirmed push"
    );
    app.stop().await;
}
