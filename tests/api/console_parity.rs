//! Every seller operation of the API has a place in the console, or is
//! listed here as API-only with the reason. A new API operation without
//! either fails this test, so the console cannot fall behind unnoticed.

use crate::common::TestApp;
use serde_json::Value;
use std::collections::BTreeSet;

/// Where the console does it: a template and a piece of it (a form's
/// action or a link) that only that operation's place has.
enum Place {
    Console(&'static str, &'static str),
    ApiOnly(&'static str),
}
use Place::{ApiOnly, Console};

const ORDER: &str = "admin/order.html";

fn places() -> Vec<(&'static str, &'static str, Place)> {
    vec![
        (
            "get",
            "/orders",
            Console("admin/orders.html", "id=\"orders\""),
        ),
        (
            "post",
            "/orders",
            Console("admin/new_order.html", "action=\"/admin/orders/new\""),
        ),
        ("post", "/orders/{id}/assign", Console(ORDER, "/assign\"")),
        ("get", "/orders/{id}", Console(ORDER, "id=\"order-state\"")),
        ("delete", "/orders/{id}", Console(ORDER, "/delete\"")),
        ("get", "/orders/{id}/bill", Console(ORDER, "/bill\"")),
        (
            "get",
            "/orders/{id}/shipping-note",
            Console(ORDER, "/shipping-note\""),
        ),
        (
            "get",
            "/payments/{id}/slip",
            Console(ORDER, "/admin/payments/{{ p.id }}/slip"),
        ),
        (
            "get",
            "/payments/{id}/thumbnail",
            ApiOnly("the console shows the slip itself, scaled"),
        ),
        (
            "get",
            "/print/bills",
            Console("admin/orders.html", "value=\"bills\""),
        ),
        (
            "get",
            "/print/shipping-notes",
            Console("admin/orders.html", "value=\"notes\""),
        ),
        (
            "get",
            "/customers",
            Console("admin/customers.html", "id=\"customers\""),
        ),
        (
            "get",
            "/customers/{id}",
            Console("admin/chat.html", "id=\"customer-details\""),
        ),
        (
            "patch",
            "/customers/{id}",
            Console("admin/chat.html", "/name\""),
        ),
        (
            "get",
            "/customers/{id}/orders",
            Console("admin/chat.html", "id=\"customer-orders\""),
        ),
        (
            "get",
            "/customers/{id}/ledger",
            Console("admin/chat.html", "id=\"ledger\""),
        ),
        (
            "post",
            "/customers/{id}/deposit",
            Console("admin/chat.html", "/balance/deposit\""),
        ),
        (
            "post",
            "/customers/{id}/withdraw",
            Console("admin/chat.html", "/balance/withdraw\""),
        ),
        (
            "get",
            "/conversations",
            Console("admin/chat.html", "{% for c in conversations %}"),
        ),
        (
            "get",
            "/conversations/{customer_id}",
            Console("admin/chat.html", "class=\"msgs\""),
        ),
        (
            "post",
            "/conversations/{customer_id}/reply",
            Console("admin/chat.html", "/reply\""),
        ),
        (
            "post",
            "/conversations/{customer_id}/pause",
            Console("admin/chat.html", "resume{% else %}pause"),
        ),
        (
            "post",
            "/conversations/{customer_id}/resume",
            Console("admin/chat.html", "resume{% else %}pause"),
        ),
        (
            "get",
            "/products",
            Console("admin/products.html", "{% for p in products %}"),
        ),
        (
            "post",
            "/products",
            Console("admin/products.html", "action=\"/admin/products\""),
        ),
        (
            "get",
            "/products/{id}",
            Console("admin/products.html", "id=\"edit-product-{{ p.id }}\""),
        ),
        (
            "patch",
            "/products/{id}",
            Console("admin/products.html", "/edit\""),
        ),
        (
            "delete",
            "/products/{id}",
            Console("admin/products.html", "/admin/products/{{ p.id }}/delete"),
        ),
        (
            "get",
            "/products/{id}/pictures",
            Console("admin/products.html", "{% for x in p.pictures %}"),
        ),
        (
            "post",
            "/products/{id}/pictures",
            Console("admin/products.html", "enctype=\"multipart/form-data\""),
        ),
        (
            "delete",
            "/products/{id}/pictures/{picture}",
            Console("admin/products.html", "/pictures/{{ x.id }}/delete"),
        ),
        (
            "post",
            "/products/{id}/pictures/{picture}/first",
            Console("admin/products.html", "/pictures/{{ x.id }}/first"),
        ),
        (
            "put",
            "/products/{id}/image",
            Console("admin/products.html", "/image\""),
        ),
        (
            "post",
            "/products/{id}/variants",
            Console("admin/products.html", "/variants\""),
        ),
        (
            "patch",
            "/variants/{id}",
            Console("admin/products.html", "/admin/variants/{{ v.id }}/edit"),
        ),
        (
            "delete",
            "/variants/{id}",
            Console("admin/products.html", "/admin/variants/{{ v.id }}/delete"),
        ),
        (
            "post",
            "/variants/{id}/stock",
            Console("admin/products.html", "/stock\""),
        ),
        (
            "get",
            "/dashboard",
            Console("admin/dashboard.html", "orders_chart"),
        ),
        (
            "get",
            "/reports/reconciliation",
            Console("admin/books.html", "action=\"/admin/books\""),
        ),
        (
            "get",
            "/exports/orders.csv",
            Console("admin/books.html", "orders.csv"),
        ),
        (
            "get",
            "/exports/payments.csv",
            Console("admin/books.html", "payments.csv"),
        ),
        (
            "get",
            "/exports/balances.csv",
            Console("admin/books.html", "balances.csv"),
        ),
        (
            "get",
            "/settings",
            Console("admin/settings.html", "id=\"settings-form\""),
        ),
        (
            "patch",
            "/settings",
            Console("admin/settings.html", "action=\"/admin/settings\""),
        ),
        (
            "put",
            "/settings",
            Console("admin/settings.html", "action=\"/admin/settings\""),
        ),
        (
            "get",
            "/settings/history",
            Console("admin/settings.html", "id=\"settings-history\""),
        ),
        (
            "get",
            "/channels",
            Console("admin/settings.html", "/admin/channels/messenger"),
        ),
        (
            "put",
            "/channels/messenger",
            Console(
                "admin/settings.html",
                "action=\"/admin/channels/messenger\"",
            ),
        ),
        (
            "delete",
            "/channels/messenger/{page_id}",
            Console("admin/settings.html", "/unbind\""),
        ),
        (
            "post",
            "/channels/messenger/{page_id}/setup",
            Console("admin/settings.html", "/setup\""),
        ),
        (
            "get",
            "/carriers",
            Console("admin/carriers.html", "id=\"carriers\""),
        ),
        (
            "get",
            "/carriers/{name}/cod-orders",
            Console("admin/carrier.html", "id=\"cod-orders\""),
        ),
        (
            "post",
            "/carriers/{name}/remittances",
            Console("admin/carrier.html", "/remittances\""),
        ),
        (
            "get",
            "/orders/{id}/parcel",
            ApiOnly("for a carrier-booking integration; the seller reads the shipping note"),
        ),
        (
            "get",
            "/remittances",
            Console("admin/_remittances.html", "id=\"remittances\""),
        ),
        (
            "get",
            "/claims",
            Console("admin/claims.html", "id=\"claims\""),
        ),
        (
            "get",
            "/claims/{id}",
            Console("admin/claim.html", "/start\""),
        ),
        (
            "get",
            "/claims/{id}/photos/{photo}",
            Console("admin/claim.html", "/photos/"),
        ),
        (
            "post",
            "/claims/{id}/start",
            Console("admin/claim.html", "/start\""),
        ),
        (
            "post",
            "/claims/{id}/resolve",
            Console("admin/claim.html", "/resolve\""),
        ),
        (
            "get",
            "/undelivered",
            Console("admin/_undelivered.html", "/retry\""),
        ),
        (
            "post",
            "/undelivered/{id}/retry",
            Console("admin/_undelivered.html", "/retry\""),
        ),
        (
            "post",
            "/undelivered/{id}/send-as-template",
            Console("admin/_undelivered.html", "/send-as-template\""),
        ),
        (
            "post",
            "/undelivered/{id}/handled",
            Console("admin/_undelivered.html", "/handled\""),
        ),
        (
            "get",
            "/tokens",
            Console("admin/tokens.html", "id=\"tokens\""),
        ),
        (
            "post",
            "/tokens",
            Console("admin/tokens.html", "action=\"/admin/tokens\""),
        ),
        (
            "delete",
            "/tokens/{id}",
            Console("admin/tokens.html", "/revoke\""),
        ),
        // Every page's header shows the reader's language and switches it.
        (
            "get",
            "/me",
            Console("admin/base.html", "action=\"/admin/language\""),
        ),
        (
            "patch",
            "/me",
            Console("admin/base.html", "action=\"/admin/language\""),
        ),
    ]
}

/// The order actions the console posts by name: each has its own form, or
/// is one of the page's plain buttons (`simple_actions`).
const PLAIN_BUTTONS: &[&str] = &[
    "complete",
    "fail-delivery",
    "return-to-stock",
    "collect-cod",
    "pay-from-balance",
];

#[tokio::test]
async fn every_seller_operation_has_a_place_in_the_console() {
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
    app.stop().await;
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let read = |name: &str| std::fs::read_to_string(templates.join(name)).unwrap();
    let order_page = read(ORDER);
    let orders_code = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/admin/console/orders.rs"),
    )
    .unwrap();
    let table = places();
    let mut seen = BTreeSet::new();
    let mut missing = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let path = path.strip_prefix("/api/v1").unwrap_or(path);
        if path == "/openapi.json" {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            seen.insert((method.clone(), path.to_string()));
            // Order actions: a form posting to the action, or a plain button.
            if let Some(slug) = path
                .strip_prefix("/orders/{id}/")
                .filter(|s| !matches!(*s, "assign" | "bill" | "shipping-note" | "parcel"))
            {
                let form = order_page.contains(&format!("/{slug}\""));
                let button =
                    PLAIN_BUTTONS.contains(&slug) && orders_code.contains(&format!("(\"{slug}\","));
                if !(form || button) {
                    missing.push(format!("{method} {path}: no form on the order page"));
                }
                continue;
            }
            match table.iter().find(|(m, p, _)| m == method && p == &path) {
                None => missing.push(format!(
                    "{method} {path}: add it to the console, or list it as API-only with the reason"
                )),
                Some((_, _, ApiOnly(why))) => assert!(!why.is_empty()),
                Some((_, _, Console(file, needle))) => {
                    if !read(file).contains(needle) {
                        missing.push(format!("{method} {path}: {file} lacks {needle:?}"));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    for (m, p, _) in &table {
        assert!(
            seen.contains(&(m.to_string(), p.to_string())),
            "{m} {p} is listed here but the API has no such operation"
        );
    }
}
