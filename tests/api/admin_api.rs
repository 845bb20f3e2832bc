//! Admin API tests against the real server: every endpoint, tenant
//! isolation on every route, illegal transitions, idempotent double submits,
//! and the console's forms. SQLite by default, PostgreSQL with
//! TEST_DATABASE_URL.

use crate::common;

use chatbill::app::orders as app_orders;
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::{Command, Notice};
use chatbill::domain::{Currency, CustomerId, OrderId, VariantId};
use chatbill::store::catalog;
use chatbill::store::orders::{self, NewOrder};
use chatbill::store::shops::Shop;
use chatbill::store::tokens::{self, Role};
use chatbill::store::{Db, customers};
use common::{TestApp, make_shop, now, product};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn customer(db: &Db, shop: &Shop, user: &str, name: &str) -> CustomerId {
    common::named_customer(db, shop, "webchat", user, name).await
}

async fn place(
    db: &Db,
    shop: &Shop,
    c: CustomerId,
    v: VariantId,
    qty: i64,
) -> chatbill::domain::Order {
    orders::place(
        db,
        shop,
        NewOrder {
            customer: c,
            channel: "webchat".into(),
            items: vec![(v, qty)],
            address: Some(common::address()),
            method: None,
            shipping_fee: Some(5_000),
        },
        now(),
    )
    .await
    .unwrap()
}

async fn submit_slip(db: &Db, shop: &Shop, id: OrderId) {
    app_orders::apply(
        db,
        shop,
        id,
        Command::SubmitSlip { suspicious: false },
        &Actor::Customer,
        // A moment after the orders were placed, so "updated" sorts it
        // first even when the test runs within one millisecond.
        now().plus_secs(1),
    )
    .await
    .unwrap();
}

async fn payment_row(db: &Db, shop: &Shop, order: OrderId) -> i64 {
    use sqlx::Row;
    sqlx::query(
        "insert into payments (shop_id, order_id, method, amount, status, prechecks, created_at) \
         values ($1, $2, 'bank_transfer', 0, 'pending', '{\"qr_verified\":true}', $3) returning id",
    )
    .bind(shop.id.get())
    .bind(order.get())
    .bind(now().millis())
    .fetch_one(db.pool())
    .await
    .unwrap()
    .try_get::<i64, _>("id")
    .unwrap()
}

async fn count(db: &Db, sql: &str, id: i64) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .bind(id)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

/// Pushes queued for an order.
async fn pushes(db: &Db, shop: &Shop, id: OrderId) -> Vec<Notice> {
    orders::queued_notices(db, shop.id, id).await.unwrap()
}

struct Api<'a> {
    app: &'a TestApp,
    token: String,
}

impl Api<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut rb = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body), None).await
    }
}

fn api(app: &TestApp) -> Api<'_> {
    Api {
        app,
        token: app.token.clone(),
    }
}

#[tokio::test]
async fn auth_is_required_revocable_and_rate_limited() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/api/v1/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("Bearer"), "{body}");

    // A staff token works, but not on owner-only routes.
    let (staff, info) = tokens::create(&app.db, app.shop.id, "staff", Role::Staff, now())
        .await
        .unwrap();
    let s = Api {
        app: &app,
        token: staff.clone(),
    };
    assert_eq!(s.get("/api/v1/orders").await.0, StatusCode::OK);
    assert_eq!(s.get("/api/v1/tokens").await.0, StatusCode::FORBIDDEN);

    // The owner revokes it over the API; it stops working at once.
    let a = api(&app);
    let (st, _) = a
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", info.id),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, body) = s.get("/api/v1/orders").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unknown or revoked token");

    // A new token from the API works.
    let (st, body) = a
        .post("/api/v1/tokens", json!({"label": "phone", "role": "staff"}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let fresh = Api {
        app: &app,
        token: body["token"].as_str().unwrap().to_string(),
    };
    assert_eq!(fresh.get("/api/v1/orders").await.0, StatusCode::OK);

    // Guessing: after the allowed failures, even a good token must wait.
    let mut saw_429 = false;
    for i in 0..15 {
        let bad = Api {
            app: &app,
            token: format!("cbk_guess{i}"),
        };
        let (st, _) = bad.get("/api/v1/orders").await;
        if st == StatusCode::TOO_MANY_REQUESTS {
            saw_429 = true;
            break;
        }
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    assert!(saw_429, "brute force was not limited");
    let r = app
        .client
        .get(app.url("/api/v1/orders"))
        .bearer_auth("cbk_one_more_guess")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    // The seller, from the same address, still gets in (hostile.rs).
    let r = app
        .client
        .get(app.url("/api/v1/orders"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}

/// A body each route accepts, so a 404 is about tenancy, not validation.
fn body_for(method: &str, path: &str) -> Option<Value> {
    if method == "get" || method == "delete" {
        return None;
    }
    let tail = path.rsplit('/').next().unwrap_or("");
    Some(match (method, tail) {
        ("post", "deposit") | ("post", "withdraw") => json!({"amount": 100}),
        ("post", "reply") => json!({"text": "hello"}),
        ("patch", _) if path.contains("/products/") => json!({"name": "X"}),
        ("patch", _) => json!({"name": "X"}),
        ("put", "image") => json!({"image_url": "https://cdn.example/x.png"}),
        ("post", "variants") => json!({"name": "XL"}),
        ("post", "stock") => json!({"delta": 1}),
        ("post", "reject-payment") => json!({"reason": "blurry"}),
        ("post", "ship") => json!({"carrier": "Kerry", "tracking": "T1"}),
        ("post", "cancel") => json!({"reason": "test"}),
        ("post", "edit-address") => {
            json!({"address": serde_json::to_value(common::address()).unwrap()})
        }
        ("post", "edit-fees") => json!({"discount": 100}),
        ("post", "add-service" | "remove-service" | "service-done") => {
            json!({"service": "gift_wrap"})
        }
        ("post", "track") => json!({"status": "in_transit"}),
        ("post", "edit-line") => json!({"line_id": 1, "unit_price": 1, "qty": 1}),
        ("post", "resolve-payment") => json!({"payment_id": 1, "note": "paid back"}),
        ("post", "tokens") => json!({"label": "x", "role": "staff"}),
        ("post", "products") => json!({"name": "P", "price": 100}),
        _ => json!({}),
    })
}

#[tokio::test]
async fn another_shops_token_gets_404_on_every_route() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let shop = &app.shop;
    let v = product(db, shop, "Tee", 29_900, Some(10)).await;
    let c = customer(db, shop, "u1", "Alice Secret").await;
    let order = place(db, shop, c, v, 1).await;
    submit_slip(db, shop, order.id).await;
    let pay = payment_row(db, shop, order.id).await;
    let pid = catalog::list_products(db, shop.id, true).await.unwrap()[0].id;
    let (_, tinfo) = tokens::create(db, shop.id, "a2", Role::Staff, now())
        .await
        .unwrap();

    let (_, token_b) = make_shop(db, "Shop B", Currency::THB).await;
    let b = Api {
        app: &app,
        token: token_b,
    };
    let doc = b.get("/api/v1/openapi.json").await.1;
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, ops) in paths {
        for (method, _) in ops.as_object().unwrap() {
            let id = if path.starts_with("/api/v1/orders/") {
                order.id.get()
            } else if path.starts_with("/api/v1/customers/")
                || path.starts_with("/api/v1/conversations/")
            {
                c.get()
            } else if path.starts_with("/api/v1/products/") {
                pid.get()
            } else if path.starts_with("/api/v1/variants/") {
                v.get()
            } else if path.starts_with("/api/v1/payments/") {
                pay
            } else if path.starts_with("/api/v1/tokens/") {
                tinfo.id
            } else {
                0
            };
            let concrete = path
                .replace("{id}", &id.to_string())
                .replace("{customer_id}", &id.to_string())
                .replace("{picture}", "1");
            let concrete = if path.starts_with("/api/v1/print/") {
                format!("{concrete}?ids={}", order.id)
            } else {
                concrete
            };
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (st, body) = b.call(m, &concrete, body_for(method, path), None).await;
            let text = body.to_string();
            assert!(
                !text.contains(order.code.as_str()),
                "{method} {concrete} leaked the order: {text}"
            );
            assert!(
                !text.contains("Alice Secret"),
                "{method} {concrete} leaked the customer: {text}"
            );
            if id != 0 {
                assert_eq!(st, StatusCode::NOT_FOUND, "{method} {concrete}: {text}");
            } else {
                assert!(
                    st.is_success() || st.is_client_error(),
                    "{method} {concrete}: {st}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} routes checked");
    // Nothing of shop A changed.
    let after = orders::load(db, shop.id, order.id).await.unwrap();
    assert_eq!(
        (after.fulfilment, after.payment, after.version),
        (
            order.fulfilment,
            chatbill::domain::PaymentStatus::PendingReview,
            2
        )
    );
    assert_eq!(customers::get(db, shop.id, c).await.unwrap().balance, 0);
    assert!(tokens::authenticate(db, "x").await.unwrap().is_none());
    assert_eq!(
        tokens::list(db, shop.id)
            .await
            .unwrap()
            .iter()
            .filter(|t| t.revoked_at.is_some())
            .count(),
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn list_has_tab_counts_filters_search_and_keyset_pages() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 10_000, None).await;
    let alice = customer(db, shop, "u1", "Alice Wong").await;
    let bob = customer(db, shop, "u2", "Bob Tan").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let o = place(db, shop, if i % 2 == 0 { alice } else { bob }, v, 1).await;
        ids.push(o);
    }
    submit_slip(db, shop, ids[0].id).await;
    submit_slip(db, shop, ids[1].id).await;
    let a = api(&app);
    let (st, body) = a.get("/api/v1/orders").await;
    assert_eq!(st, StatusCode::OK);
    let tabs: Vec<(String, i64)> = body["tabs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tab"].as_str().unwrap().to_string(),
                t["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tabs.len(), 10);
    let n = |name: &str| tabs.iter().find(|(t, _)| t == name).unwrap().1;
    assert_eq!(
        (
            n("all"),
            n("pending_review"),
            n("pending_payment"),
            n("paid")
        ),
        (5, 2, 3, 0)
    );
    assert_eq!(body["orders"].as_array().unwrap().len(), 5);
    assert_eq!(body["orders"][0]["badge"], "pending");

    let (_, body) = a.get("/api/v1/orders?tab=pending_review").await;
    assert_eq!(body["orders"].as_array().unwrap().len(), 2);
    assert!(
        body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["badge"] == "review")
    );
    let (_, body) = a
        .get("/api/v1/orders?payment_status=unpaid&channel=webchat")
        .await;
    assert_eq!(body["orders"].as_array().unwrap().len(), 3);
    let (_, body) = a.get("/api/v1/orders?channel=messenger").await;
    assert_eq!(body["orders"].as_array().unwrap().len(), 0);
    let (_, body) = a.get(&format!("/api/v1/orders?customer={}", bob)).await;
    assert_eq!(body["orders"].as_array().unwrap().len(), 2);

    // Search by code (typed loosely), by name, by phone digits.
    let code = ids[3].code.as_str().to_lowercase().replace('-', " ");
    let (_, body) = a
        .get(&format!("/api/v1/orders?q={}", urlencode(&code)))
        .await;
    assert_eq!(body["orders"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["orders"][0]["code"], ids[3].code.as_str());
    let (_, body) = a.get("/api/v1/orders?q=alice").await;
    assert_eq!(body["orders"].as_array().unwrap().len(), 3);
    assert_eq!(body["orders"][0]["customer_name"], "Alice Wong");

    sqlx::query("update customers set phone = '+66812345678' where id = $1")
        .bind(bob.get())
        .execute(db.pool())
        .await
        .unwrap();
    let (_, body) = a.get("/api/v1/orders?q=081-234").await;
    assert_eq!(body["orders"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(body["orders"][0]["customer_name"], "Bob Tan");
    // Date range.
    let (_, body) = a.get("/api/v1/orders?from=2000-01-01&to=2000-01-02").await;
    assert_eq!(body["orders"].as_array().unwrap().len(), 0);
    let (st, body) = a.get("/api/v1/orders?from=yesterday").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    let (st, _) = a.get("/api/v1/orders?tab=nope").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Keyset pages of 2, by created and by updated, visit each order once.
    for sort in ["created", "updated"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/orders?limit=2&sort={sort}&cursor={c}"),
                None => format!("/api/v1/orders?limit=2&sort={sort}"),
            };
            let (st, body) = a.get(&path).await;
            assert_eq!(st, StatusCode::OK);
            for o in body["orders"].as_array().unwrap() {
                seen.push(o["id"].as_i64().unwrap());
            }
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let mut uniq = seen.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!((seen.len(), uniq.len()), (5, 5), "{sort}: {seen:?}");
    }
    // Updated sort puts the orders with slips first.
    let (_, body) = a.get("/api/v1/orders?sort=updated&limit=2").await;
    let top: Vec<i64> = body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert!(
        top.contains(&ids[0].id.get()) && top.contains(&ids[1].id.get()),
        "{top:?}"
    );
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn detail_shows_items_totals_payments_history_and_chat() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 29_900, Some(5)).await;
    let c = customer(db, shop, "u1", "Alice").await;
    let o = place(db, shop, c, v, 2).await;
    submit_slip(db, shop, o.id).await;
    let pay = payment_row(db, shop, o.id).await;
    let a = api(&app);
    let (st, d) = a.get(&format!("/api/v1/orders/{}", o.id)).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let ord = &d["order"];
    assert_eq!(ord["subtotal"], 59_800);
    assert_eq!(ord["shipping_fee"], 5_000);
    assert_eq!(ord["total"], 64_800);
    assert_eq!(ord["paid"], 0);
    assert_eq!(ord["remaining"], 64_800);
    assert_eq!(ord["lines"][0]["status"], "active");
    assert_eq!(ord["lines"][0]["amount"], 59_800);
    assert_eq!(ord["payment_status"], "pending_review");
    assert_eq!(ord["badge"], "review");
    assert!(
        ord["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("confirm-payment"))
    );
    assert_eq!(d["payments"][0]["id"], pay);
    assert_eq!(d["payments"][0]["prechecks"]["qr_verified"], true);
    assert_eq!(d["history"].as_array().unwrap().len(), 2);
    assert_eq!(d["customer"]["name"], "Alice");
    assert!(d["messages"].is_array());
    assert_eq!(
        a.get("/api/v1/orders/999999").await.0,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn confirm_payment_is_idempotent_one_confirmation_one_push() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 10_000, None).await;
    let c = customer(db, shop, "u1", "Alice").await;
    let o = place(db, shop, c, v, 1).await;
    submit_slip(db, shop, o.id).await;
    let a = api(&app);
    let path = format!("/api/v1/orders/{}/confirm-payment", o.id);
    // Two submits at once with the same key.
    let (r1, r2) = tokio::join!(
        a.call(Method::POST, &path, Some(json!({})), Some("k-1")),
        a.call(Method::POST, &path, Some(json!({})), Some("k-1"))
    );
    assert_eq!(
        (r1.0, r2.0),
        (StatusCode::OK, StatusCode::OK),
        "{r1:?} {r2:?}"
    );
    assert_eq!(r1.1, r2.1);
    assert_eq!(r1.1["order"]["payment_status"], "paid");
    assert_eq!(r1.1["order"]["fulfilment"], "confirmed");
    assert_eq!(r1.1["order"]["badge"], "confirmed");
    // Again later: replayed, not re-run.
    let r3 = a
        .call(Method::POST, &path, Some(json!({})), Some("k-1"))
        .await;
    assert_eq!(r3.1, r1.1);
    // The same key for another request is refused.
    let r4 = a
        .call(Method::POST, &path, Some(json!({"amount": 5})), Some("k-1"))
        .await;
    assert_eq!(r4.0, StatusCode::UNPROCESSABLE_ENTITY);
    // Without a key the state check stops it.
    let (st, body) = a.post(&path, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["payment"], "paid");
    assert_eq!(body["fulfilment"], "confirmed");
    let confirmed: Vec<_> = pushes(db, shop, o.id)
        .await
        .into_iter()
        .filter(|n| matches!(n, Notice::PaymentConfirmed { .. }))
        .collect();
    assert_eq!(confirmed.len(), 1);
    assert_eq!(
        count(db, "select count(*) from order_history where order_id = $1 and machine = 'payment' and to_state = 'paid'", o.id.get()).await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn confirm_and_reject_a_slip_by_payment_id() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 10_000, None).await;
    let c = customer(db, shop, "u1", "Alice").await;
    let o = place(db, shop, c, v, 1).await;
    submit_slip(db, shop, o.id).await;
    let p1 = payment_row(db, shop, o.id).await;
    let a = api(&app);
    let (st, body) = a
        .post(
            &format!("/api/v1/orders/{}/reject-payment", o.id),
            json!({"payment_id": p1, "reason": "blurry"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["payment_status"], "rejected");
    assert!(
        pushes(db, shop, o.id)
            .await
            .iter()
            .any(|n| matches!(n, Notice::PaymentRejected { reason } if reason == "blurry"))
    );
    // A reason is required.
    submit_slip(db, shop, o.id).await;
    let p2 = payment_row(db, shop, o.id).await;
    let (st, _) = a
        .post(
            &format!("/api/v1/orders/{}/reject-payment", o.id),
            json!({"payment_id": p2}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let path = format!("/api/v1/orders/{}/confirm-payment", o.id);
    let (st, body) = a
        .call(
            Method::POST,
            &path,
            Some(json!({"payment_id": p2})),
            Some("pk"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["payment_status"], "paid");
    let again = a
        .call(
            Method::POST,
            &path,
            Some(json!({"payment_id": p2})),
            Some("pk"),
        )
        .await;
    assert_eq!(again.1, body);
    let (st, body) = a.post(&path, json!({"payment_id": p2})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["payment"], "paid");
    // A payment of another order is not found here.
    let o2 = place(db, shop, c, v, 1).await;
    let (st, _) = a
        .post(
            &format!("/api/v1/orders/{}/confirm-payment", o2.id),
            json!({"payment_id": p2}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn illegal_transitions_are_409_naming_the_state() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 10_000, None).await;
    let c = customer(db, shop, "u1", "Alice").await;
    let o = place(db, shop, c, v, 1).await;
    let a = api(&app);
    let at = |x: &str| format!("/api/v1/orders/{}/{x}", o.id);
    let (st, body) = a.post(&at("ship"), json!({"carrier": "Kerry"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(body["error"], "the order is new; it cannot be shipped");
    assert_eq!(
        (body["fulfilment"].as_str(), body["payment"].as_str()),
        (Some("placed"), Some("unpaid"))
    );
    for x in [
        "complete",
        "fail-delivery",
        "return-to-stock",
        "collect-cod",
    ] {
        let (st, body) = a.post(&at(x), json!({})).await;
        assert_eq!(st, StatusCode::CONFLICT, "{x}: {body}");
        assert_eq!(body["fulfilment"], "placed");
    }
    let (st, _) = a.post(&at("reject-payment"), json!({"reason": "x"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    // Bad input is 400 / 422, never a state change.
    let (st, _) = a.post(&at("ship"), json!({"carier": "typo"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let r = app
        .client
        .post(app.url(&at("confirm")))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .client
        .post(app.url(&at("confirm")))
        .bearer_auth(&app.token)
        .body("{\"note\": \"no type\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, _) = a.post(&at("ship"), json!({})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // Delete only once cancelled.
    let (st, body) = a
        .call(
            Method::DELETE,
            &format!("/api/v1/orders/{}", o.id),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(body["fulfilment"], "placed");
    let (st, _) = a
        .post(&at("cancel"), json!({"reason": "customer asked"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, body) = a.post(&at("confirm"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(body["fulfilment"], "cancelled");
    let (st, _) = a
        .call(
            Method::DELETE,
            &format!("/api/v1/orders/{}", o.id),
            None,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        a.get(&format!("/api/v1/orders/{}", o.id)).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, body) = a.get("/api/v1/orders").await;
    assert_eq!(body["tabs"][0]["count"], 0, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn the_whole_lifecycle_through_the_api() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 10_000, Some(10)).await;
    let c = customer(db, shop, "u1", "Alice").await;
    let a = api(&app);
    let stock =
        || async { catalog::list_products(db, shop.id, true).await.unwrap()[0].variants[0].stock };

    // COD: confirm, ship now by a person, complete → awaiting COD, collect.
    let o = place(db, shop, c, v, 2).await;
    app_orders::apply(db, shop, o.id, Command::ChooseCod, &Actor::Customer, now())
        .await
        .unwrap();
    let at = |id: OrderId, x: &str| format!("/api/v1/orders/{id}/{x}");
    let (st, b) = a.post(&at(o.id, "confirm"), json!({})).await;
    assert_eq!(
        (st, b["order"]["fulfilment"].as_str()),
        (StatusCode::OK, Some("confirmed")),
        "{b}"
    );
    let (st, b) = a
        .post(
            &at(o.id, "edit-fees"),
            json!({"fees": [{"label": "Gift wrap", "amount": 2000}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["order"]["service_fees"], 2000);
    assert_eq!(b["order"]["total"], 27_000);
    let (st, b) = a.post(&at(o.id, "edit-address"), json!({"address": {"full_name": "S J", "phone": "+66812345678", "line": "1 Road", "province": "Bangkok", "district": "Bang Rak"}})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(
        pushes(db, shop, o.id)
            .await
            .iter()
            .any(|n| matches!(n, Notice::AddressChanged { address } if address.contains("1 Road"))),
        "the customer is told where the order now goes"
    );
    let (st, b) = a
        .post(
            &at(o.id, "ship"),
            json!({"ship_now": true, "person": "Somsak"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["order"]["carrier"], "Somsak");
    let (st, _) = a
        .post(
            &at(o.id, "edit-address"),
            json!({"address": serde_json::to_value(common::address()).unwrap()}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, b) = a.post(&at(o.id, "complete"), json!({})).await;
    assert_eq!(b["order"]["fulfilment"], "awaiting_cod");
    let (_, b) = a.post(&at(o.id, "collect-cod"), json!({})).await;
    assert_eq!(
        (
            b["order"]["fulfilment"].as_str(),
            b["order"]["payment_status"].as_str()
        ),
        (Some("completed"), Some("cod_collected"))
    );
    assert_eq!(b["order"]["remaining"], 0);
    assert!(
        pushes(db, shop, o.id)
            .await
            .iter()
            .any(|n| matches!(n, Notice::Shipped { carrier, .. } if carrier == "Somsak"))
    );

    // Paid, shipped with tracking, failed, returned to stock.
    let o2 = place(db, shop, c, v, 3).await;
    assert_eq!(stock().await, Some(5));
    a.post(&at(o2.id, "confirm-payment"), json!({})).await;
    let (_, b) = a
        .post(
            &at(o2.id, "ship"),
            json!({"carrier": "Kerry", "tracking": "KX123"}),
        )
        .await;
    assert_eq!(b["order"]["tracking"], "KX123");
    let (_, b) = a.post(&at(o2.id, "fail-delivery"), json!({})).await;
    assert_eq!(b["order"]["fulfilment"], "failed");
    let (_, b) = a.post(&at(o2.id, "return-to-stock"), json!({})).await;
    assert_eq!(b["order"]["fulfilment"], "returned");
    assert_eq!(stock().await, Some(8));
    assert!(
        pushes(db, shop, o2.id)
            .await
            .contains(&Notice::ReturnedToStock),
        "the customer is told the parcel came back"
    );

    // The customer's own change is answered in chat, never pushed as
    // "updated by the shop"; the order page counts items per line status.
    let o4 = place(db, shop, c, v, 1).await;
    app_orders::apply(
        db,
        shop,
        o4.id,
        Command::OrderMore {
            increases: vec![(o4.lines[0].id, 1)],
        },
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap();
    assert!(
        !pushes(db, shop, o4.id)
            .await
            .contains(&Notice::OrderUpdated),
        "{:?}",
        pushes(db, shop, o4.id).await
    );
    let (_, b) = a.get(&format!("/api/v1/orders/{}", o4.id)).await;
    assert_eq!(
        b["line_counts"],
        json!({"active": 2, "awaiting_customer": 0, "refused": 0})
    );
    a.post(&at(o4.id, "cancel"), json!({})).await;
    assert_eq!(stock().await, Some(8), "its items are back on sale");

    // Paid then cancelled: the money goes to the balance; stock comes back.
    let o3 = place(db, shop, c, v, 1).await;
    a.post(&at(o3.id, "confirm-payment"), json!({})).await;
    let (st, b) = a
        .post(&at(o3.id, "cancel"), json!({"reason": "out of colour"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["order"]["payment_status"], "refunded");
    assert_eq!(
        customers::get(db, shop.id, c).await.unwrap().balance,
        15_000
    );
    assert_eq!(stock().await, Some(8));

    // A line change before shipping asks the customer.
    let o4 = place(db, shop, c, v, 1).await;
    let line = o4.lines[0].id;
    let (st, b) = a
        .post(
            &at(o4.id, "edit-line"),
            json!({"line_id": line, "unit_price": 9000, "qty": 2}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["order"]["lines"][0]["status"], "awaiting_customer");
    assert!(
        pushes(db, shop, o4.id)
            .await
            .iter()
            .any(|n| matches!(n, Notice::LineChangeProposed { .. }))
    );

    // Pay from balance.
    let (st, b) = a.post(&at(o4.id, "pay-from-balance"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(b["order"]["paid"].as_i64().unwrap() > 0);
    app.stop().await;
}

#[tokio::test]
async fn customers_profile_ledger_deposit_withdraw() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 10_000, None).await;
    let c = customer(db, shop, "u1", "Alice").await;
    place(db, shop, c, v, 1).await;
    let a = api(&app);
    let (st, b) = a.get(&format!("/api/v1/customers/{c}")).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["customer"]["display_name"], "Alice");
    assert_eq!(b["recent_orders"].as_array().unwrap().len(), 1);
    let (_, b) = a.get(&format!("/api/v1/customers/{c}/orders")).await;
    assert_eq!(b["orders"].as_array().unwrap().len(), 1);
    let (_, b) = a.get("/api/v1/customers?q=ali").await;
    assert_eq!(b["customers"].as_array().unwrap().len(), 1);
    let (st, b) = a
        .post(
            &format!("/api/v1/customers/{c}/deposit"),
            json!({"amount": 50_000, "note": "cash"}),
        )
        .await;
    assert_eq!(
        (st, b["balance"].as_i64()),
        (StatusCode::OK, Some(50_000)),
        "{b}"
    );
    let (st, b) = a
        .post(
            &format!("/api/v1/customers/{c}/withdraw"),
            json!({"amount": 20_000}),
        )
        .await;
    assert_eq!(
        (st, b["balance"].as_i64()),
        (StatusCode::OK, Some(30_000)),
        "{b}"
    );
    let (st, _) = a
        .post(
            &format!("/api/v1/customers/{c}/withdraw"),
            json!({"amount": 99_000}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = a
        .post(
            &format!("/api/v1/customers/{c}/deposit"),
            json!({"amount": -5}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, b) = a.get(&format!("/api/v1/customers/{c}/ledger")).await;
    assert_eq!(b["entries"].as_array().unwrap().len(), 2);
    assert_eq!(b["balance"], 30_000);
    // Staff may not move money.
    let (staff, _) = tokens::create(db, shop.id, "staff", Role::Staff, now())
        .await
        .unwrap();
    let s = Api {
        app: &app,
        token: staff,
    };
    assert_eq!(
        s.post(
            &format!("/api/v1/customers/{c}/deposit"),
            json!({"amount": 1})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

#[tokio::test]
async fn conversations_unread_read_reply_pause() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let c = customer(db, shop, "u1", "Alice").await;
    for body in ["hi", "is the tee in stock?"] {
        sqlx::query("insert into conversation_messages (shop_id, customer_id, direction, author, body, created_at) values ($1, $2, 'in', 'customer', $3, $4)")
            .bind(shop.id.get()).bind(c.get()).bind(body).bind(now().millis())
            .execute(db.pool()).await.unwrap();
    }
    sqlx::query("update conversations set unread = 2, total_messages = 2, last_message_at = $1 where customer_id = $2")
        .bind(now().millis()).bind(c.get()).execute(db.pool()).await.unwrap();
    let a = api(&app);
    let (st, b) = a.get("/api/v1/conversations").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["conversations"][0]["unread"], 2);
    assert_eq!(b["conversations"][0]["total"], 2);
    assert_eq!(
        b["conversations"][0]["last_message"],
        "is the tee in stock?"
    );
    let (_, b) = a.get(&format!("/api/v1/conversations/{c}")).await;
    assert_eq!(b["messages"].as_array().unwrap().len(), 2);
    let (_, b) = a.get("/api/v1/conversations?unread=true").await;
    assert_eq!(b["conversations"].as_array().unwrap().len(), 0);
    let path = format!("/api/v1/conversations/{c}/reply");
    let (st, b) = a
        .call(
            Method::POST,
            &path,
            Some(json!({"text": "Yes, in stock"})),
            Some("r1"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, _) = a
        .call(
            Method::POST,
            &path,
            Some(json!({"text": "Yes, in stock"})),
            Some("r1"),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(
        count(
            db,
            "select count(*) from outbox_messages where customer_id = $1 and purpose = 'seller'",
            c.get()
        )
        .await,
        1
    );
    let (_, b) = a.get(&format!("/api/v1/conversations/{c}")).await;
    assert_eq!(b["conversation"]["total"], 3);
    assert_eq!(b["messages"][2]["author"], "seller");
    assert_eq!(
        a.post(&path, json!({"text": "  "})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, b) = a
        .post(&format!("/api/v1/conversations/{c}/pause"), json!({}))
        .await;
    assert_eq!(b["bot_paused"], true);
    assert_eq!(
        count(
            db,
            "select bot_paused from conversations where customer_id = $1",
            c.get()
        )
        .await,
        1
    );
    a.post(&format!("/api/v1/conversations/{c}/resume"), json!({}))
        .await;
    assert_eq!(
        count(
            db,
            "select bot_paused from conversations where customer_id = $1",
            c.get()
        )
        .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn products_and_variants_crud_and_stock() {
    let app = TestApp::spawn().await;
    let a = api(&app);
    let (st, b) = a
        .post(
            "/api/v1/products",
            json!({"name": "Tee", "price": 29_900, "variants": [{"name": "M", "stock": 3}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let pid = b["product"]["id"].as_i64().unwrap();
    let vid = b["product"]["variants"][0]["id"].as_i64().unwrap();
    let (st, _) = a
        .post("/api/v1/products", json!({"name": "", "price": 1}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, b) = a
        .call(
            Method::PATCH,
            &format!("/api/v1/products/{pid}"),
            Some(json!({"name": "Tee 2", "active": false})),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(
        (
            b["product"]["name"].as_str(),
            b["product"]["active"].as_bool()
        ),
        (Some("Tee 2"), Some(false))
    );
    let (st, b) = a
        .call(
            Method::PUT,
            &format!("/api/v1/products/{pid}/image"),
            Some(json!({"image_url": "https://cdn.example/tee.jpg"})),
            None,
        )
        .await;
    assert_eq!(
        (st, b["product"]["image_url"].as_str()),
        (StatusCode::OK, Some("https://cdn.example/tee.jpg"))
    );
    let (st, _) = a
        .call(
            Method::PUT,
            &format!("/api/v1/products/{pid}/image"),
            Some(json!({"image_url": "javascript:alert(1)"})),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, b) = a
        .post(
            &format!("/api/v1/products/{pid}/variants"),
            json!({"name": "L", "price": 31_900, "stock": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let v2 = b["variant_id"].as_i64().unwrap();
    let (st, b) = a
        .post(
            &format!("/api/v1/variants/{vid}/stock"),
            json!({"delta": 4}),
        )
        .await;
    assert_eq!((st, b["stock"].as_i64()), (StatusCode::OK, Some(7)));
    let (st, _) = a
        .post(
            &format!("/api/v1/variants/{vid}/stock"),
            json!({"delta": -99}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = a
        .call(
            Method::PATCH,
            &format!("/api/v1/variants/{v2}"),
            Some(json!({"stock": null, "price": 30_000})),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, b) = a.get(&format!("/api/v1/products/{pid}")).await;
    assert_eq!(b["product"]["variants"][1]["stock"], Value::Null);
    assert_eq!(b["product"]["variants"][1]["price"], 30_000);
    assert_eq!(
        a.call(
            Method::DELETE,
            &format!("/api/v1/variants/{v2}"),
            None,
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, b) = a.get("/api/v1/products").await;
    assert_eq!(b["products"][0]["variants"].as_array().unwrap().len(), 1);
    assert_eq!(
        a.call(
            Method::DELETE,
            &format!("/api/v1/products/{pid}"),
            None,
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        a.get(&format!("/api/v1/products/{pid}")).await.0,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn bills_shipping_notes_and_dashboard() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee <b>", 29_900, None).await;
    let c = customer(db, shop, "u1", "Alice").await;
    let o1 = place(db, shop, c, v, 1).await;
    let o2 = place(db, shop, c, v, 2).await;
    let a = api(&app);
    let r = app
        .client
        .get(app.url(&format!("/api/v1/orders/{}/bill", o1.id)))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains(o1.code.as_str()));
    assert!(html.contains("Tee &lt;b&gt;"), "not escaped");
    assert!(html.contains("฿349.00"), "total");
    let (st, html) = a
        .get(&format!(
            "/api/v1/print/shipping-notes?ids={},{}",
            o1.id, o2.id
        ))
        .await;
    assert_eq!(st, StatusCode::OK);
    let html = html.as_str().unwrap().to_string();
    assert!(html.contains(o1.code.as_str()) && html.contains(o2.code.as_str()));
    assert!(html.contains("Somchai Jaidee"));
    let (st, _) = a.get("/api/v1/print/bills?ids=1,x").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, b) = a.get("/api/v1/dashboard?days=7").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let days = b["dashboard"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["orders"], 2);
    assert_eq!(days[6]["revenue"], 0, "nothing paid yet");
    assert_eq!(
        days[6]["unpaid"],
        o1.totals().total.minor + o2.totals().total.minor
    );
    assert_eq!(
        b["dashboard"]["expiring"].as_array().map(Vec::len),
        Some(0),
        "holds of a day lapse later than six hours from now"
    );
    submit_slip(db, shop, o1.id).await;
    crate::common::pay_in_full(&app, o2.id).await;
    let (_, b) = a.get("/api/v1/dashboard").await;
    let today = b["dashboard"]["days"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(today["revenue"], o2.totals().total.minor, "paid money only");
    assert_eq!(today["unpaid"], o1.totals().total.minor);
    assert_eq!(b["dashboard"]["pending_slips"], 1);
    assert_eq!(b["dashboard"]["orders_total"], 2);
    app.stop().await;
}

#[tokio::test]
async fn openapi_document_matches_the_router() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for required in [
        "/api/v1/orders",
        "/api/v1/orders/{id}",
        "/api/v1/orders/{id}/confirm-payment",
        "/api/v1/orders/{id}/reject-payment",
        "/api/v1/orders/{id}/ship",
        "/api/v1/orders/{id}/collect-cod",
        "/api/v1/customers/{id}/deposit",
        "/api/v1/conversations/{customer_id}/reply",
        "/api/v1/products",
        "/api/v1/variants/{id}/stock",
        "/api/v1/print/bills",
        "/api/v1/dashboard",
    ] {
        assert!(paths.contains_key(required), "{required} missing");
    }
    let tabs = doc["paths"]["/api/v1/orders"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tab")
        .unwrap()["schema"]["enum"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(tabs, 10);
    let ship = &doc["paths"]["/api/v1/orders/{id}/ship"]["post"];
    assert!(
        ship["requestBody"]["content"]["application/json"]["schema"]["properties"]["tracking"]
            .is_object()
    );
    assert!(
        ship["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key")
    );
    // Every documented operation is routed (no 405, no bare 404) and
    // every one needs the token.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path}"
            );
            assert!(op["responses"]["409"].is_object());
            let concrete = path.replace("{id}", "1").replace("{customer_id}", "1");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(m.clone(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {concrete}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn console_login_order_page_and_confirm_form() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 10_000, None).await;
    let c = customer(db, shop, "u1", "Alice").await;
    let o = place(db, shop, c, v, 1).await;
    submit_slip(db, shop, o.id).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(app.url("/admin/orders")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/login");
    let r = client
        .post(app.url("/admin/login"))
        .form(&[("token", "cbk_wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client
        .post(app.url("/admin/login"))
        .form(&[("token", app.token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
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
    let get = |p: String| {
        let client = client.clone();
        let cookie = cookie.clone();
        let url = app.url(&p);
        async move {
            let r = client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (st, html) = get("/admin/orders".into()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(o.code.as_str()));
    assert!(
        html.contains("To review<span class=\"count\">1</span>"),
        "{html}"
    );
    let (st, html) = get(format!("/admin/orders/{}", o.id)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("data-badge=\"review\""));
    assert!(html.contains("id=\"confirm-payment\""));
    // Without "Yes" ticked, nothing happens and the page says why.
    let r = client
        .post(app.url(&format!("/admin/orders/{}/confirm-payment", o.id)))
        .header("cookie", &cookie)
        .form(&[("idem", "abc-no")])
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("error="), "{location}");
    let still = chatbill::store::orders::load(&app.db, app.shop.id, o.id)
        .await
        .unwrap();
    assert_eq!(
        still.payment,
        chatbill::domain::PaymentStatus::PendingReview
    );
    let r = client
        .post(app.url(&format!("/admin/orders/{}/confirm-payment", o.id)))
        .header("cookie", &cookie)
        .form(&[("idem", "abc-cpm"), ("yes", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The double click replays.
    let r = client
        .post(app.url(&format!("/admin/orders/{}/confirm-payment", o.id)))
        .header("cookie", &cookie)
        .form(&[("idem", "abc-cpm"), ("yes", "on")])
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("notice=")
    );
    let (_, html) = get(format!("/admin/orders/{}", o.id)).await;
    assert!(html.contains("data-badge=\"confirmed\""), "{html}");
    assert_eq!(
        pushes(db, shop, o.id)
            .await
            .iter()
            .filter(|n| matches!(n, Notice::PaymentConfirmed { .. }))
            .count(),
        1
    );
    // Another shop's order is not shown.
    let (_, token_b) = make_shop(db, "B", Currency::THB).await;
    let rb = client
        .post(app.url("/admin/login"))
        .form(&[("token", token_b.as_str())])
        .send()
        .await
        .unwrap();
    let cookie_b = rb.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = client
        .get(app.url(&format!("/admin/orders/{}", o.id)))
        .header("cookie", cookie_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for p in [
        "/admin/chats".to_string(),
        format!("/admin/chats/{c}"),
        "/admin/products".into(),
        format!("/admin/orders/{}/bill", o.id),
    ] {
        let (st, _) = get(p.clone()).await;
        assert_eq!(st, StatusCode::OK, "{p}");
    }
    app.stop().await;
}

#[tokio::test]
async fn dates_and_daily_figures_follow_the_shop_s_time_zone() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let mut shop = chatbill::store::shops::get(db, app.shop.id).await.unwrap();
    shop.settings.time_zone = Some("Asia/Bangkok".into());
    chatbill::store::shops::update_settings(db, shop.id, &shop.settings)
        .await
        .unwrap();
    let v = product(db, &shop, "Mug", 10_000, None).await;
    let c = customer(db, &shop, "u-tz", "Nok").await;
    let late = place(db, &shop, c, v, 1).await;
    let early = place(db, &shop, c, v, 1).await;
    // 2026-12-01 18:30 UTC is already 2 December in Bangkok (01:30);
    // 2026-12-01 16:30 UTC is still 1 December there (23:30).
    let at = |h: i64, m: i64| 1_796_083_200_000 + (h * 60 + m) * 60_000;
    for (o, t) in [(late.id, at(18, 30)), (early.id, at(16, 30))] {
        sqlx::query("update orders set created_at = $1 where id = $2")
            .bind(t)
            .bind(o.get())
            .execute(db.pool())
            .await
            .unwrap();
    }
    let a = api(&app);
    let ids = |body: &Value| -> Vec<i64> {
        body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect()
    };
    let (_, body) = a.get("/api/v1/orders?from=2026-12-02&to=2026-12-02").await;
    assert_eq!(ids(&body), vec![late.id.get()], "{body}");
    let (_, body) = a.get("/api/v1/orders?from=2026-12-01&to=2026-12-01").await;
    assert_eq!(ids(&body), vec![early.id.get()], "{body}");

    // The order page shows Bangkok's clock, in the seeds' format.
    let bill = app
        .client
        .get(app.url(&format!("/api/v1/orders/{}/bill", late.id)))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(bill.contains("02.12.2026 01:30"), "{bill}");

    // Daily figures count each order on its Bangkok day.
    let now = chatbill::domain::Timestamp(at(23, 0));
    let cal = shop.settings.calendar();
    let d = chatbill::store::listing::dashboard(db, shop.id, 2, &cal, now)
        .await
        .unwrap();
    let days: Vec<(&str, i64)> = d.days.iter().map(|x| (x.date.as_str(), x.orders)).collect();
    assert_eq!(days, vec![("2026-12-01", 1), ("2026-12-02", 1)]);
    app.stop().await;
}
