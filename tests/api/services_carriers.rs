//! Extra services (charged always or once done), carriers' tracking news,
//! and COD remittances that pay many orders at once: in chat, over the API,
//! with the money model and the customer's pushes.

use crate::common::{TestApp, now};
use crate::messenger::{
    PSID, app_with_graph, order_for_customer, post_signed, postback, text_event,
};
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::Command;
use chatbill_load::fake_graph::FakeGraph;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn call(app: &TestApp, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let url = app.url(path);
    let rb = match method {
        "post" => app.client.post(url).json(&body),
        "patch" => app.client.patch(url).json(&body),
        _ => app.client.get(url),
    };
    let r = rb.bearer_auth(&app.token).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn act(app: &TestApp, order: i64, action: &str, body: Value) -> (StatusCode, Value) {
    call(
        app,
        "post",
        &format!("/api/v1/orders/{order}/{action}"),
        body,
    )
    .await
}

async fn tap(app: &TestApp, mid: &str, payload: &str) {
    let body = postback(mid, PSID, now().millis(), payload);
    assert_eq!(post_signed(app, &body).await.status(), 200);
    app.drain().await;
}

fn texts_since(graph: &FakeGraph, from: usize) -> Vec<String> {
    graph.sends_to(PSID)[from..]
        .iter()
        .filter_map(|r| r.body["message"]["text"].as_str().map(str::to_string))
        .collect()
}

async fn shop_with_extras_and_carriers() -> (TestApp, FakeGraph) {
    let (app, graph) = app_with_graph(&[]).await;
    let hello = text_event("m_h", PSID, now().millis(), "hello");
    assert_eq!(post_signed(&app, &hello).await.status(), 200);
    app.drain().await;
    let (st, b) = call(
        &app,
        "patch",
        "/api/v1/settings",
        json!({
            "services": [
                {"id": "gift_wrap", "name": "Gift wrap", "price": 3_000, "charged": "always"},
                {"id": "inspection", "name": "Inspection", "price": 1_500, "charged": "when_done"}
            ],
            "carriers": {
                "Kerry": {"tracking_url": "https://th.kerryexpress.com/en/track/?track={tracking}", "collects_cod": true},
                "Own rider": {}
            }
        }),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    (app, graph)
}

#[tokio::test]
async fn extras_chosen_in_chat_and_done_by_the_seller_follow_the_money_model() {
    let (app, graph) = shop_with_extras_and_carriers().await;
    let order = order_for_customer(&app).await;
    let id = order.id.get();
    let base = order.totals().total.minor;

    let seen = graph.sends_to(PSID).len();
    tap(&app, "m_s1", &format!("SERVICES:{id}")).await;
    tap(&app, "m_s2", &format!("SVC_ADD:{id}:gift_wrap")).await;
    tap(&app, "m_s3", &format!("SVC_ADD:{id}:inspection")).await;
    let said = texts_since(&graph, seen);
    assert!(
        said[0].contains("Gift wrap: ฿30.00 (added when you choose it)"),
        "{said:?}"
    );
    assert!(
        said.iter().any(|t| t.contains("Gift wrap is on order")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|t| t.contains("Inspection is on order")),
        "{said:?}"
    );
    // A forged button for a service the shop does not offer changes nothing.
    tap(&app, "m_s4", &format!("SVC_ADD:{id}:massage")).await;
    assert!(
        texts_since(&graph, seen)
            .last()
            .unwrap()
            .contains("offers no service"),
        "{:?}",
        texts_since(&graph, seen)
    );

    let (_, got) = call(&app, "get", &format!("/api/v1/orders/{id}"), json!({})).await;
    let o = &got["order"];
    assert_eq!(o["total"], base + 3_000, "charged always: owed at once");
    assert_eq!(o["services"].as_array().unwrap().len(), 2, "{o}");
    assert_eq!(o["services"][1]["owed"], 0, "charged once done: not yet");

    crate::common::pay_in_full(&app, order.id).await;
    let seen = graph.sends_to(PSID).len();
    let (st, b) = act(&app, id, "service-done", json!({"service": "inspection"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["order"]["remaining"], 1_500);
    assert_eq!(b["order"]["payment_status"], "partially_paid");
    app.drain().await;
    let pushed = texts_since(&graph, seen);
    assert!(
        pushed
            .iter()
            .any(|t| t.contains("Inspection on order") && t.contains("฿15.00 is added")),
        "{pushed:?}"
    );
    assert!(
        pushed.iter().any(|t| t.contains("Still to pay: ฿15.00")),
        "{pushed:?}"
    );
    let (st, again) = act(&app, id, "service-done", json!({"service": "inspection"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{again}");

    // Taken off after it was paid for: its price pays the inspection and
    // the rest goes to the customer's balance, one ledger row.
    let (st, b) = act(&app, id, "remove-service", json!({"service": "gift_wrap"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["order"]["total"], base + 1_500);
    assert_eq!(b["order"]["remaining"], 0);
    assert_eq!(b["order"]["payment_status"], "paid");
    let customer = order.customer_id.get();
    let (_, ledger) = call(
        &app,
        "get",
        &format!("/api/v1/customers/{customer}/ledger"),
        json!({}),
    )
    .await;
    assert_eq!(ledger["balance"], 1_500, "{ledger}");

    for (body, status) in [
        (
            json!({"service": "massage"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"service": "inspection"}), StatusCode::CONFLICT),
    ] {
        let action = if body.get("service") == Some(&json!("inspection")) {
            "remove-service"
        } else {
            "add-service"
        };
        let (st, b) = act(&app, id, action, body).await;
        assert_eq!(st, status, "{action}: {b}");
    }
}

/// A COD order of the customer's, confirmed and shipped with `carrier`.
async fn shipped_cod(app: &TestApp, carrier: &str, tracking: &str) -> (i64, String, i64) {
    let order = order_for_customer(app).await;
    chatbill::app::orders::apply(
        &app.db,
        &app.shop,
        order.id,
        Command::ChooseCod,
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap();
    let id = order.id.get();
    let (st, b) = act(app, id, "confirm", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = act(
        app,
        id,
        "ship",
        json!({"carrier": carrier, "tracking": tracking}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let owed = b["order"]["remaining"].as_i64().unwrap();
    (id, order.code.as_str().to_string(), owed)
}

async fn payment_status(app: &TestApp, id: i64) -> (String, String) {
    let (_, got) = call(app, "get", &format!("/api/v1/orders/{id}"), json!({})).await;
    (
        got["order"]["fulfilment"].as_str().unwrap().to_string(),
        got["order"]["payment_status"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn carriers_report_the_parcel_and_one_remittance_pays_many_orders() {
    let (app, graph) = shop_with_extras_and_carriers().await;
    // Typed in another case: the order is written under the shop's name.
    let (o1, c1, owed1) = shipped_cod(&app, "kerry", "K1").await;
    let (o2, c2, owed2) = shipped_cod(&app, "Kerry", "K2").await;
    let (o3, c3, owed3) = shipped_cod(&app, "Kerry", "K3").await;
    let (_, c4, _) = shipped_cod(&app, "Own rider", "").await;
    app.drain().await;

    let seen = graph.sends_to(PSID).len();
    for status in [
        "out_for_delivery",
        "failed_attempt",
        "failed_attempt",
        "delivered",
    ] {
        let (st, b) = act(&app, o1, "track", json!({"status": status})).await;
        assert_eq!(st, StatusCode::OK, "{status}: {b}");
    }
    let (st, b) = act(
        &app,
        o2,
        "track",
        json!({"status": "in_transit", "note": "Sorting centre"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, twice) = act(&app, o2, "track", json!({"status": "in_transit"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{twice}");
    let (st, bad) = act(&app, o2, "track", json!({"status": "lost_in_space"})).await;
    assert!(st.is_client_error(), "{bad}");
    app.drain().await;
    let pushed = texts_since(&graph, seen);
    let has = |s: &str| pushed.iter().filter(|t| t.contains(s)).count();
    assert_eq!(
        has(&format!("Order {c1} is out for delivery today")),
        1,
        "{pushed:?}"
    );
    assert_eq!(has("will try again"), 2, "{pushed:?}");
    assert_eq!(has(&format!("Order {c1} is delivered")), 1, "{pushed:?}");
    assert!(
        pushed.iter().any(|t| t.contains("Sorting centre")),
        "{pushed:?}"
    );
    assert_eq!(payment_status(&app, o1).await.0, "awaiting_cod");

    let (_, list) = call(&app, "get", "/api/v1/carriers", json!({})).await;
    let kerry = list["carriers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Kerry")
        .unwrap()
        .clone();
    assert_eq!(kerry["owed"]["owed_orders"], 1, "{list}");
    assert_eq!(kerry["owed"]["owed"], owed1);
    assert_eq!(kerry["owed"]["collecting_orders"], 2);

    // One transfer for two orders, 5 baht short (the carrier's fee).
    let remit = json!({"reference": "KR-0001", "amount": owed1 + owed2 - 500,
                       "orders": [{"code": c1}, {"code": c2.to_lowercase()}]});
    let (st, r) = call(
        &app,
        "post",
        "/api/v1/carriers/Kerry/remittances",
        remit.clone(),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["difference"], -500);
    assert_eq!(r["allocated"], owed1 + owed2);
    for o in [o1, o2] {
        assert_eq!(
            payment_status(&app, o).await,
            ("completed".into(), "cod_collected".into())
        );
    }
    let (st, dup) = call(&app, "post", "/api/v1/carriers/kerry/remittances", remit).await;
    assert_eq!(st, StatusCode::CONFLICT, "{dup}");

    // All or nothing: an order already collected stops the whole remittance.
    let (st, mixed) = call(
        &app,
        "post",
        "/api/v1/carriers/Kerry/remittances",
        json!({"reference": "KR-0002", "amount": 100, "orders": [{"code": c3}, {"code": c1}]}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{mixed}");
    assert!(
        mixed["error"].as_str().unwrap_or("").contains(&c1),
        "{mixed}"
    );
    assert_eq!(
        payment_status(&app, o3).await,
        ("shipping".into(), "cod_pending".into())
    );

    for (path, body, status) in [
        (
            "/api/v1/carriers/Own%20rider/remittances",
            json!({"reference": "R1", "amount": 1, "orders": [{"code": c3}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/carriers/Flash/remittances",
            json!({"reference": "F1", "amount": 1, "orders": [{"code": c3}]}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/carriers/Kerry/remittances",
            json!({"reference": "K9", "amount": 1, "orders": [{"code": "CB-NOPE0000"}]}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/carriers/Kerry/remittances",
            json!({"reference": "K9", "amount": 1, "orders": []}),
            StatusCode::BAD_REQUEST,
        ),
        // Kerry cannot pay for a parcel the shop's rider took.
        (
            "/api/v1/carriers/Kerry/remittances",
            json!({"reference": "K9", "amount": 1, "orders": [{"code": c4}]}),
            StatusCode::CONFLICT,
        ),
        (
            "/api/v1/carriers/Kerry/remittances",
            json!({"reference": " ", "amount": 1, "orders": [{"code": c3}]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/carriers/Kerry/remittances",
            json!({"reference": "K9", "amount": 1, "orders": [{"code": c3}, {"code": c3}]}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (st, b) = call(&app, "post", path, body).await;
        assert_eq!(st, status, "{path}: {b}");
    }
    assert_eq!(payment_status(&app, o3).await.1, "cod_pending");

    let (_, list) = call(&app, "get", "/api/v1/carriers", json!({})).await;
    let kerry = list["carriers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Kerry")
        .unwrap()
        .clone();
    assert_eq!(kerry["owed"]["owed"], 0, "{list}");
    assert_eq!(kerry["owed"]["collecting_orders"], 1);
    let (_, open) = call(&app, "get", "/api/v1/carriers/Kerry/cod-orders", json!({})).await;
    assert_eq!(open["orders"].as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open["orders"][0]["code"], c3.as_str());
    let (_, paid) = call(&app, "get", "/api/v1/remittances?carrier=Kerry", json!({})).await;
    let r = &paid["remittances"][0];
    assert_eq!(r["reference"], "KR-0001", "{paid}");
    assert_eq!(r["difference"], -500);
    assert_eq!(r["orders"], json!([c1, c2]));

    // What a booking integration reads to book the parcel.
    let (st, parcel) = call(
        &app,
        "get",
        &format!("/api/v1/orders/{o3}/parcel"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{parcel}");
    assert_eq!(parcel["cash_on_delivery"], owed3, "{parcel}");
    assert_eq!(parcel["carrier_collects_cod"], true);
    assert_eq!(parcel["items"][0]["name"], "Tee");
    let (_, paid_parcel) = call(
        &app,
        "get",
        &format!("/api/v1/orders/{o1}/parcel"),
        json!({}),
    )
    .await;
    assert_eq!(
        paid_parcel["cash_on_delivery"], 0,
        "collected: nothing to collect"
    );

    // The customer's order in chat says where the parcel is.
    let (st, b) = act(&app, o3, "track", json!({"status": "in_transit"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    app.drain().await;
    let seen = graph.sends_to(PSID).len();
    tap(&app, "m_t1", &format!("ORDER:{o3}")).await;
    let said = texts_since(&graph, seen).join("\n");
    assert!(said.contains("Parcel: on its way"), "{said}");
}
