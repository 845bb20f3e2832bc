//! The seller side: admin JSON API under `/api/v1` and the web console at `/admin`.
//!
//! Every API route is one row of [`endpoints`]; the router and the OpenAPI
//! document at `/api/v1/openapi.json` are both built from that table, so
//! they cannot drift apart.

pub mod access;
pub mod auth;
pub mod books;
pub mod carriers;
pub mod channels;
pub mod claims;
pub mod console;
pub mod conversations;
pub mod customers;
pub mod dashboard;
pub mod error;
pub mod lang;
pub mod new_order;
pub mod openapi;
pub mod order_actions;
pub mod orders;
pub mod pictures;
pub mod printing;
pub mod products;
pub mod settings;
pub mod templates;
pub mod tokens;
pub mod undelivered;
pub mod words;

use crate::app::AppState;
use crate::domain::access::Permission;
use Permission as P;
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
    /// The role must hold one of these (usually one); the router enforces
    /// it through the [`auth::Auth`] extractor, the OpenAPI document lists it.
    pub needs: &'static [Permission],
    /// When the exact permission depends on the body or the order.
    pub rule: Option<&'static str>,
    pub tag: &'static str,
    pub summary: &'static str,
    pub body: bool,
    pub handler: MethodRouter<AppState>,
}

fn ep(
    method: &'static str,
    path: &str,
    needs: &'static [Permission],
    tag: &'static str,
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> Endpoint {
    Endpoint {
        method,
        path: format!("/api/v1{path}"),
        needs,
        rule: None,
        tag,
        summary,
        body: matches!(method, "post" | "put" | "patch"),
        handler,
    }
}

impl Endpoint {
    fn rule(mut self, rule: &'static str) -> Endpoint {
        self.rule = Some(rule);
        self
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

fn export_route(kind: crate::app::books::ExportKind) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>,
              auth: auth::Auth,
              axum::extract::Query(q): axum::extract::Query<books::PeriodQuery>| async move {
            books::export(state, auth, kind, q).await
        },
    )
}

const PRICE_RULE: &str = "Giving a price also needs change_prices_fees_discounts.";

/// The API, one row per route.
pub fn endpoints() -> Vec<Endpoint> {
    let mut v = vec![
        ep(
            "get",
            "/orders",
            &[P::ViewOrders],
            "orders",
            "List orders: tab, filters (channel, status, payment_status, from, to, customer, assigned: me or a name), search q (order code, customer name or phone), keyset cursor, sort created|updated; with the count of every tab",
            get(orders::list),
        ),
        ep(
            "post",
            "/orders",
            &[P::RunFulfilment],
            "orders",
            "Make an order for a customer who phoned or walked in: {customer_id} or {customer: {name, phone}} (found by phone among the shop's customers, else added), items [{variant_id, qty}], address (else the customer's saved one), method (bank_transfer, qr_transfer, cod), shipping_fee (else the shop's rule). Stock is reserved for every line or nothing (409 names the item out of stock). A customer who chats is sent the bill and how to pay in the same transaction. 201 with the order as GET /orders/{id} shows it",
            post(new_order::create),
        ),
        ep(
            "post",
            "/orders/{id}/assign",
            &[P::RunFulfilment],
            "orders",
            "Assign the order to a person of the shop for handling or delivery: {person: name, \"me\" (the token's name) or null for nobody}; a history row says who assigned whom. GET /orders?assigned=me lists the caller's",
            post(orders::assign),
        ),
        ep(
            "get",
            "/orders/{id}",
            &[P::ViewOrders],
            "orders",
            "Order detail: items, totals, payments with slip thumbnails and pre-check flags, history, conversation",
            get(orders::detail),
        ),
        ep(
            "delete",
            "/orders/{id}",
            &[P::DeleteOrders],
            "orders",
            "Delete an order (only once cancelled or returned)",
            delete(orders::delete),
        ),
        ep(
            "get",
            "/orders/{id}/bill",
            &[P::ViewOrders],
            "printing",
            "Printable bill (HTML)",
            get(printing::bill),
        ),
        ep(
            "get",
            "/orders/{id}/shipping-note",
            &[P::ViewOrders],
            "printing",
            "Printable shipping note (HTML)",
            get(printing::shipping_note),
        ),
        ep(
            "get",
            "/payments/{id}/slip",
            &[P::ViewOrders],
            "payments",
            "The slip image of a payment",
            get(printing::slip),
        ),
        ep(
            "get",
            "/payments/{id}/thumbnail",
            &[P::ViewOrders],
            "payments",
            "The slip thumbnail of a payment",
            get(printing::thumbnail),
        ),
        ep(
            "get",
            "/print/bills",
            &[P::ViewOrders],
            "printing",
            "Bills for many orders: ids=1,2,3",
            get(printing::bills),
        ),
        ep(
            "get",
            "/print/shipping-notes",
            &[P::ViewOrders],
            "printing",
            "Shipping notes for many orders: ids=1,2,3",
            get(printing::shipping_notes),
        ),
        ep(
            "get",
            "/customers",
            &[P::ViewOrders],
            "customers",
            "Search customers by name or phone",
            get(customers::list),
        ),
        ep(
            "get",
            "/customers/{id}",
            &[P::ViewOrders],
            "customers",
            "Customer profile with balance, recent orders and conversation counts",
            get(customers::profile),
        ),
        ep(
            "patch",
            "/customers/{id}",
            &[P::ChatWithCustomers],
            "customers",
            "Name the customer: {name}. The seller's name stays, whatever the Messenger profile or an address says",
            patch(customers::rename),
        ),
        ep(
            "get",
            "/customers/{id}/orders",
            &[P::ViewOrders],
            "customers",
            "The customer's orders",
            get(customers::orders),
        ),
        ep(
            "get",
            "/customers/{id}/ledger",
            &[P::ViewOrders],
            "customers",
            "The customer's balance ledger",
            get(customers::ledger),
        ),
        ep(
            "post",
            "/customers/{id}/deposit",
            &[P::MoveBalances],
            "customers",
            "Deposit into the customer's balance: {amount, note?}; the customer is told in chat, with the new balance, in the same transaction (utility template kind balance_moved outside the 24-hour window)",
            post(customers::deposit),
        ),
        ep(
            "post",
            "/customers/{id}/withdraw",
            &[P::MoveBalances],
            "customers",
            "Withdraw from the customer's balance: {amount, note?}; 409 when the balance is short; the customer is told in chat, with what is left, in the same transaction",
            post(customers::withdraw),
        ),
        ep(
            "get",
            "/conversations",
            &[P::ViewOrders],
            "conversations",
            "Conversations with new / total message counts",
            get(conversations::list),
        ),
        ep(
            "get",
            "/conversations/{customer_id}",
            &[P::ViewOrders],
            "conversations",
            "Read a conversation (marks it read)",
            get(conversations::read),
        ),
        ep(
            "post",
            "/conversations/{customer_id}/reply",
            &[P::ChatWithCustomers],
            "conversations",
            "Reply to the customer: {text}",
            post(conversations::reply),
        ),
        ep(
            "post",
            "/conversations/{customer_id}/pause",
            &[P::ChatWithCustomers],
            "conversations",
            "Pause the bot for this customer",
            post(conversations::pause),
        ),
        ep(
            "post",
            "/conversations/{customer_id}/resume",
            &[P::ChatWithCustomers],
            "conversations",
            "Resume the bot for this customer",
            post(conversations::resume),
        ),
        ep(
            "get",
            "/products",
            &[P::ViewOrders],
            "products",
            "Products with variants and stock",
            get(products::list),
        ),
        ep(
            "post",
            "/products",
            &[P::EditProductsAndStock],
            "products",
            "Create a product: {name, price, description?, category?, image_url?, variants?}",
            post(products::create),
        ),
        ep(
            "get",
            "/products/{id}",
            &[P::ViewOrders],
            "products",
            "One product",
            get(products::get),
        ),
        ep(
            "patch",
            "/products/{id}",
            &[P::EditProductsAndStock],
            "products",
            "Edit a product: {name?, description?, category?, image_url?, price?, active?}",
            patch(products::update),
        )
        .rule(PRICE_RULE),
        ep(
            "get",
            "/products/{id}/pictures",
            &[P::ViewOrders],
            "products",
            "The product's pictures, the card's first, with their public URLs",
            get(pictures::list),
        ),
        ep(
            "post",
            "/products/{id}/pictures",
            &[P::EditProductsAndStock],
            "products",
            "Upload pictures (multipart/form-data, parts named file): decoded under the slip limits, fitted into 1200 px, stored in the media folder; at most 10 per product",
            post(pictures::upload).layer(axum::extract::DefaultBodyLimit::max(
                pictures::MAX_UPLOAD_BYTES,
            )),
        ),
        ep(
            "delete",
            "/products/{id}/pictures/{picture}",
            &[P::EditProductsAndStock],
            "products",
            "Delete a picture",
            delete(pictures::remove),
        ),
        ep(
            "post",
            "/products/{id}/pictures/{picture}/first",
            &[P::EditProductsAndStock],
            "products",
            "Put a picture first: it is the carousel card's picture",
            post(pictures::make_first),
        ),
        ep(
            "delete",
            "/products/{id}",
            &[P::EditProductsAndStock],
            "products",
            "Delete a product",
            delete(products::delete),
        ),
        ep(
            "put",
            "/products/{id}/image",
            &[P::EditProductsAndStock],
            "products",
            "Set the product image: {image_url}",
            put(products::set_image),
        ),
        ep(
            "post",
            "/products/{id}/variants",
            &[P::EditProductsAndStock],
            "products",
            "Add a variant: {name, price?, stock?}",
            post(products::add_variant),
        ),
        ep(
            "patch",
            "/variants/{id}",
            &[P::EditProductsAndStock],
            "products",
            "Edit a variant: {name?, price?, stock?} (null stock = unlimited)",
            patch(products::update_variant),
        )
        .rule(PRICE_RULE),
        ep(
            "delete",
            "/variants/{id}",
            &[P::EditProductsAndStock],
            "products",
            "Delete a variant",
            delete(products::delete_variant),
        ),
        ep(
            "post",
            "/variants/{id}/stock",
            &[P::EditProductsAndStock],
            "products",
            "Adjust tracked stock: {delta}",
            post(products::adjust_stock),
        ),
        ep(
            "get",
            "/dashboard",
            &[P::ViewOrders],
            "dashboard",
            "Per day of the shop's calendar (days=1..90, default 14): orders, revenue (money paid on the day's orders) and unpaid (what they still owe, apart); pending slips, unpaid orders whose hold lapses within six hours (expiring), pushes that did not reach a customer (undelivered)",
            get(dashboard::summary),
        ),
        ep(
            "get",
            "/reports/reconciliation",
            &[P::ViewMoneyReports],
            "books",
            "Reconciliation for a period of the shop's days (from, to: YYYY-MM-DD; default the last 30 days): money received by payment method, paid from balances, refunds (to balances, credited excess, due, paid back), balance deposits / withdrawals / spends, COD expected vs collected per carrier, open COD differences and refunds due, and the check that the books balance (for the orders placed in the period and for the whole shop); format=csv for a spreadsheet",
            get(books::reconciliation),
        ),
        ep(
            "get",
            "/exports/orders.csv",
            &[P::ViewMoneyReports],
            "books",
            "Orders placed in the period as CSV (from, to): dates in the shop's time zone, amounts in major units beside the currency",
            export_route(crate::app::books::ExportKind::Orders),
        ),
        ep(
            "get",
            "/exports/payments.csv",
            &[P::ViewMoneyReports],
            "books",
            "Every movement of orders' money in the period as CSV (from, to): payment rows and balance entries on orders, signed so that an order's rows add up to what it holds as paid",
            export_route(crate::app::books::ExportKind::Payments),
        ),
        ep(
            "get",
            "/exports/balances.csv",
            &[P::ViewMoneyReports],
            "books",
            "The customers' balance ledger in the period as CSV (from, to)",
            export_route(crate::app::books::ExportKind::Balances),
        ),
        ep(
            "get",
            "/settings",
            &[P::ViewOrders],
            "settings",
            "The shop's settings: bank accounts, payment QR and methods, hold hours, shipping fees, time zone, ...",
            get(settings::get),
        ),
        ep(
            "patch",
            "/settings",
            &[P::ChangeSettings],
            "settings",
            "Change some of the shop's settings (a JSON merge patch: name only what changes; null puts a setting back to its default). A wrong value is a 400 naming the field and why; every change is kept in the history",
            patch(settings::patch),
        ),
        ep(
            "put",
            "/settings",
            &[P::ChangeSettings],
            "settings",
            "Replace the shop's settings (the whole object as GET returns it; settings left out go back to their defaults)",
            put(settings::put),
        ),
        ep(
            "get",
            "/settings/history",
            &[P::ChangeSettings],
            "settings",
            "Who changed which settings when, newest first, with the settings before and after (before: an id to page back from; limit 1–200)",
            get(settings::history),
        ),
        ep(
            "get",
            "/channels",
            &[P::ChangeSettings],
            "channels",
            "The shop's bound channels (Facebook Pages): id and whether a token is stored; never the token",
            get(channels::list),
        ),
        ep(
            "put",
            "/channels/messenger",
            &[P::ChangeSettings],
            "channels",
            "Bind a Facebook Page, or replace its access token after Meta rotated it: {page_id, access_token}. The token is checked with the Graph API (GET /me) first: 422 when Meta refuses it or it is another Page's, 409 when another shop has the Page",
            put(channels::bind),
        ),
        ep(
            "delete",
            "/channels/messenger/{page_id}",
            &[P::ChangeSettings],
            "channels",
            "Unbind a Facebook Page: the shop stops answering there",
            delete(channels::unbind),
        ),
        ep(
            "post",
            "/channels/messenger/{page_id}/setup",
            &[P::ChangeSettings],
            "channels",
            "Set Get Started, the greeting and the persistent menu in English, Thai and Vietnamese on the Page (as chatbill messenger setup)",
            post(channels::setup),
        ),
        ep(
            "get",
            "/carriers",
            &[P::ViewOrders],
            "carriers",
            "The shop's carriers (settings `carriers`) and any other name orders were shipped with, each with its cash on delivery still open: collecting (parcels on their way, orders and amount) and owed (delivered, the carrier holds the cash)",
            get(carriers::list),
        ),
        ep(
            "get",
            "/carriers/{name}/cod-orders",
            &[P::ViewOrders],
            "carriers",
            "One carrier's open cash-on-delivery orders, delivered first: code, amount owed, tracking, customer",
            get(carriers::cod_orders),
        ),
        ep(
            "post",
            "/carriers/{name}/remittances",
            &[P::ConfirmPayments],
            "carriers",
            "Record a carrier's COD remittance, one amount for many orders: {reference (the carrier's, once per carrier), amount, orders: [{code, amount?}], note?}. Each order is collected through its own collect-cod (one on its way is delivered first: the carrier paid for it), with its amount defaulting to what it owes; amount − the orders' shares is kept as the remittance's difference. All or nothing: 409 naming the order that cannot be collected, or when the reference was recorded; 404 for an unknown carrier or order; 422 for a carrier that does not collect COD",
            post(carriers::remit),
        ),
        ep(
            "get",
            "/orders/{id}/parcel",
            &[P::ViewOrders],
            "carriers",
            "What booking the parcel with a carrier needs: recipient (the delivery address), items, extras, declared value, the cash the carrier must collect (0 unless cash on delivery is pending), carrier and tracking. A booking integration reads it, books, then reports with ship, track and remittances",
            get(carriers::parcel),
        ),
        ep(
            "get",
            "/remittances",
            &[P::ViewOrders],
            "carriers",
            "COD remittances recorded, newest first (carrier=<name>, limit 1..200): amount, what went to orders, the difference, and the orders' codes",
            get(carriers::remittances),
        ),
        ep(
            "get",
            "/claims",
            &[P::ViewOrders],
            "claims",
            "Claims (complaints) customers filed from chat, newest first, with counts per status: status=open|in_progress|resolved|all, before=<id> for the next page (next_before), limit 1..200; each with its order, customer, reason, words, status, outcome and how many photos",
            get(claims::list),
        ),
        ep(
            "get",
            "/claims/{id}",
            &[P::ViewOrders],
            "claims",
            "One claim with its photos (stored in the media folder; url and thumbnail_url once downloaded, or the problem) and its history",
            get(claims::detail),
        ),
        ep(
            "get",
            "/claims/{id}/photos/{photo}",
            &[P::ViewOrders],
            "claims",
            "A claim photo (thumbnail=true for the small one), served as a picture that cannot run as a page",
            get(claims::photo),
        ),
        ep(
            "post",
            "/claims/{id}/start",
            &[P::RunFulfilment],
            "claims",
            "Take the claim up: open → in progress; the customer is told in the same transaction. 409 when it is already in progress or resolved",
            post(claims::start),
        ),
        ep(
            "post",
            "/claims/{id}/resolve",
            &[P::RunFulfilment],
            "claims",
            "Resolve the claim: {outcome: refund|reship|rejected, amount (refund: above 0 and at most what the customer paid for the order), note (required for rejected: the customer is told why)}. A refund lowers the order's total by the amount and puts what was paid above it on the customer's shop balance, one ledger row; the customer is told in the same transaction. 409 when already resolved, 400 with field for a wrong amount or a missing reason",
            post(claims::resolve),
        )
        .rule("A refund also needs cancel_with_refund."),
        ep(
            "get",
            "/undelivered",
            &[P::ViewOrders],
            "undelivered",
            "Messages that did not reach the customer, newest first (order: only that order's): held outside Messenger's 24-hour window with no utility template, or failed after their retries or refused by Meta; each with what it says, the reason, and whether it can be retried or sent as the shop's utility template",
            get(undelivered::list),
        ),
        ep(
            "post",
            "/undelivered/{id}/retry",
            &[P::ChatWithCustomers],
            "undelivered",
            "Send it again now, with its retries restored. 409 when it is held and Messenger would refuse it again (the customer has not written in 24 hours and no template is set)",
            undelivered::resolve_route(crate::app::undelivered::Resolution::Retry),
        ),
        ep(
            "post",
            "/undelivered/{id}/send-as-template",
            &[P::ChatWithCustomers],
            "undelivered",
            "Send an order update as the shop's approved utility template for its kind (Settings: utility_templates). 409 when none is set or it is a chat message",
            undelivered::resolve_route(crate::app::undelivered::Resolution::SendAsTemplate),
        ),
        ep(
            "post",
            "/undelivered/{id}/handled",
            &[P::ChatWithCustomers],
            "undelivered",
            "Mark it handled (the seller told the customer another way): it leaves the list and never goes out, even when the customer writes again",
            undelivered::resolve_route(crate::app::undelivered::Resolution::Handled),
        ),
        ep(
            "get",
            "/tokens",
            &[P::ManageTokens],
            "tokens",
            "API tokens of the shop",
            get(tokens::list),
        ),
        ep(
            "post",
            "/tokens",
            &[P::ManageTokens],
            "tokens",
            "Create a token: {label, role: owner|manager|finance|staff}",
            post(tokens::create),
        ),
        ep(
            "delete",
            "/tokens/{id}",
            &[P::ManageTokens],
            "tokens",
            "Revoke a token",
            delete(tokens::revoke),
        ),
        ep(
            "get",
            "/me",
            &[P::ViewOrders],
            "tokens",
            "Who the token is: label, role, its permissions, its own console language (null: the shop's), the language it reads in, and the languages there are",
            get(tokens::me),
        ),
        ep(
            "patch",
            "/me",
            &[P::ViewOrders],
            "tokens",
            "Choose the console language for this token's holder: {language: en|th|vi, or null for the shop's}. Pages, bills and shipping notes, amounts and dates then read in it",
            patch(tokens::set_my_language),
        ),
    ];
    for a in orders::Action::ALL {
        let e = ep(
            "post",
            &format!("/orders/{{id}}/{}", a.slug()),
            a.permissions(),
            "actions",
            a.summary(),
            action_route(*a),
        );
        v.push(match a.permission_rule() {
            Some(r) => e.rule(r),
            None => e,
        });
    }
    v
}

pub fn routes() -> Router<AppState> {
    let mut api = Router::new();
    for e in endpoints() {
        api = api.route(&e.path, e.handler.layer(Extension(auth::Needs(e.needs))));
    }
    api.route("/api/v1/openapi.json", get(openapi::serve))
        .merge(console::routes())
        .layer(Extension(Arc::new(auth::FailureLimiter::default())))
}
