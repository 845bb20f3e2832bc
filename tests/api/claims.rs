//! Claims end to end: filed in chat with a reason, words and an album of
//! photos (downloaded into the media folder, never taken for a slip),
//! handled over the API, the customer told at each step, a refund landing
//! on the shop balance with the books still adding up.

use crate::common::{TestApp, now};
use crate::messenger::{PAGE, PSID, app_with_graph, order_for_customer, post_signed, postback};
use crate::slips_support as corpus;
use chatbill::store::tokens::{self, Role};
use chatbill_load::fake_graph::FakeGraph;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A CDN on 127.0.0.1 serving the same JPEG at every path.
async fn cdn() -> String {
    let photo = corpus::photo_jpeg(320, 240, 7);
    let app = axum::Router::new().route(
        "/p/{name}",
        axum::routing::get(move || {
            let body = photo.clone();
            async move { ([("content-type", "image/jpeg")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://127.0.0.1:{port}/p")
}

fn album(mid: &str, urls: &[String]) -> String {
    let attachments: Vec<Value> = urls
        .iter()
        .map(|u| json!({"type": "image", "payload": {"url": u}}))
        .collect();
    json!({"object": "page", "entry": [{"id": PAGE, "time": now().millis(), "messaging": [
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": now().millis(),
         "message": {"mid": mid, "attachments": attachments}}]}]})
    .to_string()
}

fn text(mid: &str, text: &str) -> String {
    crate::messenger::text_event(mid, PSID, now().millis(), text)
}

async fn send(app: &TestApp, body: String) {
    assert_eq!(post_signed(app, &body).await.status(), 200);
    app.drain().await;
}

fn last_texts(graph: &FakeGraph, n: usize) -> Vec<String> {
    let all: Vec<String> = graph
        .sends_to(PSID)
        .iter()
        .filter_map(|r| r.body["message"]["text"].as_str().map(str::to_string))
        .collect();
    all[all.len().saturating_sub(n)..].to_vec()
}

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let url = app.url(path);
    let rb = match method {
        "post" => app.client.post(url).json(&body),
        _ => app.client.get(url),
    };
    let r = rb.bearer_auth(token).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A customer's order with a claim filed in chat: reason "damaged", an
/// album of three photos, and words.
pub(crate) async fn claim_filed_in_chat() -> (TestApp, FakeGraph, chatbill::domain::Order) {
    let base = cdn().await;
    let (app, graph) = app_with_graph(&[("CHATBILL_ATTACHMENT_HOSTS", "127.0.0.1")]).await;
    send(&app, text("m_c0", "hello")).await;
    let order = order_for_customer(&app).await;
    let id = order.id.get();

    send(
        &app,
        postback("m_c1", PSID, now().millis(), &format!("COMPLAIN:{id}")),
    )
    .await;
    assert!(last_texts(&graph, 1)[0].contains("What went wrong"));
    send(
        &app,
        postback("m_c2", PSID, now().millis(), &format!("CLAIM:{id}:damaged")),
    )
    .await;
    // An album of three photos while the order is unpaid: all three are
    // the claim's, none is a payment slip.
    let urls: Vec<String> = (1..=3).map(|i| format!("{base}/{i}.jpg")).collect();
    send(&app, album("m_c3", &urls)).await;
    send(&app, text("m_c4", "The handle came off in the box")).await;
    send(
        &app,
        postback("m_c5", PSID, now().millis(), &format!("CLAIM_DONE:{id}")),
    )
    .await;
    assert!(
        last_texts(&graph, 1)[0].contains("is filed"),
        "{:?}",
        last_texts(&graph, 2)
    );
    (app, graph, order)
}

#[tokio::test]
async fn a_claim_from_chat_is_handled_and_refunded_with_the_customer_told_at_each_step() {
    let (app, graph, order) = claim_filed_in_chat().await;
    let id = order.id.get();
    let payments = crate::messenger::count(&app, "select count(*) from payments").await;
    assert_eq!(payments, 0, "no photo was filed as a slip");

    let owner = app.token.clone();
    let (st, list) = call(&app, &owner, "get", "/api/v1/claims?status=open", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list["counts"]["open"], 1);
    let claim = &list["claims"][0];
    assert_eq!(claim["reason_words"], "Damaged");
    assert_eq!(claim["text"], "The handle came off in the box");
    assert_eq!(claim["photos"], 3);
    let cid = claim["id"].as_i64().unwrap();

    let (_, detail) = call(
        &app,
        &owner,
        "get",
        &format!("/api/v1/claims/{cid}"),
        json!({}),
    )
    .await;
    let photos = detail["photo_list"].as_array().unwrap();
    assert!(photos.iter().all(|p| p["status"] == "stored"), "{photos:?}");
    let r = app
        .client
        .get(app.url(photos[0]["url"].as_str().unwrap()))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    // Another shop's token sees none of it.
    let other = crate::common::make_shop(&app.db, "Other", chatbill::domain::Currency::THB)
        .await
        .1;
    let (st, _) = call(
        &app,
        &other,
        "get",
        &format!("/api/v1/claims/{cid}"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(
        &app,
        &other,
        "get",
        photos[0]["url"].as_str().unwrap(),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, o) = call(
        &app,
        &owner,
        "get",
        &format!("/api/v1/orders/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(
        o["claims"][0]["id"], cid,
        "the claim is on the order's page"
    );

    let (st, c) = call(
        &app,
        &owner,
        "post",
        &format!("/api/v1/claims/{cid}/start"),
        json!({}),
    )
    .await;
    assert_eq!(
        (st, c["status"].as_str()),
        (StatusCode::OK, Some("in_progress")),
        "{c}"
    );
    app.drain().await;
    assert!(last_texts(&graph, 1)[0].contains("looking into your claim"));
    let (st, _) = call(
        &app,
        &owner,
        "post",
        &format!("/api/v1/claims/{cid}/start"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // Nothing paid yet: nothing to refund.
    let refund = |amount: i64| json!({"outcome": "refund", "amount": amount});
    let (st, e) = call(
        &app,
        &owner,
        "post",
        &format!("/api/v1/claims/{cid}/resolve"),
        refund(5_000),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("amount")),
        "{e}"
    );
    crate::common::pay_in_full(&app, order.id).await;
    let (st, _) = call(
        &app,
        &owner,
        "post",
        &format!("/api/v1/claims/{cid}/resolve"),
        refund(29_901),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "more than was paid");
    // Staff run fulfilment but may not give money back.
    let (staff, _) = tokens::create(&app.db, app.shop.id, "staff", Role::Staff, now())
        .await
        .unwrap();
    let (st, e) = call(
        &app,
        &staff,
        "post",
        &format!("/api/v1/claims/{cid}/resolve"),
        refund(5_000),
    )
    .await;
    assert_eq!(
        (st, e["permission"].as_str()),
        (StatusCode::FORBIDDEN, Some("cancel_with_refund")),
        "{e}"
    );

    let (st, c) = call(
        &app,
        &owner,
        "post",
        &format!("/api/v1/claims/{cid}/resolve"),
        refund(5_000),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(
        (c["status"].as_str(), c["outcome"].as_str()),
        (Some("resolved"), Some("refund"))
    );
    assert_eq!(
        c["history"].as_array().unwrap().len(),
        3,
        "open, in progress, resolved"
    );
    app.drain().await;
    let told = last_texts(&graph, 2).join("\n");
    assert!(
        told.contains("฿50.00 goes back to your shop balance"),
        "{told}"
    );
    let (_, o) = call(
        &app,
        &owner,
        "get",
        &format!("/api/v1/orders/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(o["order"]["payment_status"], "paid", "{}", o["order"]);
    assert_eq!(o["order"]["total"], 24_900);
    let customer = order.customer_id;
    let (_, ledger) = call(
        &app,
        &owner,
        "get",
        &format!("/api/v1/customers/{customer}/ledger"),
        json!({}),
    )
    .await;
    assert_eq!(ledger["balance"], 5_000, "{ledger}");
    assert_eq!(
        ledger["entries"].as_array().unwrap().len(),
        1,
        "one ledger row"
    );
    let (_, books) = call(
        &app,
        &owner,
        "get",
        "/api/v1/reports/reconciliation",
        json!({}),
    )
    .await;
    assert_eq!(books["balances"], true, "the books still add up: {books}");
    // The customer's page of the order in chat: history, payments, claim.
    send(
        &app,
        postback("m_c9", PSID, now().millis(), &format!("ORDER:{id}")),
    )
    .await;
    let page = last_texts(&graph, 1).join("\n");
    assert!(page.contains("Status:"), "{page}");
    assert!(page.contains("Payments:"), "{page}");
    assert!(page.contains("Claim: Damaged — resolved"), "{page}");
    let (st, _) = call(
        &app,
        &owner,
        "post",
        &format!("/api/v1/claims/{cid}/resolve"),
        refund(1),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "resolved once");

    // A second claim, typed: rejected with a reason the customer reads.
    send(
        &app,
        postback("m_d1", PSID, now().millis(), &format!("COMPLAIN:{id}")),
    )
    .await;
    send(
        &app,
        postback("m_d2", PSID, now().millis(), &format!("CLAIM:{id}:late")),
    )
    .await;
    send(&app, text("m_d3", "It took three weeks")).await;
    send(
        &app,
        postback("m_d4", PSID, now().millis(), &format!("CLAIM_DONE:{id}")),
    )
    .await;
    let (_, list) = call(&app, &staff, "get", "/api/v1/claims", json!({})).await;
    assert_eq!(
        (
            list["counts"]["open"].as_i64(),
            list["counts"]["resolved"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let second = list["claims"][0]["id"].as_i64().unwrap();
    let (st, e) = call(
        &app,
        &staff,
        "post",
        &format!("/api/v1/claims/{second}/resolve"),
        json!({"outcome": "rejected"}),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("note")),
        "{e}"
    );
    let (st, _) = call(
        &app,
        &staff,
        "post",
        &format!("/api/v1/claims/{second}/resolve"),
        json!({"outcome": "rejected", "note": "Delivery took 3 days by the carrier's record"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    app.drain().await;
    assert!(last_texts(&graph, 1)[0].contains("was not accepted: Delivery took 3 days"));
    app.stop().await;
}
