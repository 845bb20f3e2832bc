//! Security checks as tests (issue 7, item 6), against the real server:
//! forged / replayed / unsigned webhooks, SQL injection strings in every
//! search and text field, SSRF attempts on the attachment download policy,
//! path traversal in media names, oversize bodies, and a tenant isolation
//! sweep over every admin route. SQLite by default, PostgreSQL with
//! TEST_DATABASE_URL.

use crate::common;

use axum::extract::{Path as AxPath, State as AxState};
use axum::response::{IntoResponse, Response};
use chatbill::app::orders as app_orders;
use chatbill::channels::messenger::signature::sign;
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::Command;
use chatbill::domain::{Currency, CustomerId, OrderId, VariantId};
use chatbill::slips::fetch::{self, FetchError, FetchPolicy};
use chatbill::store::catalog;
use chatbill::store::orders::{self, NewOrder};
use chatbill::store::shops::{self, Shop};
use chatbill::store::tokens::{self, Role};
use chatbill::store::{Db, customers};
use chatbill_load::fake_graph::FakeGraph;
use common::{APP_SECRET, TestApp, make_shop, now, product};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PAGE: &str = "431900112233445";
const PSID: &str = "7700112233445566";

// ---------------------------------------------------------------------------
// Helpers

async fn scalar(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .try_get::<i64, _>(0)
        .unwrap()
}

pub(crate) use common::named_customer as customer;

pub(crate) async fn place(
    db: &Db,
    shop: &Shop,
    c: CustomerId,
    v: VariantId,
) -> chatbill::domain::Order {
    orders::place(
        db,
        shop,
        NewOrder {
            customer: c,
            channel: "webchat".into(),
            items: vec![(v, 1)],
            address: Some(common::address()),
            method: None,
            shipping_fee: Some(5_000),
        },
        now(),
    )
    .await
    .unwrap()
}

async fn apply(db: &Db, shop: &Shop, id: OrderId, command: Command, actor: Actor) {
    app_orders::apply(db, shop, id, command, &actor, now())
        .await
        .unwrap();
}

pub(crate) async fn payment_row(db: &Db, shop: &Shop, order: OrderId) -> i64 {
    sqlx::query(
        "insert into payments (shop_id, order_id, method, amount, status, prechecks, created_at) \
         values ($1, $2, 'bank_transfer', 0, 'pending', '{}', $3) returning id",
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

/// Percent-encodes everything but unreserved characters.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut rb = app.client.request(method, app.url(path));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
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

async fn healthy(app: &TestApp) {
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the server is not healthy");
}

// ---------------------------------------------------------------------------
// Webhooks

async fn app_with_page() -> (TestApp, FakeGraph) {
    let graph = FakeGraph::start().await;
    let app = TestApp::spawn_with(&[("META_GRAPH_URL", graph.url.as_str())]).await;
    shops::bind_channel(
        &app.db,
        app.shop.id,
        "messenger",
        PAGE,
        Some("page-token-1"),
        now(),
    )
    .await
    .unwrap();
    (app, graph)
}

async fn post_webhook(app: &TestApp, body: &[u8], headers: &[(&str, String)]) -> StatusCode {
    let mut req = app
        .client
        .post(app.url("/webhooks/messenger"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.unwrap().status()
}

fn text_event(mid: &str, text: &str) -> String {
    let ts = now().millis();
    json!({"object": "page", "entry": [{"id": PAGE, "time": ts, "messaging": [
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": ts,
         "message": {"mid": mid, "text": text}}]}]})
    .to_string()
}

/// What is tried, the headers sent, and the body.
type Attempt<'a> = (&'a str, Vec<(&'a str, String)>, Vec<u8>);

#[tokio::test]
async fn forged_unsigned_and_tampered_webhooks_are_refused_and_store_nothing() {
    let (app, graph) = app_with_page().await;
    let body = text_event("m_forged", "ขอดูสินค้าหน่อย");
    let good = sign(APP_SECRET.as_bytes(), body.as_bytes());
    let other_body = text_event("m_other", "something else");
    let sig = "x-hub-signature-256";
    let attempts: Vec<Attempt> = vec![
        ("unsigned", vec![], body.clone().into_bytes()),
        (
            "empty header",
            vec![(sig, String::new())],
            body.clone().into_bytes(),
        ),
        (
            "wrong secret",
            vec![(sig, sign(b"not-the-app-secret", body.as_bytes()))],
            body.clone().into_bytes(),
        ),
        (
            "signature of a different body",
            vec![(sig, sign(APP_SECRET.as_bytes(), other_body.as_bytes()))],
            body.clone().into_bytes(),
        ),
        (
            "replay with a changed body",
            vec![(sig, good.clone())],
            body.replace("ขอดู", "ขอซื้อ").into_bytes(),
        ),
        (
            "body with a trailing newline",
            vec![(sig, good.clone())],
            format!("{body}\n").into_bytes(),
        ),
        (
            "truncated signature",
            vec![(sig, good[..good.len() - 8].to_string())],
            body.clone().into_bytes(),
        ),
        (
            "sha256= only",
            vec![(sig, "sha256=".into())],
            body.clone().into_bytes(),
        ),
        (
            "sha1= only",
            vec![(sig, "sha1=".into())],
            body.clone().into_bytes(),
        ),
        (
            "an sha1 scheme with the sha256 digest",
            vec![(sig, good.replace("sha256=", "sha1="))],
            body.clone().into_bytes(),
        ),
        (
            "the legacy header only",
            vec![("x-hub-signature", good.replace("sha256=", "sha1="))],
            body.clone().into_bytes(),
        ),
        (
            "upper-case scheme",
            vec![(sig, good.replace("sha256=", "SHA256="))],
            body.clone().into_bytes(),
        ),
        (
            "zero signature",
            vec![(sig, format!("sha256={}", "0".repeat(64)))],
            body.clone().into_bytes(),
        ),
    ];
    for (what, headers, bytes) in &attempts {
        assert_eq!(
            post_webhook(&app, bytes, headers).await,
            StatusCode::FORBIDDEN,
            "{what}"
        );
    }
    assert_eq!(
        scalar(&app.db, "select count(*) from inbox_events").await,
        0
    );
    assert_eq!(scalar(&app.db, "select count(*) from customers").await, 0);
    app.drain().await;
    assert!(graph.requests().is_empty(), "a forged webhook was answered");

    // The genuine one goes through; replaying it exactly is stored once.
    for _ in 0..3 {
        assert_eq!(
            post_webhook(&app, body.as_bytes(), &[(sig, good.clone())]).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        scalar(&app.db, "select count(*) from inbox_events").await,
        1
    );
    // The same message twice in one batch: still once.
    let ts = now().millis();
    let batch = json!({"object": "page", "entry": [{"id": PAGE, "time": ts, "messaging": [
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": ts, "message": {"mid": "m_twice", "text": "a"}},
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": ts, "message": {"mid": "m_twice", "text": "a"}}]}]})
    .to_string();
    let batch_sig = sign(APP_SECRET.as_bytes(), batch.as_bytes());
    assert_eq!(
        post_webhook(&app, batch.as_bytes(), &[(sig, batch_sig)]).await,
        StatusCode::OK
    );
    assert_eq!(
        scalar(&app.db, "select count(*) from inbox_events").await,
        2
    );
    app.drain().await;
    assert!(
        scalar(
            &app.db,
            "select count(*) from inbox_events where status = 'done'",
        )
        .await
            == 2,
        "the genuine messages answered"
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------
// SQL injection strings in every search and text field

fn hostile_strings() -> Vec<String> {
    vec![
        "' or 1=1 --".into(),
        "'; drop table orders; --".into(),
        "%' union select id, code, total from orders --".into(),
        "Robert'); DROP TABLE customers;--".into(),
        "1; delete from products where 1=1".into(),
        "\\'; select pg_sleep(5); --".into(),
        "\" or \"\"=\"".into(),
        "%_\\".into(),
        "' or 'a'='a".repeat(900),
        // NUL bytes: see `nul_bytes_in_text_fields_are_refused_not_500`.
    ]
}

/// A NUL byte in any text field. SQLite stores it; PostgreSQL refuses it
/// in a text value ("invalid byte sequence for encoding UTF8: 0x00"), and
/// the API turns that database error into a 500 instead of a 4xx.
#[tokio::test]
async fn nul_bytes_in_text_fields_are_refused_not_500() {
    let (app, _graph) = app_with_page().await;
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, "Tee", 10_000, None).await;
    let alice = customer(db, shop, "webchat", "u-alice", "Alice Wong").await;
    let pid = catalog::list_products(db, shop.id, true).await.unwrap()[0].id;
    let t = Some(app.token.as_str());
    let s = "a\0b";
    let mut failures = Vec::new();
    let check = |failures: &mut Vec<String>, what: &str, st: StatusCode| {
        if st.is_server_error() {
            failures.push(format!("{what}: {st}"));
        }
    };
    for path in [
        format!("/api/v1/orders?q={}", enc(s)),
        format!("/api/v1/orders?channel={}", enc(s)),
        format!("/api/v1/customers?q={}", enc(s)),
    ] {
        check(
            &mut failures,
            &path,
            call(&app, t, Method::GET, &path, None, None).await.0,
        );
    }
    let posts: Vec<(String, Value)> = vec![
        ("/api/v1/products".into(), json!({"name": s, "price": 100})),
        (
            format!("/api/v1/products/{pid}/variants"),
            json!({"name": s}),
        ),
        (
            "/api/v1/tokens".into(),
            json!({"label": s, "role": "staff"}),
        ),
        (
            format!("/api/v1/conversations/{alice}/reply"),
            json!({"text": s}),
        ),
        (
            format!("/api/v1/customers/{alice}/deposit"),
            json!({"amount": 1, "note": s}),
        ),
    ];
    for (path, body) in posts {
        check(
            &mut failures,
            &format!("POST {path}"),
            call(&app, t, Method::POST, &path, Some(body), None).await.0,
        );
    }
    check(
        &mut failures,
        "PATCH product",
        call(
            &app,
            t,
            Method::PATCH,
            &format!("/api/v1/products/{pid}"),
            Some(json!({"description": s})),
            None,
        )
        .await
        .0,
    );
    let o = place(db, shop, alice, v).await;
    apply(
        db,
        shop,
        o.id,
        Command::SubmitSlip { suspicious: false },
        Actor::Customer,
    )
    .await;
    let pay = payment_row(db, shop, o.id).await;
    check(
        &mut failures,
        "reject-payment reason",
        call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/reject-payment", o.id),
            Some(json!({"payment_id": pay, "reason": s})),
            None,
        )
        .await
        .0,
    );
    let o = place(db, shop, alice, v).await;
    apply(
        db,
        shop,
        o.id,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        Actor::Seller("owner".into()),
    )
    .await;
    check(
        &mut failures,
        "ship carrier",
        call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/ship", o.id),
            Some(json!({"carrier": s, "tracking": s})),
            None,
        )
        .await
        .0,
    );
    let o = place(db, shop, alice, v).await;
    check(
        &mut failures,
        "cancel reason",
        call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/cancel", o.id),
            Some(json!({"reason": s})),
            None,
        )
        .await
        .0,
    );
    let r = app
        .client
        .get(app.url(&format!("/chat/{}", shop.id)))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = app
        .client
        .post(app.url(&format!("/chat/{}/send", shop.id)))
        .header("cookie", &cookie)
        .json(&json!({"text": s, "client_id": "nul-1"}))
        .send()
        .await
        .unwrap();
    check(&mut failures, "web-chat text", r.status());
    let body = text_event("m_nul", s);
    let sig = sign(APP_SECRET.as_bytes(), body.as_bytes());
    check(
        &mut failures,
        "webhook text",
        post_webhook(&app, body.as_bytes(), &[("x-hub-signature-256", sig)]).await,
    );
    // Accepted messages must be processed, not stuck or failed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while scalar(
        db,
        "select count(*) from inbox_events where status = 'pending'",
    )
    .await
        > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (status, n) in sqlx::query("select status, count(*) from inbox_events group by status")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
    {
        if status != "done" {
            failures.push(format!("{n} inbox event(s) left {status}"));
        }
    }
    healthy(&app).await;
    app.stop().await;
    assert!(
        failures.is_empty(),
        "server errors on a NUL byte ({}): {failures:#?}",
        common::backend_name()
    );
}

#[tokio::test]
async fn sql_injection_strings_in_every_search_and_text_field_are_inert() {
    let app = TestApp::spawn().await;
    let (db, shop, token) = (&app.db, &app.shop, app.token.clone());
    let v = product(db, shop, "Tee", 10_000, None).await;
    let alice = customer(db, shop, "webchat", "u-alice", "Alice Wong").await;
    let base_order = place(db, shop, alice, v).await;
    let base_product = catalog::list_products(db, shop.id, true).await.unwrap()[0].id;
    let shop_before = scalar(db, "select count(*) from shops").await;

    // A web-chat visitor, for the chat text field.
    let r = app
        .client
        .get(app.url(&format!("/chat/{}", shop.id)))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    let t = Some(token.as_str());
    let mut created_products = 0;
    let mut created_orders = 0;
    for (i, s) in hostile_strings().into_iter().enumerate() {
        let short: String = s.chars().take(30).collect();
        let no_500 = |what: &str, st: StatusCode, body: &Value| {
            assert!(
                !st.is_server_error(),
                "{what} with {short:?}: {st} {}",
                body.to_string().chars().take(300).collect::<String>()
            );
        };

        // Order search and every list filter.
        let (st, b) = call(
            &app,
            t,
            Method::GET,
            &format!("/api/v1/orders?q={}", enc(&s)),
            None,
            None,
        )
        .await;
        no_500("order search q", st, &b);
        assert_eq!(st, StatusCode::OK, "order search {short:?}: {b}");
        for o in b["orders"].as_array().unwrap() {
            assert_eq!(o["customer_name"], "Alice Wong", "{short:?} found {o}");
        }
        if s.chars().any(char::is_alphabetic) {
            assert_eq!(
                b["orders"].as_array().unwrap().len(),
                0,
                "{short:?} matched: {b}"
            );
        }
        for param in [
            "channel",
            "status",
            "payment_status",
            "from",
            "to",
            "customer",
            "cursor",
            "sort",
            "tab",
            "limit",
        ] {
            let (st, b) = call(
                &app,
                t,
                Method::GET,
                &format!("/api/v1/orders?{param}={}", enc(&s)),
                None,
                None,
            )
            .await;
            no_500(&format!("order filter {param}"), st, &b);
            if param == "channel" {
                assert_eq!(
                    (st, b["orders"].as_array().map(Vec::len)),
                    (StatusCode::OK, Some(0)),
                    "{short:?}"
                );
            } else {
                assert_eq!(st, StatusCode::BAD_REQUEST, "{param}={short:?}: {b}");
            }
        }
        // Customer search.
        let (st, b) = call(
            &app,
            t,
            Method::GET,
            &format!("/api/v1/customers?q={}", enc(&s)),
            None,
            None,
        )
        .await;
        no_500("customer search", st, &b);
        assert_eq!(st, StatusCode::OK);
        if s.chars().any(char::is_alphabetic) {
            // An injected `or 1=1` would list everyone.
            assert_eq!(b["customers"], json!([]), "{short:?} matched");
        }
        // Conversations and dashboard filters.
        for path in [
            format!("/api/v1/conversations?unread={}", enc(&s)),
            format!("/api/v1/dashboard?days={}", enc(&s)),
            format!("/api/v1/print/bills?ids={}", enc(&s)),
        ] {
            let (st, b) = call(&app, t, Method::GET, &path, None, None).await;
            no_500(&path, st, &b);
            assert!(st.is_client_error(), "{path}: {st}");
        }

        // Product name, description, category, variant name: stored verbatim.
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            "/api/v1/products",
            Some(json!({"name": s, "price": 100, "description": s, "category": s})),
            None,
        )
        .await;
        no_500("product create", st, &b);
        if st == StatusCode::CREATED {
            created_products += 1;
            let pid = b["product"]["id"].as_i64().unwrap();
            let (_, got) = call(
                &app,
                t,
                Method::GET,
                &format!("/api/v1/products/{pid}"),
                None,
                None,
            )
            .await;
            assert_eq!(
                got["product"]["name"].as_str(),
                Some(s.as_str()),
                "the name was altered"
            );
            assert_eq!(got["product"]["category"].as_str(), Some(s.as_str()));
            let (st, b) = call(
                &app,
                t,
                Method::PATCH,
                &format!("/api/v1/products/{pid}"),
                Some(json!({"description": s, "name": format!("{s}2")})),
                None,
            )
            .await;
            no_500("product patch", st, &b);
            assert_eq!(st, StatusCode::OK, "{b}");
            let (st, b) = call(
                &app,
                t,
                Method::POST,
                &format!("/api/v1/products/{pid}/variants"),
                Some(json!({"name": s})),
                None,
            )
            .await;
            no_500("variant create", st, &b);
            assert_eq!(st, StatusCode::CREATED, "{b}");
            let vid = b["variant_id"].as_i64().unwrap();
            let (st, b) = call(
                &app,
                t,
                Method::PATCH,
                &format!("/api/v1/variants/{vid}"),
                Some(json!({"name": s})),
                None,
            )
            .await;
            no_500("variant patch", st, &b);
        } else {
            assert_eq!(
                st,
                StatusCode::UNPROCESSABLE_ENTITY,
                "product {short:?}: {b}"
            );
        }
        let (st, b) = call(
            &app,
            t,
            Method::PUT,
            &format!("/api/v1/products/{base_product}/image"),
            Some(json!({"image_url": s})),
            None,
        )
        .await;
        no_500("product image", st, &b);

        // Reject reason on a slip under review.
        let o = place(db, shop, alice, v).await;
        created_orders += 1;
        apply(
            db,
            shop,
            o.id,
            Command::SubmitSlip { suspicious: false },
            Actor::Customer,
        )
        .await;
        let pay = payment_row(db, shop, o.id).await;
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/reject-payment", o.id),
            Some(json!({"payment_id": pay, "reason": s})),
            Some(&format!("rj-{i}")),
        )
        .await;
        no_500("reject reason", st, &b);
        if st == StatusCode::OK {
            assert_eq!(b["order"]["payment_status"], "rejected");
            let stored: Option<String> =
                sqlx::query("select reject_reason from payments where id = $1")
                    .bind(pay)
                    .fetch_one(db.pool())
                    .await
                    .unwrap()
                    .try_get(0)
                    .unwrap();
            assert_eq!(
                stored.as_deref(),
                Some(s.as_str()),
                "the reason was altered"
            );
        } else {
            assert_eq!(
                st,
                StatusCode::UNPROCESSABLE_ENTITY,
                "reject {short:?}: {b}"
            );
        }
        // Carrier and tracking on a paid order; fees label and address.
        let o = place(db, shop, alice, v).await;
        created_orders += 1;
        apply(
            db,
            shop,
            o.id,
            Command::ConfirmPayment {
                amount: None,
                credit_excess: false,
                slip: false,
            },
            Actor::Seller("owner".into()),
        )
        .await;
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/edit-fees", o.id),
            Some(json!({"fees": [{"label": s, "amount": 100}]})),
            None,
        )
        .await;
        no_500("fee label", st, &b);
        let mut addr = serde_json::to_value(common::address()).unwrap();
        for k in ["full_name", "line", "province", "district", "postcode"] {
            addr[k] = json!(s);
        }
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/edit-address", o.id),
            Some(json!({"address": addr})),
            None,
        )
        .await;
        no_500("address fields", st, &b);
        addr["phone"] = json!(s);
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/edit-address", o.id),
            Some(json!({"address": addr})),
            None,
        )
        .await;
        no_500("address phone", st, &b);
        // Whether it is refused is `edit_address_refuses_a_phone_that_is_not_a_phone`.
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/ship", o.id),
            Some(json!({"carrier": s, "tracking": s})),
            None,
        )
        .await;
        no_500("ship carrier/tracking", st, &b);
        if st == StatusCode::OK {
            assert_eq!(b["order"]["carrier"].as_str(), Some(s.as_str()));
            assert_eq!(b["order"]["tracking"].as_str(), Some(s.as_str()));
        } else {
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "ship {short:?}: {b}");
        }
        // Cancel reason.
        let o = place(db, shop, alice, v).await;
        created_orders += 1;
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/orders/{}/cancel", o.id),
            Some(json!({"reason": s})),
            None,
        )
        .await;
        no_500("cancel reason", st, &b);
        assert!(
            matches!(st, StatusCode::OK | StatusCode::UNPROCESSABLE_ENTITY),
            "cancel {short:?}: {st} {b}"
        );

        // Seller reply, balance note, token label.
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/conversations/{alice}/reply"),
            Some(json!({"text": s})),
            None,
        )
        .await;
        no_500("seller reply", st, &b);
        assert!(
            matches!(st, StatusCode::OK | StatusCode::UNPROCESSABLE_ENTITY),
            "reply {short:?}: {st} {b}"
        );
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/customers/{alice}/deposit"),
            Some(json!({"amount": 100, "note": s})),
            None,
        )
        .await;
        no_500("deposit note", st, &b);
        let (st, b) = call(
            &app,
            t,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"label": s, "role": "staff"})),
            None,
        )
        .await;
        no_500("token label", st, &b);
        if st == StatusCode::CREATED {
            let (st, b) = call(
                &app,
                t,
                Method::DELETE,
                &format!("/api/v1/tokens/{}", b["info"]["id"].as_i64().unwrap()),
                None,
                None,
            )
            .await;
            no_500("token revoke", st, &b);
        }

        // Web-chat text.
        let r = app
            .client
            .post(app.url(&format!("/chat/{}/send", shop.id)))
            .header("cookie", &cookie)
            .json(&json!({"text": s, "client_id": format!("sqli-{i}")}))
            .send()
            .await
            .unwrap();
        let st = r.status();
        assert!(
            matches!(st, StatusCode::ACCEPTED | StatusCode::BAD_REQUEST),
            "web chat {short:?}: {st} {}",
            r.text().await.unwrap_or_default()
        );
        let r = app
            .client
            .post(app.url(&format!("/chat/{}/send", shop.id)))
            .header("cookie", &cookie)
            .json(&json!({"payload": s, "title": s, "client_id": format!("sqlp-{i}")}))
            .send()
            .await
            .unwrap();
        assert!(
            !r.status().is_server_error(),
            "web chat payload {short:?}: {}",
            r.status()
        );
    }

    // Every table is still there, with its rows.
    for table in [
        "shops",
        "api_tokens",
        "products",
        "variants",
        "customers",
        "orders",
        "order_lines",
        "payments",
        "conversation_messages",
        "inbox_events",
        "outbox_messages",
    ] {
        scalar(db, &format!("select count(*) from {table}")).await;
    }
    assert_eq!(scalar(db, "select count(*) from shops").await, shop_before);
    assert_eq!(
        scalar(db, "select count(*) from orders").await,
        1 + created_orders
    );
    assert_eq!(
        scalar(db, "select count(*) from products").await,
        1 + created_products
    );
    assert_eq!(
        scalar(
            db,
            "select count(*) from customers where display_name = 'Alice Wong'"
        )
        .await,
        1
    );
    let still = orders::load(db, shop.id, base_order.id).await.unwrap();
    assert_eq!(still.code, base_order.code);
    let (st, b) = call(&app, t, Method::GET, "/api/v1/orders?limit=200", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        b["orders"].as_array().unwrap().len() as i64,
        1 + created_orders
    );
    // The chat messages were stored as words.
    app.drain().await;
    assert!(
        scalar(
            db,
            "select count(*) from inbox_events where status = 'pending'",
        )
        .await
            == 0,
        "the web-chat messages processed"
    );
    assert_eq!(
        scalar(
            db,
            "select count(*) from conversation_messages where author = 'customer' and body = '''; drop table orders; --'"
        )
        .await,
        1
    );
    healthy(&app).await;
    app.stop().await;
}

/// `PhoneNumber` deserialises with `#[serde(transparent)]`, so the admin
/// API's edit-address stores any string as the phone (no E.164 check),
/// and it then shows on the bill and the shipping note.
#[tokio::test]
async fn edit_address_refuses_a_phone_that_is_not_a_phone() {
    let app = TestApp::spawn().await;
    let v = product(&app.db, &app.shop, "Tee", 10_000, None).await;
    let c = customer(&app.db, &app.shop, "webchat", "u1", "Alice").await;
    let o = place(&app.db, &app.shop, c, v).await;
    let mut addr = serde_json::to_value(common::address()).unwrap();
    addr["phone"] = json!("' or 1=1 --");
    let (st, b) = call(
        &app,
        Some(&app.token),
        Method::POST,
        &format!("/api/v1/orders/{}/edit-address", o.id),
        Some(json!({ "address": addr })),
        None,
    )
    .await;
    assert!(st.is_client_error(), "accepted: {st} {b}");
    let after = orders::load(&app.db, app.shop.id, o.id).await.unwrap();
    assert_eq!(after.address.unwrap().phone.as_str(), "+66812345678");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// SSRF: the attachment download policy

/// A local attachment server that records every path it was asked for.
#[derive(Clone, Default)]
struct Files {
    redirects: Arc<Mutex<HashMap<String, String>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

async fn serve_file(AxState(f): AxState<Files>, AxPath(name): AxPath<String>) -> Response {
    f.hits.lock().unwrap().push(name.clone());
    let to = f.redirects.lock().unwrap().get(&name).cloned();
    match to {
        Some(to) => (StatusCode::FOUND, [("location", to)]).into_response(),
        None => (
            [("content-type", "image/jpeg")],
            b"\xFF\xD8\xFF not really".to_vec(),
        )
            .into_response(),
    }
}

async fn file_server() -> (Files, u16) {
    let files = Files::default();
    let app = axum::Router::new()
        .route("/f/{name}", axum::routing::get(serve_file))
        .with_state(files.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (files, port)
}

fn policy(extra: &[&str]) -> FetchPolicy {
    let mut p = FetchPolicy::new(&extra.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    p.attempts = 1;
    p.connect_timeout = Duration::from_secs(2);
    p.total_timeout = Duration::from_secs(5);
    p
}

fn private_urls(port: u16) -> Vec<String> {
    [
        "http://127.0.0.1:{port}/f/a.jpg",
        "https://127.0.0.1/f/a.jpg",
        "http://localhost:{port}/f/a.jpg",
        "https://localhost/f/a.jpg",
        "http://LOCALHOST.:{port}/f/a.jpg",
        "https://10.0.0.1/f/a.jpg",
        "https://10.255.255.254/f/a.jpg",
        "https://172.16.0.1/f/a.jpg",
        "https://172.31.255.1/f/a.jpg",
        "https://192.168.1.1/f/a.jpg",
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/f/a.jpg",
        "https://[::1]/f/a.jpg",
        "http://[0:0:0:0:0:0:0:1]:{port}/f/a.jpg",
        "http://[::ffff:127.0.0.1]:{port}/f/a.jpg",
        "http://[::ffff:7f00:1]:{port}/f/a.jpg",
        "https://[fe80::1]/f/a.jpg",
        "https://[fd00::1]/f/a.jpg",
        "http://0.0.0.0:{port}/f/a.jpg",
        "https://0.0.0.0/f/a.jpg",
        "http://0:{port}/f/a.jpg",
        "http://2130706433:{port}/f/a.jpg",
        "https://2130706433/f/a.jpg",
        "http://0x7f000001:{port}/f/a.jpg",
        "http://0x7f.0.0.1:{port}/f/a.jpg",
        "http://0177.0.0.1:{port}/f/a.jpg",
        "http://127.1:{port}/f/a.jpg",
        "http://127.0.0.2:{port}/f/a.jpg",
        "https://3232235777/f/a.jpg",
        "http://user:pw@127.0.0.1:{port}/f/a.jpg",
        "https://scontent.xx.fbcdn.net@127.0.0.1:{port}/f/a.jpg",
        "https://127.0.0.1#@scontent.xx.fbcdn.net/f/a.jpg",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{port}/_GET",
        "ftp://127.0.0.1:{port}/f/a.jpg",
        "//127.0.0.1:{port}/f/a.jpg",
        "not a url",
    ]
    .iter()
    .map(|u| u.replace("{port}", &port.to_string()))
    .collect()
}

#[tokio::test]
async fn attachment_downloads_refuse_private_and_local_addresses() {
    let (files, port) = file_server().await;
    // Meta's CDN list only (the default).
    let default = policy(&[]);
    for url in private_urls(port) {
        let e = fetch::fetch_once(&default, &url).await.unwrap_err();
        assert!(matches!(e, FetchError::NotAllowed(_)), "{url}: {e:?}");
    }
    // An operator who lists some other host gains nothing for these.
    let other = policy(&["media.example.org", "*.cdn.example.net"]);
    for url in private_urls(port) {
        let e = fetch::fetch_once(&other, &url).await.unwrap_err();
        assert!(matches!(e, FetchError::NotAllowed(_)), "{url}: {e:?}");
    }
    assert!(
        files.hits.lock().unwrap().is_empty(),
        "a private address was contacted: {:?}",
        files.hits.lock().unwrap()
    );

    // Only the exact listed host is allowed: 127.0.0.1 does not open its
    // other spellings that are different hosts.
    let listed = policy(&["127.0.0.1"]);
    for url in [
        format!("http://localhost:{port}/f/a.jpg"),
        format!("http://[::1]:{port}/f/a.jpg"),
        format!("http://[::ffff:127.0.0.1]:{port}/f/a.jpg"),
        format!("http://127.0.0.2:{port}/f/a.jpg"),
        format!("http://0.0.0.0:{port}/f/a.jpg"),
        "https://10.0.0.1/f/a.jpg".to_string(),
    ] {
        let e = fetch::fetch_once(&listed, &url).await.unwrap_err();
        assert!(matches!(e, FetchError::NotAllowed(_)), "{url}: {e:?}");
    }
    assert!(files.hits.lock().unwrap().is_empty());
    // …while the listed host itself works, in any spelling of it.
    for url in [
        format!("http://127.0.0.1:{port}/f/ok.jpg"),
        format!("http://2130706433:{port}/f/ok.jpg"),
    ] {
        assert!(fetch::fetch_once(&listed, &url).await.is_ok(), "{url}");
    }
    assert_eq!(files.hits.lock().unwrap().len(), 2);

    // A name on the list is judged by the addresses it resolves to:
    // "localhost" resolves only to loopback, which is never public.
    let resolved: Vec<_> = tokio::net::lookup_host(("localhost", 443))
        .await
        .unwrap()
        .collect();
    assert!(!resolved.is_empty());
    for a in resolved {
        assert!(!fetch::is_public(a.ip()), "{a} counted as public");
    }
    for ip in [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "fe80::1",
        "fc00::1",
        "64:ff9b::a00:1",
        "255.255.255.255",
        "224.0.0.1",
    ] {
        assert!(
            !fetch::is_public(ip.parse().unwrap()),
            "{ip} counted as public"
        );
    }
    assert!(fetch::is_public("157.240.1.1".parse().unwrap()));
}

#[tokio::test]
async fn redirects_from_an_allowed_host_to_a_private_one_are_not_followed() {
    let (files, port) = file_server().await;
    let (inner, inner_port) = file_server().await;
    let listed = policy(&["127.0.0.1"]);
    let targets = [
        format!("http://localhost:{inner_port}/f/secret"),
        format!("http://[::1]:{inner_port}/f/secret"),
        format!("http://[::ffff:127.0.0.1]:{inner_port}/f/secret"),
        format!("http://127.0.0.2:{inner_port}/f/secret"),
        format!("http://0.0.0.0:{inner_port}/f/secret"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "https://10.0.0.1/f/secret".to_string(),
        "https://192.168.0.1/f/secret".to_string(),
        "file:///etc/passwd".to_string(),
    ];
    for (i, to) in targets.iter().enumerate() {
        let name = format!("hop{i}");
        files
            .redirects
            .lock()
            .unwrap()
            .insert(name.clone(), to.clone());
        let e = fetch::fetch_once(&listed, &format!("http://127.0.0.1:{port}/f/{name}"))
            .await
            .unwrap_err();
        assert!(
            matches!(e, FetchError::NotAllowed(_)),
            "redirect to {to}: {e:?}"
        );
    }
    assert!(
        inner.hits.lock().unwrap().is_empty(),
        "a redirect reached a private host"
    );
    assert_eq!(files.hits.lock().unwrap().len(), targets.len());
}

/// The same policy end to end: a customer's "slip" whose URL points at a
/// private address never makes the server connect there; the payment is
/// recorded as failed and nothing else changes.
#[tokio::test]
async fn a_slip_link_to_a_private_address_is_never_fetched_by_the_server() {
    let (files, port) = file_server().await;
    let graph = FakeGraph::start().await;
    // The operator lists a CDN of its own, not the loopback address.
    let app = TestApp::spawn_with(&[
        ("META_GRAPH_URL", graph.url.as_str()),
        ("CHATBILL_ATTACHMENT_HOSTS", "media.example.org"),
    ])
    .await;
    shops::bind_channel(&app.db, app.shop.id, "messenger", PAGE, Some("t"), now())
        .await
        .unwrap();
    let v = product(&app.db, &app.shop, "Tee", 10_000, None).await;
    let c = customer(&app.db, &app.shop, "messenger", PSID, "Mallory").await;
    let o = orders::place(
        &app.db,
        &app.shop,
        NewOrder {
            customer: c,
            channel: "messenger".into(),
            items: vec![(v, 1)],
            address: Some(common::address()),
            method: None,
            shipping_fee: Some(0),
        },
        now(),
    )
    .await
    .unwrap();
    let urls = [
        format!("http://127.0.0.1:{port}/f/a.jpg"),
        format!("http://2130706433:{port}/f/b.jpg"),
        format!("http://[::ffff:127.0.0.1]:{port}/f/c.jpg"),
    ];
    for (i, url) in urls.iter().enumerate() {
        let ts = now().millis();
        let body = json!({"object": "page", "entry": [{"id": PAGE, "time": ts, "messaging": [
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": ts,
             "message": {"mid": format!("m_ssrf_{i}"), "attachments": [{"type": "image", "payload": {"url": url}}]}}]}]})
        .to_string();
        let sig = sign(APP_SECRET.as_bytes(), body.as_bytes());
        assert_eq!(
            post_webhook(&app, body.as_bytes(), &[("x-hub-signature-256", sig)]).await,
            StatusCode::OK
        );
    }
    app.drain().await;
    assert!(
        scalar(
            &app.db,
            "select count(*) from payments where status = 'fetching'",
        )
        .await
            == 0
            && scalar(&app.db, "select count(*) from payments").await == urls.len() as i64,
        "the slips settled"
    );
    assert_eq!(
        scalar(
            &app.db,
            "select count(*) from payments where status = 'failed'"
        )
        .await,
        urls.len() as i64
    );
    assert!(
        files.hits.lock().unwrap().is_empty(),
        "the server fetched {:?}",
        files.hits.lock().unwrap()
    );
    let after = orders::load(&app.db, app.shop.id, o.id).await.unwrap();
    assert_eq!(after.payment, chatbill::domain::PaymentStatus::Unpaid);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Path traversal in media names

#[tokio::test]
async fn crafted_media_names_never_reach_a_file_outside_the_media_dir() {
    let root = std::env::temp_dir().join(format!(
        "chatbill-sec-{}",
        chatbill::clock::hex(&chatbill::clock::random_bytes::<6>())
    ));
    let media = root.join("media");
    std::fs::create_dir_all(media.join("public").join("qr")).unwrap();
    std::fs::create_dir_all(media.join("slips").join("ab")).unwrap();
    const CANARY: &str = "CANARY-outside-the-media-dir";
    std::fs::write(root.join("secret.png"), CANARY).unwrap();
    std::fs::write(root.join("secret"), CANARY).unwrap();
    std::fs::write(media.join("public").join("secret.png"), CANARY).unwrap();
    let media_str = media.to_string_lossy().to_string();
    let app = TestApp::spawn_with(&[("CHATBILL_MEDIA_DIR", media_str.as_str())]).await;

    let raw = [
        "/media/qr/..%2f..%2fetc%2fpasswd",
        "/media/qr/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/media/qr/..%252f..%252fetc%252fpasswd",
        "/media/qr/%2e%2e%2f%2e%2e%2fsecret.png",
        "/media/qr/..%2fsecret.png",
        "/media/qr/..%2f..%2fsecret.png",
        "/media/qr/..%5c..%5csecret.png",
        "/media/qr/....%2f%2f....%2f%2fsecret.png",
        "/media/qr/%c0%ae%c0%ae%c0%afsecret.png",
        "/media/qr/..%00.png",
        "/media/qr/%00",
        "/media/qr/.png",
        "/media/qr/..png",
        "/media/qr/%2fetc%2fpasswd",
        "/media/qr/%2e%2e",
        "/media/qr/0123456789abcdef0123456789abcdef.png%00.txt",
        "/media/public/secret.png",
        "/media/slips/ab/",
        "/static/demo/..%2f..%2fCargo.toml",
        "/static/demo/..%2f..%2f..%2fsecret.png",
        "/static/demo/-1.png",
        "/static/demo/99999999999999999999999.png",
    ];
    // reqwest would normalise `..` segments; send the bytes as written.
    let addr = app.base.trim_start_matches("http://").to_string();
    for path in raw {
        let (status, body) = raw_get(&addr, path).await;
        assert!(
            status == 404 || status == 400,
            "{path}: HTTP {status}: {}",
            body.chars().take(200).collect::<String>()
        );
        assert!(
            !body.contains(CANARY) && !body.contains("root:"),
            "{path} leaked a file"
        );
    }
    for path in [
        "/media/qr/../../secret.png",
        "/media/qr/../../../../etc/passwd",
        "/media/../secret",
    ] {
        let (status, body) = raw_get(&addr, path).await;
        assert!(status == 404 || status == 400, "{path}: HTTP {status}");
        assert!(
            !body.contains(CANARY) && !body.contains("root:"),
            "{path} leaked a file"
        );
    }

    // Admin slip routes: crafted ids are refused before any file is touched,
    // and a payment row whose stored hash is a path is not followed.
    let v = product(&app.db, &app.shop, "Tee", 10_000, None).await;
    let c = customer(&app.db, &app.shop, "webchat", "u1", "Alice").await;
    let o = place(&app.db, &app.shop, c, v).await;
    let pay = payment_row(&app.db, &app.shop, o.id).await;
    sqlx::query(
        "update payments set slip_sha256 = $1, slip_path = $1, thumb_path = $1 where id = $2",
    )
    .bind("../../secret")
    .bind(pay)
    .execute(app.db.pool())
    .await
    .unwrap();
    let tok = app.token.clone();
    for path in [
        format!("/api/v1/payments/{pay}/slip"),
        format!("/api/v1/payments/{pay}/thumbnail"),
        "/api/v1/payments/..%2f..%2fsecret/slip".to_string(),
        "/api/v1/payments/%2e%2e/slip".to_string(),
        "/api/v1/payments/1%2f..%2f..%2fsecret/thumbnail".to_string(),
        "/api/v1/payments/-1/slip".to_string(),
        "/api/v1/payments/0/thumbnail".to_string(),
        "/api/v1/payments/99999999999999999999/slip".to_string(),
        "/api/v1/payments/1e3/slip".to_string(),
    ] {
        let r = app
            .client
            .get(app.url(&path))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(
            matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "{path}: {status} {body}"
        );
        assert!(!body.contains(CANARY), "{path} leaked a file");
    }
    // A hash that looks right but names no file: still 404.
    sqlx::query("update payments set slip_sha256 = $1 where id = $2")
        .bind("ab".repeat(32))
        .bind(pay)
        .execute(app.db.pool())
        .await
        .unwrap();
    let r = app
        .client
        .get(app.url(&format!("/api/v1/payments/{pay}/slip")))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    healthy(&app).await;
    app.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

/// A GET with the request target sent byte for byte (no client-side path
/// normalisation); returns the status and body.
async fn raw_get(addr: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

// ---------------------------------------------------------------------------
// Oversize bodies

#[tokio::test]
async fn oversize_bodies_are_413_and_the_server_stays_healthy() {
    let (app, _graph) = app_with_page().await;
    const MIB: usize = 1024 * 1024;
    // A signed webhook just over the 1 MiB limit.
    let pad = "x".repeat(MIB);
    let big = text_event("m_big", &pad);
    assert!(big.len() > MIB);
    let sig = sign(APP_SECRET.as_bytes(), big.as_bytes());
    assert_eq!(
        post_webhook(
            &app,
            big.as_bytes(),
            &[("x-hub-signature-256", sig.clone())]
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // The same without a length up front (chunked): refused as well.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .as_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let r = app
        .client
        .post(app.url("/webhooks/messenger"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(
        scalar(&app.db, "select count(*) from inbox_events").await,
        0
    );

    // An admin POST over the limit.
    let (st, _) = call(
        &app,
        Some(&app.token),
        Method::POST,
        "/api/v1/products",
        Some(json!({"name": pad, "price": 100})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    let v = product(&app.db, &app.shop, "Tee", 10_000, None).await;
    let c = customer(&app.db, &app.shop, "webchat", "u1", "Alice").await;
    let o = place(&app.db, &app.shop, c, v).await;
    let (st, _) = call(
        &app,
        Some(&app.token),
        Method::POST,
        &format!("/api/v1/orders/{}/cancel", o.id),
        Some(json!({"reason": pad})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(scalar(&app.db, "select count(*) from products").await, 1);

    // A web-chat upload over 10 MiB.
    let r = app
        .client
        .get(app.url(&format!("/chat/{}", app.shop.id)))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let mut upload = vec![0u8; 10 * MIB + 1];
    upload[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let r = app
        .client
        .post(app.url(&format!("/chat/{}/upload?client_id=big-1", app.shop.id)))
        .header("cookie", &cookie)
        .header("content-type", "application/octet-stream")
        .body(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        scalar(&app.db, "select count(*) from inbox_events").await,
        0
    );

    // Still healthy, and normal-sized requests still work.
    healthy(&app).await;
    let small = text_event("m_small", "hello");
    let sig = sign(APP_SECRET.as_bytes(), small.as_bytes());
    assert_eq!(
        post_webhook(&app, small.as_bytes(), &[("x-hub-signature-256", sig)]).await,
        StatusCode::OK
    );
    let (st, _) = call(
        &app,
        Some(&app.token),
        Method::POST,
        "/api/v1/products",
        Some(json!({"name": "Mug", "price": 100})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Tenant isolation over every route in the OpenAPI document

/// A body each route accepts, so a 404 is about tenancy, not validation.
fn body_for(method: &str, path: &str) -> Option<Value> {
    if method == "get" || method == "delete" {
        return None;
    }
    let tail = path.rsplit('/').next().unwrap_or("");
    Some(match (method, tail) {
        ("post", "deposit") | ("post", "withdraw") => json!({"amount": 100}),
        ("post", "reply") => json!({"text": "hello"}),
        ("patch", _) => json!({"name": "X"}),
        ("put", "image") => json!({"image_url": "https://cdn.example/x.png"}),
        ("post", "variants") => json!({"name": "XL"}),
        ("post", "stock") => json!({"delta": 1}),
        ("post", "reject-payment") => json!({"reason": "blurry"}),
        ("post", "confirm-payment") => json!({}),
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
        ("post", "tokens") => json!({"label": "b-token", "role": "staff"}),
        ("post", "products") => json!({"name": "B product", "price": 100}),
        _ => json!({}),
    })
}

#[tokio::test]
async fn a_foreign_token_sees_nothing_of_another_shop_on_any_route() {
    let app = TestApp::spawn().await;
    let (db, shop) = (&app.db, &app.shop);
    // Shop A, with data behind every kind of id.
    let v = product(db, shop, "Secret Tee A", 29_900, Some(10)).await;
    let c = customer(db, shop, "webchat", "u-a", "Alice Secret").await;
    sqlx::query("update customers set phone = '+66899990000' where id = $1")
        .bind(c.get())
        .execute(db.pool())
        .await
        .unwrap();
    let order = place(db, shop, c, v).await;
    apply(
        db,
        shop,
        order.id,
        Command::SubmitSlip { suspicious: false },
        Actor::Customer,
    )
    .await;
    let pay = payment_row(db, shop, order.id).await;
    let pid = catalog::list_products(db, shop.id, true).await.unwrap()[0].id;
    let (_, tinfo) = tokens::create(db, shop.id, "a-staff-label", Role::Staff, now())
        .await
        .unwrap();
    sqlx::query("insert into conversation_messages (shop_id, customer_id, direction, author, body, created_at) values ($1, $2, 'in', 'customer', 'secret words of A', $3)")
        .bind(shop.id.get())
        .bind(c.get())
        .bind(now().millis())
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("update conversations set unread = 1, total_messages = 1, last_message_at = $1 where customer_id = $2")
        .bind(now().millis())
        .bind(c.get())
        .execute(db.pool())
        .await
        .unwrap();
    let a = Some(app.token.as_str());
    let (st, _) = call(
        &app,
        a,
        Method::POST,
        &format!("/api/v1/customers/{c}/deposit"),
        Some(json!({"amount": 500, "note": "A note"})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // A used an idempotency key on its own order; B will try the same key.
    let (st, _) = call(
        &app,
        a,
        Method::POST,
        &format!("/api/v1/orders/{}/edit-fees", order.id),
        Some(json!({"discount": 100})),
        Some("shared-key"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let a_order = orders::load(db, shop.id, order.id).await.unwrap();
    let secrets = [
        order.code.as_str().to_string(),
        "Alice Secret".into(),
        "Secret Tee A".into(),
        "a-staff-label".into(),
        "+66899990000".into(),
        "secret words of A".into(),
        "A note".into(),
    ];

    // Shop B.
    let (_, token_b) = make_shop(db, "Shop B", Currency::THB).await;
    let b = Some(token_b.as_str());
    let (st, doc) = call(&app, None, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
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
            let mut concrete = path
                .replace("{id}", &id.to_string())
                .replace("{customer_id}", &id.to_string())
                .replace("{picture}", "1");
            if path.starts_with("/api/v1/print/") {
                concrete = format!("{concrete}?ids={}", order.id);
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let key = (op["tags"][0] == "actions").then_some("shared-key");

            // Without a token: 401, with nothing of A.
            let (st, body) = call(
                &app,
                None,
                m.clone(),
                &concrete,
                body_for(method, path),
                None,
            )
            .await;
            assert_eq!(
                st,
                StatusCode::UNAUTHORIZED,
                "{method} {concrete} without a token"
            );
            assert!(
                secrets
                    .iter()
                    .all(|s| !body.to_string().contains(s.as_str()))
            );

            // With B's token: 404 on A's ids, an empty list on list routes.
            let (st, body) = call(&app, b, m, &concrete, body_for(method, path), key).await;
            let text = body.to_string();
            for s in &secrets {
                assert!(
                    !text.contains(s.as_str()),
                    "{method} {concrete} leaked {s:?}: {text}"
                );
            }
            if id != 0 || path.starts_with("/api/v1/print/") {
                assert_eq!(st, StatusCode::NOT_FOUND, "{method} {concrete}: {text}");
            } else {
                match (method.as_str(), path.as_str()) {
                    ("get", "/api/v1/orders") => {
                        assert_eq!(st, StatusCode::OK);
                        assert_eq!(body["orders"], json!([]), "{text}");
                        assert!(
                            body["tabs"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .all(|t| t["count"] == 0),
                            "{text}"
                        );
                    }
                    ("get", "/api/v1/customers") => {
                        assert_eq!((st, &body["customers"]), (StatusCode::OK, &json!([])))
                    }
                    ("get", "/api/v1/conversations") => {
                        assert_eq!((st, &body["conversations"]), (StatusCode::OK, &json!([])))
                    }
                    ("get", "/api/v1/products") => {
                        assert_eq!((st, &body["products"]), (StatusCode::OK, &json!([])))
                    }
                    ("get", "/api/v1/tokens") => {
                        assert_eq!(st, StatusCode::OK);
                        let ids: Vec<i64> = body["tokens"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter_map(|t| t["id"].as_i64())
                            .collect();
                        assert!(!ids.contains(&tinfo.id), "{text}");
                    }
                    ("get", "/api/v1/dashboard") => {
                        assert_eq!(st, StatusCode::OK);
                        assert_eq!(body["dashboard"]["orders_total"], 0, "{text}");
                        assert_eq!(body["dashboard"]["pending_slips"], 0, "{text}");
                    }
                    ("post", "/api/v1/products") | ("post", "/api/v1/tokens") => {
                        assert_eq!(st, StatusCode::CREATED, "{text}")
                    }
                    _ => assert!(
                        st.is_success() || st.is_client_error(),
                        "{method} {concrete}: {st}"
                    ),
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} routes checked");

    // Nothing of shop A changed, and what B created is B's.
    let after = orders::load(db, shop.id, order.id).await.unwrap();
    assert_eq!(after, a_order);
    let products_a = catalog::list_products(db, shop.id, true).await.unwrap();
    assert_eq!(products_a.len(), 1);
    assert_eq!(products_a[0].name, "Secret Tee A");
    assert_eq!(products_a[0].variants[0].stock, Some(9));
    assert_eq!(customers::get(db, shop.id, c).await.unwrap().balance, 500);
    assert_eq!(
        scalar(
            db,
            &format!(
                "select count(*) from api_tokens where shop_id = {} and revoked_at is not null",
                shop.id.get()
            )
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            db,
            &format!("select count(*) from payments where id = {pay} and status = 'pending'")
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            db,
            &format!(
                "select bot_paused from conversations where customer_id = {}",
                c.get()
            )
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            db,
            "select count(*) from outbox_messages where purpose = 'seller'"
        )
        .await,
        0
    );

    // A's web-chat cookie does not work on B's chat either.
    let r = app
        .client
        .get(app.url(&format!("/chat/{}", shop.id)))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let b_shop: i64 = scalar(db, "select max(id) from shops").await;
    let r = app
        .client
        .post(app.url(&format!("/chat/{b_shop}/send")))
        .header("cookie", &cookie)
        .json(&json!({"text": "hi", "client_id": "x1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// A forged button payload from a web-chat visitor

/// Anyone can post any button payload to the web chat. `PAGE:<n>` with a
/// huge n overflows `page * PAGE_SIZE` in `engine/flows.rs` (`show_page`):
/// in a debug build that panics the inbox worker task, and two such
/// messages stop both workers, so no customer of any shop is answered.
#[tokio::test]
async fn a_forged_page_number_does_not_stop_the_inbox() {
    let app = TestApp::spawn().await;
    product(&app.db, &app.shop, "Tee", 10_000, None).await;
    for i in 0..2 {
        let cookie = app.visitor_cookie().await;
        let r = app
            .client
            .post(app.url(&format!("/chat/{}/send", app.shop.id)))
            .header("cookie", &cookie)
            .json(&json!({"payload": "PAGE:2049638230412172402", "client_id": format!("evil-{i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    app.drain().await;
    let cookie = app.visitor_cookie().await;
    let r = app
        .client
        .post(app.url(&format!("/chat/{}/send", app.shop.id)))
        .header("cookie", &cookie)
        .json(&json!({"payload": "GET_STARTED", "client_id": "good-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    app.drain().await;
    assert!(
        scalar(
            &app.db,
            "select count(*) from inbox_events where status = 'pending'",
        )
        .await
            == 0,
        "every message processed"
    );
    healthy(&app).await;
    app.stop().await;
}
