//! The console's products: create, adjust stock.

use super::{Console, Flash, back_to, can, money, page, page_error, refused, unread_total};
use crate::app::AppState;
use crate::domain::VariantId;
use crate::domain::access::Permission;
use crate::http::admin::error::ApiError;
use crate::store::catalog::{self, NewProduct, NewVariant};
use crate::store::listing;
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use minijinja::context;
use serde_json::{Value, json};
use std::collections::HashMap;

pub(super) async fn products_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(f): Query<Flash>,
) -> Response {
    let products = match catalog::list_products(&state.db, auth.shop.id, true).await {
        Ok(p) => p,
        Err(e) => return page_error(e.into()),
    };
    let rows: Vec<Value> = products
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "name": p.name, "active": p.active,
                "variants": p.variants.iter().map(|v| json!({
                    "id": v.id, "name": v.name, "price": money(&auth, p.price_of(v)), "stock": v.stock,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        "admin/products.html",
        context! { shop => auth.shop.name.clone(), unread => unread, products => rows, error => f.error, notice => f.notice, can => can(&auth) },
    )
}

pub(super) async fn product_create(
    State(state): State<AppState>,
    Console(auth): Console,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = "/admin/products";
    if let Some(r) = refused(&auth, Permission::EditProductsAndStock, back) {
        return r;
    }
    let name = form
        .get("name")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let price = form.get("price").and_then(|s| s.trim().parse::<i64>().ok());
    let stock = match form
        .get("stock")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return back_to(back, "error", "Stock must be a whole number, 0 or more"),
        },
    };
    let (Some(price), false) = (price.filter(|p| *p >= 0), name.is_empty()) else {
        return back_to(
            back,
            "error",
            "A product needs a name and a price (0 or more)",
        );
    };
    let p = NewProduct {
        name,
        description: String::new(),
        category: String::new(),
        image_url: None,
        price,
        variants: vec![NewVariant {
            name: String::new(),
            price: None,
            stock,
        }],
    };
    match catalog::create_product(&state.db, auth.shop.id, &p, crate::clock::now()).await {
        Ok(_) => back_to(back, "notice", "Product added"),
        Err(e) => back_to(back, "error", &ApiError::from(e).message()),
    }
}

pub(super) async fn variant_stock(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = "/admin/products";
    if let Some(r) = refused(&auth, Permission::EditProductsAndStock, back) {
        return r;
    }
    let Some(delta) = form
        .get("delta")
        .and_then(|s| s.trim().trim_start_matches('+').parse::<i64>().ok())
    else {
        return back_to(back, "error", "Give a whole number, e.g. 5 or -2");
    };
    match listing::variant_exists(&state.db, auth.shop.id, VariantId(id)).await {
        Ok(true) => {}
        Ok(false) => return back_to(back, "error", "No such variant"),
        Err(e) => return back_to(back, "error", &ApiError::from(e).message()),
    }
    match catalog::adjust_stock(&state.db, auth.shop.id, VariantId(id), delta).await {
        Ok(_) => back_to(back, "notice", "Stock updated"),
        Err(e) => back_to(back, "error", &ApiError::from(e).message()),
    }
}
