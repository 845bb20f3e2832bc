//! The console's books: the reconciliation report for a period in words,
//! the things still to deal with, and the CSV downloads.

use super::{Console, Flash, can, money, page, page_error, unread_total};
use crate::app::AppState;
use crate::app::books::{self, Export, ExportKind};
use crate::domain::access::Permission;
use crate::domain::books::{Line, report_csv};
use crate::http::admin::auth::Auth;
use crate::http::admin::books::{PeriodQuery, csv_response, period, stream};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use minijinja::context;
use serde_json::{Value, json};

/// What a report line is called on the page.
pub(super) fn label(item: &str) -> &str {
    match item {
        "bank_transfer" => "Bank transfer",
        "qr_transfer" => "QR payment",
        "cod" => "Cash on delivery",
        "balance" => "Paid from shop balance",
        "to_balance" => "Refunded to shop balance",
        "credited_excess" => "Overpayments credited",
        "refund_due" => "Refunds owed back by hand",
        "refund_paid_back" => "Refunds marked paid back",
        "deposit" => "Added by the shop",
        "withdraw" => "Taken out by the shop",
        "pay_order" => "Spent on orders",
        "refund" => "Refunds from orders",
        "credit" => "Overpayments credited",
        other => other,
    }
}

fn rows(auth: &Auth, lines: &[Line]) -> Vec<Value> {
    lines
        .iter()
        .map(
            |l| json!({"label": label(&l.item), "count": l.count, "amount": money(auth, l.amount)}),
        )
        .collect()
}

pub(super) async fn books_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(q): Query<PeriodQuery>,
    Query(f): Query<Flash>,
) -> Response {
    if let Err(e) = auth.require(Permission::ViewMoneyReports) {
        return page_error(e);
    }
    let unread = unread_total(&state, &auth).await;
    let (p, error) = match period(&auth, &q) {
        Ok(p) => (p, f.error),
        Err(e) => match period(&auth, &PeriodQuery::default()) {
            Ok(p) => (p, Some(e.message())),
            Err(e) => return page_error(e),
        },
    };
    let r = match books::report(&state.db, &auth.shop, &p).await {
        Ok(r) => r,
        Err(e) => return page_error(e.into()),
    };
    let received: Vec<Line> = r
        .received
        .iter()
        .chain([&r.paid_from_balance])
        .cloned()
        .collect();
    let total_received: i64 = received.iter().map(|l| l.amount).sum();
    let cod: Vec<Value> = r
        .cod
        .iter()
        .map(|k| {
            json!({
                "carrier": k.carrier, "orders": k.orders, "expected": money(&auth, k.expected),
                "collected": money(&auth, k.collected), "difference": money(&auth, k.difference),
                "off": k.difference != 0, "awaiting": money(&auth, k.awaiting),
                "in_transit": money(&auth, k.in_transit), "not_delivered": k.not_delivered,
            })
        })
        .collect();
    let open: Vec<Value> = r
        .open
        .iter()
        .map(|o| {
            let (what, amount) = if o.status == "refund_due" {
                ("Refund to pay back", o.amount)
            } else {
                ("Carrier remittance did not match by", o.difference)
            };
            json!({"order_id": o.order_id, "code": o.order_code, "what": what, "amount": money(&auth, amount)})
        })
        .collect();
    let b = &r.books;
    let books = json!({
        "ok": r.balances(), "orders_paid": money(&auth, b.orders_paid), "payments": money(&auth, b.payments),
        "balance_spent": money(&auth, b.balance_spent), "given_back": money(&auth, b.given_back),
        "problems": b.bad_orders.iter().map(|(o, why)| json!({"order_id": o, "why": why})).collect::<Vec<_>>(),
        "bad_balances": b.bad_balances.len(),
    });
    let query = format!("from={}&to={}", p.first_day, p.last_day);
    page(
        &auth,
        "admin/books.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, can => can(&auth), error => error, notice => f.notice,
            from => p.first_day.to_string(), to => p.last_day.to_string(), zone => r.time_zone.clone(),
            received => rows(&auth, &received), total_received => money(&auth, total_received),
            refunds => rows(&auth, &r.refunds), balances => rows(&auth, &r.balances),
            cod => cod, open => open, books => books, query => query,
        },
    )
}

/// `/admin/books/{report|orders|payments|balances}.csv?from&to`.
pub(super) async fn books_download(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(file): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    if let Err(e) = auth.require(Permission::ViewMoneyReports) {
        return page_error(e);
    }
    let p = match period(&auth, &q) {
        Ok(p) => p,
        Err(e) => return page_error(e),
    };
    let name = file.strip_suffix(".csv").unwrap_or(&file);
    if name == "report" {
        return match books::report(&state.db, &auth.shop, &p).await {
            Ok(r) => csv_response(
                &format!("chatbill-reconciliation-{}-{}.csv", p.first_day, p.last_day),
                Body::from(report_csv(&r)),
            ),
            Err(e) => page_error(e.into()),
        };
    }
    match ExportKind::parse(name) {
        Some(kind) => stream(state, Export::new(kind, auth.shop, p)),
        None => page_error(crate::http::admin::error::ApiError::not_found("export")),
    }
}
