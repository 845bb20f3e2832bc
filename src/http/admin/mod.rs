//! The seller side: admin JSON API under `/api/v1` and the web console at `/admin`.
//!
//! Every API route is one row of [`endpoints`]; the router and the OpenAPI
//! document at `/api/v1/openapi.json` are both built from that table, so
//! they cannot drift apart.

pub mod auth;
pub mod console;
pub mod conversations;
pub mod customers;
pub mod dashboard;
pub mod error;
pub mod openapi;
pub mod order_actions;
pub mod orders;
pub mod printing;
pub mod products;
pub mod templates;
pub mod tokens;

use crate::app::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use axum::{Extension, Router};
use std::sync::Arc;

/// One API route: method, path, tag, summary, and its handler.
pub struct Endpoint {
    pub method: &'static str,
    pub path: String,
    pub tag: &'static str,
    pub summary: &'static str,
    pub body: bool,
    pub handler: MethodRouter<AppState>,
}

fn ep(
    method: &'static str,
    path: &str,
    tag: &'static str,
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> Endpoint {
    Endpoint {
        method,
        path: format!("/api/v1{path}"),
        tag,
        summary,
        body: matches!(method, "post" | "put" | "patch"),
        handler,
    }
}

fn action_route(action: orders::Action) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              auth: auth::Auth,
              Path(id): Path<i64>,
              headers: HeaderMap,
              bytes: Bytes| async move {
            orders::act(state, auth, id, action, headers, bytes).await
        },
    )
}

/// The API, one row per route.
pub fn endpoints() -> Vec<Endpoint> {
    let mut v = vec![
        ep(
            "get",
            "/orders",
            "orders",
            "List orders: tab, filters (channel, status, payment_status, from, to, customer), search q (order code, customer name or phone), keyset cursor, sort created|updated; with the count of every tab",
            get(orders::list),
        ),
        ep(
            "get",
            "/orders/{id}",
            "orders",
            "Order detail: items, totals, payments with slip thumbnails and pre-check flags, history, conversation",
            get(orders::detail),
        ),
        ep(
            "delete",
            "/orders/{id}",
            "orders",
            "Delete an order (only once cancelled or returned)",
            delete(orders::delete),
        ),
        ep(
            "get",
            "/orders/{id}/bill",
            "printing",
            "Printable bill (HTML)",
            get(printing::bill),
        ),
        ep(
            "get",
            "/orders/{id}/shipping-note",
            "printing",
            "Printable shipping note (HTML)",
            get(printing::shipping_note),
        ),
        ep(
            "get",
            "/payments/{id}/slip",
            "payments",
            "The slip image of a payment",
            get(printing::slip),
        ),
        ep(
            "get",
            "/payments/{id}/thumbnail",
            "payments",
            "The slip thumbnail of a payment",
            get(printing::thumbnail),
        ),
        ep(
            "get",
            "/print/bills",
            "printing",
            "Bills for many orders: ids=1,2,3",
            get(printing::bills),
        ),
        ep(
            "get",
            "/print/shipping-notes",
            "printing",
            "Shipping notes for many orders: ids=1,2,3",
            get(printing::shipping_notes),
        ),
        ep(
            "get",
            "/customers",
            "customers",
            "Search customers by name or phone",
            get(customers::list),
        ),
        ep(
            "get",
            "/customers/{id}",
            "customers",
            "Customer profile with balance, recent orders and conversation counts",
            get(customers::profile),
        ),
        ep(
            "get",
            "/customers/{id}/orders",
            "customers",
            "The customer's orders",
            get(customers::orders),
        ),
        ep(
            "get",
            "/customers/{id}/ledger",
            "customers",
            "The customer's balance ledger",
            get(customers::ledger),
        ),
        ep(
            "post",
            "/customers/{id}/deposit",
            "customers",
            "Deposit into the customer's balance: {amount, note?} (owner)",
            post(customers::deposit),
        ),
        ep(
            "post",
            "/customers/{id}/withdraw",
            "customers",
            "Withdraw from the customer's balance: {amount, note?} (owner)",
            post(customers::withdraw),
        ),
        ep(
            "get",
            "/conversations",
            "conversations",
            "Conversations with new / total message counts",
            get(conversations::list),
        ),
        ep(
            "get",
            "/conversations/{customer_id}",
            "conversations",
            "Read a conversation (marks it read)",
            get(conversations::read),
        ),
        ep(
            "post",
            "/conversations/{customer_id}/reply",
            "conversations",
            "Reply to the customer: {text}",
            post(conversations::reply),
        ),
        ep(
            "post",
            "/conversations/{customer_id}/pause",
            "conversations",
            "Pause the bot for this customer",
            post(conversations::pause),
        ),
        ep(
            "post",
            "/conversations/{customer_id}/resume",
            "conversations",
            "Resume the bot for this customer",
            post(conversations::resume),
        ),
        ep(
            "get",
            "/products",
            "products",
            "Products with variants and stock",
            get(products::list),
        ),
        ep(
            "post",
            "/products",
            "products",
            "Create a product: {name, price, description?, category?, image_url?, variants?}",
            post(products::create),
        ),
        ep(
            "get",
            "/products/{id}",
            "products",
            "One product",
            get(products::get),
        ),
        ep(
            "patch",
            "/products/{id}",
            "products",
            "Edit a product: {name?, description?, category?, image_url?, price?, active?}",
            patch(products::update),
        ),
        ep(
            "delete",
            "/products/{id}",
            "products",
            "Delete a product",
            delete(products::delete),
        ),
        ep(
            "put",
            "/products/{id}/image",
            "products",
            "Set the product image: {image_url}",
            put(products::set_image),
        ),
        ep(
            "post",
            "/products/{id}/variants",
            "products",
            "Add a variant: {name, price?, stock?}",
            post(products::add_variant),
        ),
        ep(
            "patch",
            "/variants/{id}",
            "products",
            "Edit a variant: {name?, price?, stock?} (null stock = unlimited)",
            patch(products::update_variant),
        ),
        ep(
            "delete",
            "/variants/{id}",
            "products",
            "Delete a variant",
            delete(products::delete_variant),
        ),
        ep(
            "post",
            "/variants/{id}/stock",
            "products",
            "Adjust tracked stock: {delta}",
            post(products::adjust_stock),
        ),
        ep(
            "get",
            "/dashboard",
            "dashboard",
            "Orders and revenue per day, pending slips: days=14",
            get(dashboard::summary),
        ),
        ep(
            "get",
            "/tokens",
            "tokens",
            "API tokens of the shop (owner)",
            get(tokens::list),
        ),
        ep(
            "post",
            "/tokens",
            "tokens",
            "Create a token: {label, role: owner|staff} (owner)",
            post(tokens::create),
        ),
        ep(
            "delete",
            "/tokens/{id}",
            "tokens",
            "Revoke a token (owner)",
            delete(tokens::revoke),
        ),
    ];
    for a in orders::Action::ALL {
        v.push(ep(
            "post",
            &format!("/orders/{{id}}/{}", a.slug()),
            "actions",
            a.summary(),
            action_route(*a),
        ));
    }
    v
}

pub fn routes() -> Router<AppState> {
    let mut api = Router::new();
    for e in endpoints() {
        api = api.route(&e.path, e.handler);
    }
    api.route("/api/v1/openapi.json", get(openapi::serve))
        .merge(console::routes())
        .layer(Extension(Arc::new(auth::FailureLimiter::default())))
}
