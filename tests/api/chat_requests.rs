//! A customer who types instead of tapping, and the shop balance in chat:
//! through the signed webhook, the engine and the outbox to the fake
//! Graph API, on whichever database the run uses.

use crate::common::{self, TestApp, now};
use crate::messenger::{PSID, app_with_graph, order_for_customer, post_signed, text_event};
use chatbill::app::orders as app_orders;
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::Command;
use chatbill_load::fake_graph::FakeGraph;
use serde_json::{Value, json};

/// Everything sent to the customer so far, as the text they read (a
/// carousel as `[carousel]`).
fn read(graph: &FakeGraph) -> Vec<String> {
    graph
        .sends_to(PSID)
        .iter()
        .map(|r| {
            let m = &r.body["message"];
            match m["text"].as_str() {
                Some(t) => t.to_string(),
                None if m["attachment"]["payload"]["template_type"] == "generic" => {
                    "[carousel]".into()
                }
                None => m.to_string(),
            }
        })
        .collect()
}

/// Sends `text` as the customer and returns what came back to it.
async fn say(app: &TestApp, graph: &FakeGraph, n: &mut usize, text: &str) -> Vec<String> {
    let before = read(graph).len();
    *n += 1;
    let body = text_event(&format!("m_typed_{n}"), PSID, now().millis(), text);
    assert_eq!(post_signed(app, &body).await.status(), 200);
    app.drain().await;
    read(graph).split_off(before)
}

fn has(answer: &[String], part: &str) -> bool {
    answer.iter().any(|t| t.contains(part))
}

#[tokio::test]
async fn typed_requests_reach_the_same_place_as_the_buttons_in_three_languages() {
    let (app, graph) = app_with_graph(&[]).await;
    // The product that "xin chào shop" used to find, and a mug.
    chatbill::store::catalog::create_product(
        &app.db,
        app.shop.id,
        &chatbill::store::catalog::NewProduct {
            name: "Gift card".into(),
            description: "A gift card to spend in the shop, where you like.".into(),
            category: "Gifts".into(),
            image_url: None,
            price: 50_000,
            variants: vec![chatbill::store::catalog::NewVariant {
                name: String::new(),
                price: None,
                stock: None,
            }],
        },
        now(),
    )
    .await
    .unwrap();
    common::product(&app.db, &app.shop, "Ceramic mug", 19_000, None).await;
    let n = &mut 0;

    let a = say(&app, &graph, n, "xin chào shop").await;
    assert!(
        has(&a, "Chào mừng bạn đến với"),
        "welcomed in Vietnamese: {a:?}"
    );
    assert!(!has(&a, "[carousel]"), "a greeting is not a search: {a:?}");
    let a = say(&app, &graph, n, "sawasdee").await;
    assert!(
        has(&a, "chuyển tin nhắn cho shop"),
        "unknown words go to the shop, in the language of the greeting: {a:?}"
    );
    let a = say(&app, &graph, n, "สวัสดีค่ะ").await;
    assert!(has(&a, "ยินดีต้อนรับ"), "welcomed in Thai: {a:?}");
    let a = say(&app, &graph, n, "english").await;
    assert!(has(&a, "What would you like to do?"), "{a:?}");

    let a = say(&app, &graph, n, "where is my parcel").await;
    assert!(has(&a, "no orders yet"), "{a:?}");
    assert!(!has(&a, "[carousel]"), "a question is not a search: {a:?}");
    let a = say(&app, &graph, n, "mug").await;
    assert!(has(&a, "[carousel]"), "a product's name is a search: {a:?}");

    let order = order_for_customer(&app).await;
    let a = say(&app, &graph, n, "Where is my parcel?").await;
    assert!(has(&a, "has not been sent yet"), "{a:?}");
    let a = say(&app, &graph, n, "cancel my order").await;
    assert!(has(&a, &format!("Cancel order {}", order.code)), "{a:?}");
    let a = say(&app, &graph, n, "no").await;
    assert!(has(&a, "stays as it is"), "{a:?}");
    let a = say(&app, &graph, n, "talk to a person").await;
    assert!(has(&a, "Type your message for the shop"), "{a:?}");
    say(&app, &graph, n, "menu").await;

    let r = app
        .client
        .patch(app.url("/api/v1/settings"))
        .bearer_auth(&app.token)
        .json(&json!({"tracking_links": {"kerry": "https://track.example.test/?n={tracking}"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let seller = Actor::Seller("owner".into());
    for command in [
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        Command::Ship {
            carrier: "Kerry".into(),
            tracking: Some("KEX77".into()),
        },
    ] {
        app_orders::apply(&app.db, &app.shop, order.id, command, &seller, now())
            .await
            .unwrap();
    }
    app.drain().await;
    let a = say(&app, &graph, n, "đơn hàng của tôi ở đâu").await;
    assert!(
        has(&a, "KEX77"),
        "the parcel, typed in bare Vietnamese: {a:?}"
    );
    assert!(
        has(&a, "tracking number KEX77"),
        "in the language the customer chose, not the one a request was typed in: {a:?}"
    );
    assert!(
        has(&a, "Follow it here: https://track.example.test/?n=KEX77"),
        "the carrier's tracking page: {a:?}"
    );
    let a = say(&app, &graph, n, "ยกเลิกออเดอร์").await;
    assert!(
        has(&a, "can no longer be cancelled in chat"),
        "a shipped order: why not: {a:?}"
    );
    let a = say(&app, &graph, n, "ภาษาไทย").await;
    assert!(has(&a, "ต้องการทำรายการอะไรดีคะ"), "{a:?}");
    let a = say(&app, &graph, n, "ยกเลิกออเดอร์").await;
    assert!(has(&a, "ไม่สามารถยกเลิก"), "in Thai once chosen: {a:?}");
    app.stop().await;
}

#[tokio::test]
async fn my_balance_in_chat_and_every_deposit_and_withdrawal_pushed() {
    let (app, graph) = app_with_graph(&[]).await;
    let n = &mut 0;
    let a = say(&app, &graph, n, "hello").await;
    assert!(has(&a, "Welcome"), "{a:?}");
    let customer = chatbill::store::customers::find_id(&app.db, app.shop.id, "messenger", PSID)
        .await
        .unwrap()
        .unwrap();
    let a = say(&app, &graph, n, "my balance").await;
    assert!(has(&a, "Your shop balance: ฿0.00"), "{a:?}");
    assert!(has(&a, "No movements yet"), "{a:?}");

    let api = |path: &str, body: Value| {
        app.client
            .post(app.url(&format!("/api/v1/customers/{customer}/{path}")))
            .bearer_auth(&app.token)
            .json(&body)
            .send()
    };
    let before = read(&graph).len();
    let r = api("deposit", json!({"amount": 50_000, "note": "cash"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = api("withdraw", json!({"amount": 20_000})).await.unwrap();
    assert_eq!(r.status(), 200);
    // A refused withdrawal moves nothing and tells nobody.
    let r = api("withdraw", json!({"amount": 90_000})).await.unwrap();
    assert_eq!(r.status(), 409);
    app.drain().await;
    let pushed = read(&graph).split_off(before);
    assert_eq!(
        pushed,
        [
            "The shop added ฿500.00 to your shop balance. Your balance is now ฿500.00.",
            "฿200.00 was paid out from your shop balance. Your balance is now ฿300.00."
        ],
        "one push per movement, in order"
    );
    let last = graph.sends_to(PSID).pop().unwrap();
    assert_eq!(last.body["messaging_type"], "UPDATE", "a push, not a reply");

    let a = say(&app, &graph, n, "số dư").await;
    assert!(has(&a, "Số dư của bạn tại shop: "), "{a:?}");
    assert!(has(&a, "Nạp tiền"), "{a:?}");
    assert!(has(&a, "Rút tiền"), "{a:?}");
    app.stop().await;
}

#[tokio::test]
async fn the_customer_changes_the_delivery_address_in_chat_and_is_answered_not_pushed() {
    let (app, graph) = app_with_graph(&[]).await;
    let n = &mut 0;
    say(&app, &graph, n, "hello").await;
    let order = order_for_customer(&app).await;
    let before = read(&graph).len();
    let body = crate::messenger::postback(
        "m_addr_0",
        PSID,
        now().millis(),
        &format!("ADDR_CHANGE:{}", order.id),
    );
    assert_eq!(post_signed(&app, &body).await.status(), 200);
    app.drain().await;
    assert!(has(&read(&graph)[before..], "until the order ships"));
    for step in [
        "Nok Srisuk",
        "089-765-4321",
        "55 Thanon Huay Kaew",
        "Chiang Mai",
    ] {
        say(&app, &graph, n, step).await;
    }
    let a = say(&app, &graph, n, "Mueang").await;
    assert!(has(&a, "now goes to"), "{a:?}");
    let stored = chatbill::store::orders::load(&app.db, app.shop.id, order.id)
        .await
        .unwrap();
    let address = stored.address.expect("an address");
    assert_eq!(address.line, "55 Thanon Huay Kaew");
    assert_eq!(address.phone.as_str(), "+66897654321");
    let said: Vec<_> = graph
        .sends_to(PSID)
        .into_iter()
        .filter(|r| {
            r.body["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("goes to"))
        })
        .collect();
    assert_eq!(said.len(), 1, "answered once, not pushed as well");
    assert_eq!(said[0].body["messaging_type"], "RESPONSE");
    app.stop().await;
}

#[tokio::test]
async fn the_customer_pages_back_to_their_first_order() {
    let (app, graph) = app_with_graph(&[]).await;
    let n = &mut 0;
    say(&app, &graph, n, "hello").await;
    let mut codes = Vec::new();
    for _ in 0..8 {
        codes.push(order_for_customer(&app).await.code.to_string());
    }
    let a = say(&app, &graph, n, "view orders").await;
    assert!(has(&a, &codes[7]) && !has(&a, &codes[0]), "{a:?}");
    let last = graph.sends_to(PSID).pop().unwrap();
    assert!(
        last.body["message"]["quick_replies"]
            .to_string()
            .contains("ORDERS_PAGE:1"),
        "older orders are offered"
    );
    let before = read(&graph).len();
    let body = crate::messenger::postback("m_page_1", PSID, now().millis(), "ORDERS_PAGE:1");
    assert_eq!(post_signed(&app, &body).await.status(), 200);
    app.drain().await;
    let a = read(&graph).split_off(before);
    assert!(has(&a, "Your earlier orders"), "{a:?}");
    assert!(
        has(&a, &codes[0]) && has(&a, &codes[1]),
        "the oldest two: {a:?}"
    );
    assert!(!has(&a, &codes[2]), "{a:?}");
    app.stop().await;
}
