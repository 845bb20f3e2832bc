//! Roles and permissions: a token of every role against one representative
//! request per permission (every cell of `domain::access::TABLE`, allowed
//! or refused with the permission named), the order-dependent rules, the
//! console's forms, and the copies of the table in the OpenAPI document and
//! the README. SQLite by default, PostgreSQL with TEST_DATABASE_URL.

use crate::common::{self, TestApp, now, product};
use chatbill::app::orders as app_orders;
use chatbill::domain::access::{Permission, Permission as P, Role};
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::Command;
use chatbill::domain::{Address, CustomerId, Order, PaymentStatus, PhoneNumber};
use chatbill::store::orders::{self, NewOrder};
use chatbill::store::{catalog, customers, tokens};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
enum Setup {
    Unpaid,
    Paid,
    Cancelled,
}

struct Fixture {
    order: Order,
    customer: CustomerId,
    variant: i64,
    product: i64,
}

async fn fixture(app: &TestApp, setup: Setup, n: usize) -> Fixture {
    let (db, shop) = (&app.db, &app.shop);
    let v = product(db, shop, &format!("Tee {n}"), 10_000, Some(50)).await;
    let mut tx = db.begin().await.unwrap();
    let c = customers::upsert(&mut tx, shop.id, "webchat", &format!("u{n}"), now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let order = orders::place(
        db,
        shop,
        NewOrder {
            customer: c.id,
            channel: "webchat".into(),
            items: vec![(v, 1)],
            address: Some(Address {
                full_name: "Somchai Jaidee".into(),
                phone: PhoneNumber::parse("081 234 5678", Some(66)).unwrap(),
                line: "99/1 Sukhumvit 11".into(),
                province: "Bangkok".into(),
                district: "Watthana".into(),
                postcode: Some("10110".into()),
            }),
            method: None,
            shipping_fee: Some(5_000),
        },
        now(),
    )
    .await
    .unwrap();
    let seller = Actor::Seller("setup".into());
    let apply = |cmd: Command| app_orders::apply(db, shop, order.id, cmd, &seller, now());
    match setup {
        Setup::Unpaid => {}
        Setup::Paid => {
            apply(Command::ConfirmPayment {
                amount: None,
                credit_excess: false,
                slip: false,
            })
            .await
            .unwrap();
        }
        Setup::Cancelled => {
            apply(Command::Cancel { reason: "x".into() }).await.unwrap();
        }
    }
    let order = orders::load(db, shop.id, order.id).await.unwrap();
    let product = catalog::list_products(db, shop.id, true)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.variants.iter().any(|x| x.id == v))
        .unwrap()
        .id
        .get();
    Fixture {
        order,
        customer: c.id,
        variant: v.get(),
        product,
    }
}

/// One representative request: `needs` is everything it needs, in the
/// order the server checks (the route's own permission first); `cell` is
/// the permission of the table it stands for.
struct Case {
    cell: Permission,
    needs: &'static [Permission],
    setup: Setup,
    method: &'static str,
    path: &'static str,
    body: fn(&Fixture) -> Option<Value>,
}

fn cases() -> Vec<Case> {
    let none: fn(&Fixture) -> Option<Value> = |_| None;
    let c = |cell, needs, setup, method, path, body| Case {
        cell,
        needs,
        setup,
        method,
        path,
        body,
    };
    vec![
        c(
            P::ViewMoneyReports,
            &[P::ViewMoneyReports],
            Setup::Paid,
            "GET",
            "/reports/reconciliation",
            none,
        ),
        // Resolving a payment is a payment decision: no such payment on the
        // order is a 422 for those who may, a 403 for those who may not.
        c(
            P::ConfirmPayments,
            &[P::ConfirmPayments],
            Setup::Paid,
            "POST",
            "/orders/{order}/resolve-payment",
            |_| Some(json!({"payment_id": 999_999, "note": "paid back"})),
        ),
        c(
            P::ViewOrders,
            &[P::ViewOrders],
            Setup::Unpaid,
            "GET",
            "/orders/{order}",
            none,
        ),
        c(
            P::RunFulfilment,
            &[P::RunFulfilment],
            Setup::Paid,
            "POST",
            "/orders/{order}/ship",
            |_| Some(json!({"carrier": "Kerry", "tracking": "T1"})),
        ),
        // An unpaid order is cancelled as fulfilment.
        c(
            P::RunFulfilment,
            &[P::RunFulfilment],
            Setup::Unpaid,
            "POST",
            "/orders/{order}/cancel",
            |_| Some(json!({"reason": "changed mind"})),
        ),
        // The same quantity at the same price is a quantity change.
        c(
            P::RunFulfilment,
            &[P::RunFulfilment],
            Setup::Unpaid,
            "POST",
            "/orders/{order}/edit-line",
            |f| {
                Some(
                    json!({"line_id": f.order.lines[0].id, "unit_price": f.order.lines[0].unit_price, "qty": 2}),
                )
            },
        ),
        c(
            P::ChatWithCustomers,
            &[P::ChatWithCustomers],
            Setup::Unpaid,
            "POST",
            "/conversations/{customer}/reply",
            |_| Some(json!({"text": "hello"})),
        ),
        c(
            P::ConfirmPayments,
            &[P::ConfirmPayments],
            Setup::Unpaid,
            "POST",
            "/orders/{order}/confirm-payment",
            |_| Some(json!({})),
        ),
        c(
            P::ConfirmPayments,
            &[P::ConfirmPayments],
            Setup::Unpaid,
            "POST",
            "/orders/{order}/reject-payment",
            |_| Some(json!({"reason": "blurry"})),
        ),
        c(
            P::RecordOverpayment,
            &[P::ConfirmPayments, P::RecordOverpayment],
            Setup::Unpaid,
            "POST",
            "/orders/{order}/confirm-payment",
            |_| Some(json!({"amount": 100_000_000})),
        ),
        c(
            P::CancelWithRefund,
            &[P::CancelWithRefund],
            Setup::Paid,
            "POST",
            "/orders/{order}/cancel",
            |_| Some(json!({"reason": "out of stock"})),
        ),
        c(
            P::DeleteOrders,
            &[P::DeleteOrders],
            Setup::Cancelled,
            "DELETE",
            "/orders/{order}",
            none,
        ),
        c(
            P::MoveBalances,
            &[P::MoveBalances],
            Setup::Unpaid,
            "POST",
            "/customers/{customer}/deposit",
            |_| Some(json!({"amount": 100})),
        ),
        c(
            P::MoveBalances,
            &[P::MoveBalances],
            Setup::Unpaid,
            "POST",
            "/customers/{customer}/withdraw",
            |_| Some(json!({"amount": 100})),
        ),
        c(
            P::ChangePricesFeesDiscounts,
            &[P::ChangePricesFeesDiscounts],
            Setup::Unpaid,
            "POST",
            "/orders/{order}/edit-fees",
            |_| Some(json!({"discount": 100})),
        ),
        c(
            P::ChangePricesFeesDiscounts,
            &[P::ChangePricesFeesDiscounts],
            Setup::Unpaid,
            "POST",
            "/orders/{order}/edit-line",
            |f| Some(json!({"line_id": f.order.lines[0].id, "unit_price": 9_000, "qty": 1})),
        ),
        c(
            P::ChangePricesFeesDiscounts,
            &[P::EditProductsAndStock, P::ChangePricesFeesDiscounts],
            Setup::Unpaid,
            "PATCH",
            "/products/{product}",
            |_| Some(json!({"price": 12_000})),
        ),
        c(
            P::EditProductsAndStock,
            &[P::EditProductsAndStock],
            Setup::Unpaid,
            "POST",
            "/variants/{variant}/stock",
            |_| Some(json!({"delta": 1})),
        ),
        c(
            P::EditProductsAndStock,
            &[P::EditProductsAndStock],
            Setup::Unpaid,
            "PATCH",
            "/products/{product}",
            |_| Some(json!({"name": "Renamed"})),
        ),
        c(
            P::ChangeSettings,
            &[P::ChangeSettings],
            Setup::Unpaid,
            "PUT",
            "/settings",
            |_| Some(json!({"hold_hours": 48, "reminder_before_hours": 2})),
        ),
        c(
            P::ChangeSettings,
            &[P::ChangeSettings],
            Setup::Unpaid,
            "PATCH",
            "/settings",
            |_| Some(json!({"hold_hours": 36})),
        ),
        c(
            P::ChangeSettings,
            &[P::ChangeSettings],
            Setup::Unpaid,
            "GET",
            "/settings/history",
            none,
        ),
        c(
            P::ManageTokens,
            &[P::ManageTokens],
            Setup::Unpaid,
            "GET",
            "/tokens",
            none,
        ),
        c(
            P::ManageTokens,
            &[P::ManageTokens],
            Setup::Unpaid,
            "POST",
            "/tokens",
            |_| Some(json!({"label": "new", "role": "owner"})),
        ),
    ]
}

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = app
        .client
        .request(m, app.url(&format!("/api/v1{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let st = r.status();
    let text = r.text().await.unwrap();
    (
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn token(app: &TestApp, role: Role) -> String {
    tokens::create(&app.db, app.shop.id, role.as_str(), role, now())
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn every_cell_of_the_permission_table_is_enforced() {
    let app = TestApp::spawn().await;
    let cases = cases();
    // Every permission has at least one representative request.
    for p in Permission::ALL {
        assert!(cases.iter().any(|c| c.cell == *p), "no case for {p}");
    }
    let mut n = 0;
    let mut cells = std::collections::BTreeSet::new();
    for role in Role::ALL {
        let tok = token(&app, *role).await;
        for case in &cases {
            assert!(case.needs.contains(&case.cell));
            n += 1;
            let f = fixture(&app, case.setup, n).await;
            let path = case
                .path
                .replace("{order}", &f.order.id.to_string())
                .replace("{customer}", &f.customer.to_string())
                .replace("{variant}", &f.variant.to_string())
                .replace("{product}", &f.product.to_string());
            let (st, body) = call(&app, &tok, case.method, &path, (case.body)(&f)).await;
            let what = format!("{role} {} {path}: {st} {body}", case.method);
            let lacking = case.needs.iter().find(|p| !role.may(**p));
            match lacking {
                None => {
                    assert_ne!(st, StatusCode::FORBIDDEN, "{what}");
                    assert!(st.is_success() || st.is_client_error(), "{what}");
                    assert_ne!(st, StatusCode::UNAUTHORIZED, "{what}");
                }
                Some(p) => {
                    assert_eq!(st, StatusCode::FORBIDDEN, "{what}");
                    assert_eq!(body["permission"], p.as_str(), "{what}");
                    assert_eq!(body["role"], role.as_str(), "{what}");
                    assert!(
                        body["error"].as_str().unwrap().contains(p.describe()),
                        "{what}"
                    );
                    // Nothing changed.
                    let after = orders::load(&app.db, app.shop.id, f.order.id).await;
                    if let Ok(after) = after {
                        assert_eq!(after.version, f.order.version, "{what}");
                    }
                }
            }
            cells.insert((role.as_str(), case.cell.as_str(), role.may(case.cell)));
        }
    }
    assert_eq!(cells.len(), Role::ALL.len() * Permission::ALL.len());
    app.stop().await;
}

#[tokio::test]
async fn a_staff_token_cannot_confirm_a_payment_and_is_told_which_permission() {
    let app = TestApp::spawn().await;
    let f = fixture(&app, Setup::Unpaid, 1).await;
    let staff = token(&app, Role::Staff).await;
    let (st, body) = call(
        &app,
        &staff,
        "POST",
        &format!("/orders/{}/confirm-payment", f.order.id),
        Some(json!({"amount": 100_000_000})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["permission"], "confirm_payments");
    assert_eq!(body["role"], "staff");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("confirm or reject payments")
    );
    let after = orders::load(&app.db, app.shop.id, f.order.id)
        .await
        .unwrap();
    assert_eq!(after.payment, PaymentStatus::Unpaid);
    assert_eq!(after.paid, 0);
    // A manager may confirm payments, but not record an overpayment.
    let manager = token(&app, Role::Manager).await;
    let (st, body) = call(
        &app,
        &manager,
        "POST",
        &format!("/orders/{}/confirm-payment", f.order.id),
        Some(json!({"amount": 100_000_000})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["permission"], "record_overpayment");
    let (st, body) = call(
        &app,
        &manager,
        "POST",
        &format!("/orders/{}/confirm-payment", f.order.id),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    app.stop().await;
}

/// Logs in to the console and returns the cookie.

#[tokio::test]
async fn the_console_refuses_a_staff_payment_confirmation_and_hides_the_button() {
    let app = TestApp::spawn().await;
    let f = fixture(&app, Setup::Unpaid, 1).await;
    let cancelled = fixture(&app, Setup::Cancelled, 2).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let staff = token(&app, Role::Staff).await;
    let cookie = app.console_cookie(&staff).await;
    let page = |cookie: String, id: i64| {
        let client = client.clone();
        let url = app.url(&format!("/admin/orders/{id}"));
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
    let (st, html) = page(cookie.clone(), f.order.id.get()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("id=\"confirm-payment\""), "{html}");
    assert!(
        html.contains("Cancel order"),
        "staff cancel an unpaid order"
    );

    let post = |cookie: String, path: String, form: Vec<(&'static str, String)>| {
        let client = client.clone();
        let url = app.url(&path);
        async move {
            client
                .post(url)
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let r = post(
        cookie.clone(),
        format!("/admin/orders/{}/confirm-payment", f.order.id),
        vec![
            ("amount", "100000000".into()),
            ("idem", "k1".into()),
            ("yes", "on".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("/admin/orders/{}?error=", f.order.id)));
    assert!(location.contains("confirm_payments"), "{location}");
    let after = orders::load(&app.db, app.shop.id, f.order.id)
        .await
        .unwrap();
    assert_eq!(
        (after.payment, after.version),
        (PaymentStatus::Unpaid, f.order.version)
    );
    // The message shows on the page it leads back to.
    let (_, html) = page(cookie.clone(), f.order.id.get()).await;
    let _ = html;
    let r = client
        .get(app.url(&location))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("confirm_payments"), "{html}");

    // Nor delete an order.
    let r = post(
        cookie.clone(),
        format!("/admin/orders/{}/delete", cancelled.order.id),
        vec![("yes", "on".into())],
    )
    .await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("delete_orders"), "{location}");
    assert!(
        orders::load(&app.db, app.shop.id, cancelled.order.id)
            .await
            .is_ok()
    );

    // Finance may confirm it through the same form, and sees the button.
    let finance = token(&app, Role::Finance).await;
    let fcookie = app.console_cookie(&finance).await;
    let (_, html) = page(fcookie.clone(), f.order.id.get()).await;
    assert!(html.contains("id=\"confirm-payment\""), "{html}");
    assert!(!html.contains("Send order"), "finance do not ship");
    let r = post(
        fcookie,
        format!("/admin/orders/{}/confirm-payment", f.order.id),
        vec![("idem", "k2".into()), ("yes", "on".into())],
    )
    .await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("notice=Done"), "{location}");
    let after = orders::load(&app.db, app.shop.id, f.order.id)
        .await
        .unwrap();
    assert_eq!(after.payment, PaymentStatus::Paid);

    // Staff still adjust stock and chat; finance do not touch products.
    let finance_cookie = app.console_cookie(&finance).await;
    let r = post(
        finance_cookie,
        format!("/admin/variants/{}/stock", f.variant),
        vec![("delta", "1".into())],
    )
    .await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("edit_products_and_stock"), "{location}");
    let r = post(
        cookie,
        format!("/admin/variants/{}/stock", f.variant),
        vec![("delta", "1".into())],
    )
    .await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("notice="), "{location}");
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_and_the_readme_carry_the_table() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let p = op["x-permission"].as_str().unwrap_or("");
            let p = Permission::ALL
                .iter()
                .find(|x| x.as_str() == p)
                .unwrap_or_else(|| panic!("{method} {path}: no x-permission"));
            assert!(op["responses"]["403"].is_object(), "{method} {path}");
            assert!(
                op["description"].as_str().unwrap().contains(p.as_str()),
                "{method} {path}"
            );
        }
    }
    let confirm = &doc["paths"]["/api/v1/orders/{id}/confirm-payment"]["post"];
    assert_eq!(confirm["x-permission"], "confirm_payments");
    assert_eq!(confirm["x-roles"], json!(["owner", "manager", "finance"]));
    assert!(
        confirm["description"]
            .as_str()
            .unwrap()
            .contains("record_overpayment")
    );
    assert_eq!(
        doc["paths"]["/api/v1/tokens"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["properties"]["role"]["enum"],
        json!(["owner", "manager", "finance", "staff"])
    );
    let table = doc["x-permission-table"].as_array().unwrap();
    assert_eq!(table.len(), Permission::ALL.len());

    // The README's copy of the table matches the code.
    let mut md = String::from(
        "| permission | what it allows | owner | manager | finance | staff |\n| --- | --- | :-: | :-: | :-: | :-: |\n",
    );
    for p in Permission::ALL {
        md.push_str(&format!("| `{}` | {} |", p.as_str(), p.describe()));
        for r in Role::ALL {
            md.push_str(if r.may(*p) { " ✓ |" } else { " – |" });
        }
        md.push('\n');
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&md),
        "README's table differs; expected:\n{md}"
    );
    app.stop().await;
}

#[tokio::test]
async fn new_role_names_are_accepted_and_the_old_stored_ones_still_work() {
    let app = TestApp::spawn().await;
    let owner = app.token.clone();
    for role in ["manager", "finance", "staff", "owner"] {
        let (st, body) = call(
            &app,
            &owner,
            "POST",
            "/tokens",
            Some(json!({"label": role, "role": role})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        assert_eq!(body["info"]["role"], role);
        let tok = body["token"].as_str().unwrap();
        assert_eq!(
            call(&app, tok, "GET", "/orders", None).await.0,
            StatusCode::OK
        );
    }
    let (st, _) = call(
        &app,
        &owner,
        "POST",
        "/tokens",
        Some(json!({"label": "x", "role": "admin"})),
    )
    .await;
    assert!(st.is_client_error() && st != StatusCode::FORBIDDEN);
    let _ = common::backend_name();
    app.stop().await;
}
