//! The console's Carriers: what each carrier owes for cash on delivery,
//! one carrier's open COD orders, and recording its remittance for many
//! orders at once. The same rules as `POST /api/v1/carriers/{name}/remittances`.

use super::{Console, back_to, money, page, page_error, refused, unread_total};
use crate::app::AppState;
use crate::app::remittances::{self, Remit};
use crate::domain::access::Permission;
use crate::domain::{Money, Timestamp};
use crate::http::admin::auth::Auth;
use crate::http::admin::carriers::owed_by_carrier;
use crate::http::admin::error::ApiError;
use crate::store::carriers;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use serde_json::{Value, json};

fn remittances_in_words(auth: &Auth, list: &[carriers::Remittance]) -> Vec<Value> {
    let cal = super::calendar(auth);
    list.iter()
        .map(|r| {
            let difference = match r.difference {
                0 => String::new(),
                d if d > 0 => format!("{} more than the orders owed", money(auth, d)),
                d => format!("{} short of what the orders owed", money(auth, -d)),
            };
            json!({"carrier": r.carrier, "reference": r.reference, "amount": money(auth, r.amount),
                   "allocated": money(auth, r.allocated), "difference": difference,
                   "orders": r.orders.join(", "), "note": r.note,
                   "when": cal.date_time(Timestamp(r.created_at)), "by": r.created_by.strip_prefix("seller:").unwrap_or(&r.created_by)})
        })
        .collect()
}

pub(super) async fn carriers_page(
    State(state): State<AppState>,
    Console(auth): Console,
) -> Response {
    let shop = auth.shop.id;
    let (owed, recent) = match (
        carriers::owed(&state.db, shop).await,
        carriers::list(&state.db, shop, None, 20).await,
    ) {
        (Ok(o), Ok(r)) => (o, r),
        (Err(e), _) | (_, Err(e)) => return page_error(e.into()),
    };
    let rows: Vec<Value> = owed_by_carrier(&auth.shop.settings, owed)
        .into_iter()
        .map(|mut c| {
            let o = c["owed"].clone();
            let m = |k: &str| money(&auth, o[k].as_i64().unwrap_or(0));
            c["collecting_words"] = json!(format!(
                "{} · {} orders",
                m("collecting"),
                o["collecting_orders"]
            ));
            c["owed_words"] = json!(format!("{} · {} orders", m("owed"), o["owed_orders"]));
            c["owes"] = json!(o["owed"].as_i64().unwrap_or(0) > 0);
            c
        })
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/carriers.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, can => super::can(&auth), carriers => rows,
            remittances => remittances_in_words(&auth, &recent),
        },
    )
}

pub(super) async fn carrier_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(name): Path<String>,
    axum::extract::Query(f): axum::extract::Query<super::Flash>,
) -> Response {
    let Some((carrier, settings)) = auth.shop.settings.carrier(&name) else {
        return page_error(ApiError::NotFound(format!(
            "{name} is not one of the shop's carriers (Settings → Carriers)"
        )));
    };
    let shop = auth.shop.id;
    let (orders, recent) = match (
        carriers::cod_orders(&state.db, shop, carrier).await,
        carriers::list(&state.db, shop, Some(carrier), 20).await,
    ) {
        (Ok(o), Ok(r)) => (o, r),
        (Err(e), _) | (_, Err(e)) => return page_error(e.into()),
    };
    let cal = super::calendar(&auth);
    let rows: Vec<Value> = orders
        .iter()
        .map(|o| {
            json!({"id": o.id, "code": o.code, "amount": money(&auth, o.amount),
                   "delivered": o.fulfilment == "awaiting_cod", "tracking": o.tracking,
                   "customer": o.customer_name, "when": cal.date_time(Timestamp(o.updated_at))})
        })
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/carrier.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, can => super::can(&auth), carrier => carrier,
            collects_cod => settings.collects_cod, orders => rows,
            remittances => remittances_in_words(&auth, &recent),
            can_confirm => auth.may(Permission::ConfirmPayments),
            currency => auth.shop.currency.code(),
            error => f.error, notice => f.notice,
        },
    )
}

/// The form: a reference, the amount the carrier paid, and the orders
/// ticked (each `order_<code>` = on).
pub(super) async fn carrier_remit(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(name): Path<String>,
    axum::extract::Form(form): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let back = format!(
        "/admin/carriers/{}",
        crate::domain::shop::percent_encoded(&name)
    );
    if let Some(r) = refused(&auth, Permission::ConfirmPayments, &back) {
        return r;
    }
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    if let Some(r) = super::unconfirmed(Some(&get("yes")), &back) {
        return r;
    }
    let amount = match Money::parse_major(&get("amount"), auth.shop.currency) {
        Ok(m) => m.minor,
        Err(_) => {
            return back_to(
                &back,
                "error",
                "Write the amount the carrier paid, e.g. 1,250",
            );
        }
    };
    let orders: Vec<(String, Option<i64>)> = form
        .iter()
        .filter(|(k, _)| k != "order_")
        .filter_map(|(k, _)| k.strip_prefix("order_"))
        .map(|code| (code.to_string(), None))
        .collect();
    if orders.is_empty() {
        return back_to(&back, "error", "Tick the orders this payment is for");
    }
    let remit = Remit {
        carrier: name.clone(),
        reference: get("reference"),
        amount,
        orders,
        note: Some(get("note")),
    };
    match remittances::record(
        &state.db,
        &auth.shop,
        &remit,
        &auth.actor(),
        crate::clock::now(),
    )
    .await
    {
        Ok(r) => {
            let mut words = format!("Recorded: {} orders collected", r.orders.len());
            if r.difference != 0 {
                let d = money(&auth, r.difference.abs());
                words.push_str(&if r.difference > 0 {
                    format!("; {d} more than they owed")
                } else {
                    format!("; {d} short of what they owed")
                });
            }
            back_to(&back, "notice", &words)
        }
        Err(e) => back_to(&back, "error", &ApiError::from(e).message()),
    }
}
