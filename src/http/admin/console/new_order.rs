//! The console's "New order": a person of the shop makes an order for a
//! customer who phoned or walked in, through the same `app::shop_orders`
//! and permission as `POST /api/v1/orders`.

use super::{Console, back_to, can, money, page, page_error, refused, unread_total};
use crate::app::AppState;
use crate::app::shop_orders::{self, ForCustomer, ShopOrder};
use crate::domain::access::Permission;
use crate::domain::order::PaymentMethod;
use crate::domain::phone::calling_code_for;
use crate::domain::{Address, CustomerName, Money, PhoneNumber, VariantId};
use crate::http::admin::error::ApiError;
use crate::store::catalog;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Item rows the form offers.
const ROWS: usize = 5;

pub(super) async fn new_order_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let products = match catalog::list_products(&state.db, auth.shop.id, false).await {
        Ok(p) => p,
        Err(e) => return page_error(e.into()),
    };
    let choices: Vec<Value> = products
        .iter()
        .flat_map(|p| {
            p.variants.iter().map(|v| {
                let name = if v.name.is_empty() {
                    p.name.clone()
                } else {
                    format!("{} ({})", p.name, v.name)
                };
                let lang = crate::http::admin::lang::of(&auth);
                let stock = match v.stock {
                    None => crate::http::admin::lang::text(lang, "in stock").into_owned(),
                    Some(s) => crate::http::admin::lang::with_places(lang, "{count} left", |_| {
                        Some(s.to_string())
                    }),
                };
                json!({"id": v.id.get(), "label": format!("{name} · {} · {stock}", money(&auth, p.price_of(v)))})
            })
        })
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/new_order.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, can => can(&auth),
            variants => choices, rows => (1..=ROWS).collect::<Vec<_>>(),
            currency => auth.shop.currency.code(),
            error => q.get("error"), notice => q.get("notice"),
        },
    )
}

/// The form as the shop's order; a wrong value comes back in words.
fn from_form(
    form: &HashMap<String, String>,
    auth: &crate::http::admin::auth::Auth,
) -> Result<ShopOrder, String> {
    let get = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let code = calling_code_for(auth.shop.currency);
    let phone = PhoneNumber::parse(get("phone"), code).map_err(|e| format!("Phone: {e}"))?;
    let name = CustomerName::parse(get("name")).map_err(|e| format!("Name: {e}"))?;
    let mut items = Vec::new();
    for i in 1..=ROWS {
        let (v, q) = (get(&format!("variant_{i}")), get(&format!("qty_{i}")));
        if v.is_empty() {
            continue;
        }
        let variant = v
            .parse::<i64>()
            .map_err(|_| format!("Item {i}: choose a product"))?;
        let qty = q
            .parse::<i64>()
            .map_err(|_| format!("Item {i}: how many?"))?;
        items.push((VariantId(variant), qty));
    }
    let address = if get("line").is_empty() {
        None
    } else {
        Some(Address {
            full_name: if get("address_name").is_empty() {
                name.as_str().to_string()
            } else {
                get("address_name").to_string()
            },
            phone: phone.clone(),
            line: get("line").to_string(),
            province: get("province").to_string(),
            district: get("district").to_string(),
            postcode: Some(get("postcode").to_string()).filter(|p| !p.is_empty()),
        })
    };
    let method = match get("method") {
        "" => None,
        m => Some(
            PaymentMethod::parse(m)
                .filter(|m| *m != PaymentMethod::Balance)
                .ok_or("Payment: choose a way to pay")?,
        ),
    };
    let shipping_fee = match get("shipping_fee") {
        "" => None,
        f => Some(
            Money::parse_major(f, auth.shop.currency)
                .map_err(|e| format!("Shipping fee: {e}"))?
                .minor,
        ),
    };
    Ok(ShopOrder {
        customer: ForCustomer::ByPhone { phone, name },
        items,
        address,
        method,
        shipping_fee,
    })
}

pub(super) async fn new_order(
    State(state): State<AppState>,
    Console(auth): Console,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = "/admin/orders/new";
    if let Some(r) = refused(&auth, Permission::RunFulfilment, back) {
        return r;
    }
    let req = match from_form(&form, &auth) {
        Ok(r) => r,
        Err(why) => return back_to(back, "error", &why),
    };
    match shop_orders::make(
        &state.db,
        &auth.shop,
        req,
        &auth.actor(),
        crate::clock::now(),
    )
    .await
    {
        Ok(order) => {
            state.outbox_wake.notify_one();
            Redirect::to(&format!("/admin/orders/{}?notice=Order%20made", order.id)).into_response()
        }
        Err(e) => match ApiError::from(e) {
            ApiError::Internal => page_error(ApiError::Internal),
            e => back_to(back, "error", &e.message()),
        },
    }
}
