//! Orders the shop makes for a customer who phoned or walked in: found by
//! phone or added, stock reserved or nothing, the bill pushed to a customer
//! who chats, refusals that name what is wrong.

use crate::common::{self, TestApp, now};
use crate::messenger::{PSID, app_with_graph, count, post_signed, text_event};
use chatbill::store::tokens::{self, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn staff_make_an_order_for_a_customer_who_phoned_and_one_who_walked_in() {
    let (app, graph) = app_with_graph(&[]).await;
    let body = text_event("m_s0", PSID, now().millis(), "hello");
    assert_eq!(post_signed(&app, &body).await.status(), 200);
    app.drain().await;
    let chatting = chatbill::store::customers::find_id(&app.db, app.shop.id, "messenger", PSID)
        .await
        .unwrap()
        .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    chatbill::store::customers::save_address(&mut tx, chatting, &common::address(), now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let tee = common::product(&app.db, &app.shop, "Tee", 29_900, Some(3)).await;
    let (staff, _) = tokens::create(&app.db, app.shop.id, "Somsak", Role::Staff, now())
        .await
        .unwrap();
    let sent_before = graph.sends_to(PSID).len();

    // Phoned in, typed the way people say it: the chatting customer is
    // found by the phone they gave at checkout and sent the bill.
    let (st, b) = post(
        &app,
        &staff,
        json!({"customer": {"name": "Somchai", "phone": "081-234-5678"},
               "items": [{"variant_id": tee.get(), "qty": 2}], "method": "bank_transfer"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["order"]["customer_id"], chatting.get());
    assert_eq!(b["order"]["subtotal"], 59_800);
    assert_eq!(
        b["order"]["address"]["line"], "99/1 Sukhumvit 11",
        "the saved address"
    );
    assert_eq!(
        b["history"][0]["actor"], "seller:Somsak",
        "{}",
        b["history"]
    );
    app.drain().await;
    let pushed: Vec<Value> = graph.sends_to(PSID)[sent_before..]
        .iter()
        .map(|r| r.body["message"].clone())
        .collect();
    let code = b["order"]["code"].as_str().unwrap();
    assert!(
        pushed
            .iter()
            .any(|m| m["text"].as_str().is_some_and(
                |t| t.contains(&format!("The shop made order {code} for you: ฿598.00"))
            ) && m["quick_replies"].to_string().contains("PAYMENU:")),
        "{pushed:?}"
    );

    // Walked in, never chatted: added with the name typed, told nothing.
    let sends = graph.sends();
    let (st, b) = post(
        &app,
        &staff,
        json!({"customer": {"name": "Nok Srisuk", "phone": "089 765 4321"},
               "items": [{"variant_id": tee.get(), "qty": 1}], "method": "cod",
               "address": {"full_name": "Nok Srisuk", "phone": "+66 89 765 4321", "line": "5 Soi 3",
                           "province": "Bangkok", "district": "Bang Rak"}}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["customer"]["name"], "Nok Srisuk", "{}", b["customer"]);
    assert_eq!(b["order"]["payment_status"], "cod_pending");
    app.drain().await;
    assert_eq!(graph.sends(), sends, "nobody to chat with");
    // The same phone again is the same customer.
    let walked_in = b["order"]["customer_id"].clone();

    // Assigned for delivery: "me" is the token's name; the list filters.
    let order_id = b["order"]["id"].as_i64().unwrap();
    let assign = |person: Value| {
        app.client
            .post(app.url(&format!("/api/v1/orders/{order_id}/assign")))
            .bearer_auth(&staff)
            .json(&json!({ "person": person }))
            .send()
    };
    let r: Value = assign(json!("me")).await.unwrap().json().await.unwrap();
    assert_eq!(r["order"]["assigned_to"], "Somsak", "{r}");
    assert!(
        r["history"].to_string().contains("assignment"),
        "{}",
        r["history"]
    );
    let mine = |who: &'static str| {
        let (app, staff) = (&app, &staff);
        async move {
            let v: Value = app
                .client
                .get(app.url(&format!("/api/v1/orders?assigned={who}")))
                .bearer_auth(staff)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["orders"].as_array().unwrap().len()
        }
    };
    assert_eq!(mine("me").await, 1);
    assert_eq!(mine("Somsak").await, 1);
    assert_eq!(mine("Lek").await, 0);
    assign(Value::Null).await.unwrap();
    assert_eq!(mine("me").await, 0, "cleared");
    let r = assign(json!("x\u{7}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // No stock left: refused, nothing reserved, nothing written.
    let orders = count(&app, "select count(*) from orders").await;
    let (st, e) = post(
        &app,
        &staff,
        json!({"customer_id": walked_in, "items": [{"variant_id": tee.get(), "qty": 1}]}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["error"].as_str().unwrap().contains("Tee is out of stock"));
    assert_eq!(count(&app, "select count(*) from orders").await, orders);

    // Refusals name the field.
    for (body, field) in [
        (
            json!({"items": [{"variant_id": tee.get(), "qty": 1}]}),
            "customer",
        ),
        (
            json!({"customer": {"name": "A", "phone": "12"}, "items": [{"variant_id": tee.get(), "qty": 1}]}),
            "customer.phone",
        ),
        (json!({"customer_id": walked_in, "items": []}), "items"),
        (
            json!({"customer_id": walked_in, "items": [{"variant_id": 999_999, "qty": 1}]}),
            "items",
        ),
        (
            json!({"customer_id": walked_in, "items": [{"variant_id": tee.get(), "qty": 0}]}),
            "items",
        ),
        (
            json!({"customer_id": walked_in, "items": [{"variant_id": tee.get(), "qty": 1}], "method": "balance"}),
            "method",
        ),
    ] {
        let (st, e) = post(&app, &staff, body.clone()).await;
        assert_eq!(
            (st, e["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{body} → {e}"
        );
    }
    assert_eq!(count(&app, "select count(*) from orders").await, orders);
    // Another shop's customer is not found; finance do not make orders.
    let (_, other) = common::make_shop(&app.db, "Other", chatbill::domain::Currency::THB).await;
    let (st, _) = post(
        &app,
        &other,
        json!({"customer_id": walked_in, "items": [{"variant_id": tee.get(), "qty": 1}]}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (finance, _) = tokens::create(&app.db, app.shop.id, "f", Role::Finance, now())
        .await
        .unwrap();
    let (st, _) = post(
        &app,
        &finance,
        json!({"customer_id": walked_in, "items": [{"variant_id": tee.get(), "qty": 1}]}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    app.stop().await;
}
