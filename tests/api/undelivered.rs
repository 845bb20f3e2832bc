//! Pushes the seller can see: a push held outside Messenger's 24-hour
//! window or failed at Meta is listed, on the order and on its own, with
//! the reason; the seller retries it, sends it as the shop's utility
//! template, or marks it handled.

use crate::common::{self, TestApp, now};
use crate::messenger::{
    PSID, app_with_graph, order_for_customer, post_signed, postback, text_event,
};
use chatbill_load::fake_graph::{FakeGraph, Reply};
use serde_json::{Value, json};

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app
        .client
        .request(m, app.url(&format!("/api/v1{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn owner(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call(app, &app.token.clone(), method, path, body).await
}

async fn undelivered(app: &TestApp) -> Vec<Value> {
    let (status, body) = owner(app, "GET", "/undelivered", None).await;
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().cloned().unwrap_or_default()
}

/// A customer who wrote two days ago, with an order.
pub(crate) async fn customer_out_of_the_window() -> (TestApp, FakeGraph, chatbill::domain::Order) {
    let (app, graph) = app_with_graph(&[]).await;
    post_signed(&app, &postback("m_u1", PSID, now().millis(), "GET_STARTED")).await;
    app.drain().await;
    assert_eq!(graph.sends_to(PSID).len(), 1, "welcome");
    let order = order_for_customer(&app).await;
    sqlx::query("update conversations set last_inbound_at = $1")
        .bind(now().millis() - 48 * 3_600_000)
        .execute(app.db.pool())
        .await
        .expect("age the conversation");
    (app, graph, order)
}

async fn status_of(app: &TestApp, id: i64) -> String {
    use sqlx::Row;
    sqlx::query("select status from outbox_messages where id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .expect("row")
        .try_get(0)
        .expect("status")
}

#[tokio::test]
async fn a_held_push_is_shown_with_its_reason_and_goes_as_a_template_or_is_marked_handled() {
    let (app, graph, order) = customer_out_of_the_window().await;
    let (status, body) = owner(
        &app,
        "POST",
        &format!("/orders/{}/confirm-payment", order.id),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    assert_eq!(
        graph.sends_to(PSID).len(),
        1,
        "nothing sent outside the window"
    );

    // Listed, on its own and on the order, with what it says and why.
    let list = undelivered(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let held = &list[0];
    assert_eq!(held["status"], "held");
    assert_eq!(held["notice"], "payment_confirmed");
    assert_eq!(held["order"]["code"], order.code.as_str());
    assert!(
        held["reason"].as_str().unwrap().contains("24-hour window"),
        "{held}"
    );
    assert!(
        held["text"].as_str().unwrap().contains(order.code.as_str()),
        "{held}"
    );
    assert_eq!(held["can_retry"], false);
    assert_eq!(held["can_send_as_template"], false);
    let id = held["id"].as_i64().unwrap();
    let (_, detail) = owner(&app, "GET", &format!("/orders/{}", order.id), None).await;
    assert_eq!(detail["undelivered"][0]["id"], id, "shown on the order");

    // Messenger would refuse both: each says what would work, nothing moves.
    let (status, body) = owner(&app, "POST", &format!("/undelivered/{id}/retry"), None).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("24 hours"),
        "{body}"
    );
    let (status, body) = owner(
        &app,
        "POST",
        &format!("/undelivered/{id}/send-as-template"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("Settings"),
        "{body}"
    );
    app.drain().await;
    assert_eq!(graph.sends_to(PSID).len(), 1);
    assert_eq!(status_of(&app, id).await, "held");

    // Another shop cannot touch it, even knowing its number.
    let (_, other_token) =
        common::make_shop(&app.db, "Other shop", chatbill::domain::Currency::THB).await;
    let (status, _) = call(
        &app,
        &other_token,
        "POST",
        &format!("/undelivered/{id}/handled"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, theirs) = call(&app, &other_token, "GET", "/undelivered", None).await;
    assert_eq!(theirs["count"], 0, "{theirs}");
    assert_eq!(status_of(&app, id).await, "held");

    // With the template approved and set, it goes as that template.
    let (status, body) = owner(
        &app,
        "PATCH",
        "/settings",
        Some(json!({"utility_templates": {"payment_confirmed": "payment_ok_v1"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list = undelivered(&app).await;
    assert_eq!(list[0]["can_send_as_template"], true);
    assert_eq!(list[0]["template"], "payment_ok_v1");
    let (status, body) = owner(
        &app,
        "POST",
        &format!("/undelivered/{id}/send-as-template"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    let sends = graph.sends_to(PSID);
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[1].body["messaging_type"], "UTILITY");
    assert_eq!(
        sends[1].body["message"]["template"]["name"],
        "payment_ok_v1"
    );
    assert!(undelivered(&app).await.is_empty());

    // Shipped has no template: held. The seller phoned the customer and
    // marks it handled; it stays unsent even when the customer writes.
    let (status, body) = owner(
        &app,
        "POST",
        &format!("/orders/{}/ship", order.id),
        Some(json!({"carrier": "Kerry", "tracking": "KEX77"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    let list = undelivered(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["notice"], "shipped");
    let shipped = list[0]["id"].as_i64().unwrap();
    let (status, body) = owner(
        &app,
        "POST",
        &format!("/undelivered/{shipped}/handled"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(undelivered(&app).await.is_empty());
    let (status, body) = owner(
        &app,
        "POST",
        &format!("/undelivered/{shipped}/handled"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("already"),
        "{body}"
    );

    post_signed(&app, &text_event("m_u2", PSID, now().millis(), "hello")).await;
    app.drain().await;
    let after: Vec<String> = graph.sends_to(PSID)[2..]
        .iter()
        .map(|r| r.body.to_string())
        .collect();
    assert!(!after.is_empty(), "the customer got a reply");
    assert!(
        after.iter().all(|b| !b.contains("KEX77")),
        "the handled push stayed unsent: {after:?}"
    );
    assert_eq!(status_of(&app, shipped).await, "handled");
    app.stop().await;
}

#[tokio::test]
async fn a_push_meta_refused_is_listed_as_failed_and_a_retry_sends_it() {
    let (app, graph) = app_with_graph(&[]).await;
    post_signed(&app, &postback("m_f1", PSID, now().millis(), "GET_STARTED")).await;
    app.drain().await;
    let order = order_for_customer(&app).await;
    // Meta: "This person isn't available right now."
    graph.script(vec![Reply::Error {
        status: 400,
        code: 551,
        subcode: Some(1545041),
    }]);
    let (status, body) = owner(
        &app,
        "POST",
        &format!("/orders/{}/confirm-payment", order.id),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;

    let list = undelivered(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let failed = &list[0];
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["reason"].as_str().unwrap().contains("1545041")
            || failed["reason"].as_str().unwrap().contains("551"),
        "Meta's error is kept: {failed}"
    );
    assert_eq!(failed["can_retry"], true);
    assert_eq!(failed["customer_wrote_in_24h"], true);
    let id = failed["id"].as_i64().unwrap();

    // The console shows it in words, on the list and on the order.
    let cookie = app.console_cookie(&app.token).await;
    for page in [
        "/admin/undelivered".to_string(),
        format!("/admin/orders/{}", order.id),
    ] {
        let html = app
            .client
            .get(app.url(&page))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Order update: payment confirmed"),
            "{page}: {html}"
        );
        assert!(html.contains("Failed:"), "{page}");
        assert!(
            html.contains(&format!("/admin/undelivered/{id}/retry")),
            "{page}"
        );
    }

    let before = graph.sends_to(PSID).len();
    let (status, body) = owner(&app, "POST", &format!("/undelivered/{id}/retry"), None).await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    let sends = graph.sends_to(PSID);
    assert_eq!(sends.len(), before + 1, "sent once more");
    assert_eq!(sends[before].body["messaging_type"], "UPDATE");
    assert_eq!(status_of(&app, id).await, "sent");
    assert!(undelivered(&app).await.is_empty());
    app.stop().await;
}
