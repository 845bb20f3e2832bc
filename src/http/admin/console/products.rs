//! The console's products: create, adjust stock, upload and arrange
//! pictures.

use super::{Console, Flash, back_to, can, money, page, page_error, refused, unread_total};
use crate::app::AppState;
use crate::app::pictures as app_pictures;
use crate::domain::access::Permission;
use crate::domain::{ProductId, VariantId};
use crate::http::admin::error::ApiError;
use crate::http::admin::pictures as api_pictures;
use crate::store::catalog::{self, NewProduct, NewVariant};
use crate::store::{listing, pictures};
use axum::extract::multipart::{Multipart, MultipartRejection};
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
    let mut rows: Vec<Value> = Vec::with_capacity(products.len());
    for p in &products {
        let pictures = match pictures::list(&state.db, auth.shop.id, p.id).await {
            Ok(list) => list,
            Err(e) => return page_error(e.into()),
        };
        rows.push(json!({
                "id": p.id, "name": p.name, "active": p.active, "description": p.description, "category": p.category,
                "price_text": crate::domain::Money::new(p.price, auth.shop.currency).to_decimal_string(),
                "image_url": p.image_url,
                "pictures": pictures.iter().map(|x| json!({"id": x.id, "url": x.url()})).collect::<Vec<_>>(),
                "pasted_image": p.image_url.as_deref().filter(|_| pictures.is_empty()),
                "variants": p.variants.iter().map(|v| json!({
                    "id": v.id, "name": v.name, "price": money(&auth, p.price_of(v)), "stock": v.stock,
                    "own_price": v.price.map(|x| crate::domain::Money::new(x, auth.shop.currency).to_decimal_string()),
                })).collect::<Vec<_>>(),
        }));
    }
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/products.html",
        context! { shop => auth.shop.name.clone(), unread => unread, products => rows, error => f.error, notice => f.notice, can => can(&auth), currency => auth.shop.currency.code() },
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
    // Typed as the seller reads it: baht or dong, not minor units.
    let price = form
        .get("price")
        .and_then(|s| crate::domain::Money::parse_major(s.trim(), auth.shop.currency).ok())
        .map(|m| m.minor);
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

/// `POST /admin/products/{id}/pictures`: the file input's pictures.
pub(super) async fn picture_upload(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let back = "/admin/products";
    if let Some(r) = refused(&auth, Permission::EditProductsAndStock, back) {
        return r;
    }
    let files = match api_pictures::files(multipart).await {
        Ok(f) => f,
        Err(e) => {
            return back_to(
                back,
                "error",
                &format!("No picture was added: {}", e.message()),
            );
        }
    };
    let count = files.len();
    for (i, bytes) in files.into_iter().enumerate() {
        if let Err(e) = app_pictures::upload(&state, auth.shop.id, ProductId(id), bytes).await {
            let which = if count > 1 {
                format!(" (picture {} of {count})", i + 1)
            } else {
                String::new()
            };
            let kept = if i > 0 {
                format!("; the {i} before it were added")
            } else {
                String::new()
            };
            return back_to(back, "error", &format!("Not added{which}: {e}{kept}"));
        }
    }
    back_to(
        back,
        "notice",
        if count == 1 {
            "Picture added"
        } else {
            "Pictures added"
        },
    )
}

/// `POST /admin/products/{id}/pictures/{picture}/{delete|first}`.
pub(super) async fn picture_action(
    State(state): State<AppState>,
    Console(auth): Console,
    Path((id, picture, action)): Path<(i64, i64, String)>,
) -> Response {
    let back = "/admin/products";
    if let Some(r) = refused(&auth, Permission::EditProductsAndStock, back) {
        return r;
    }
    let product = ProductId(id);
    let (done, said) = match action.as_str() {
        "delete" => (
            app_pictures::remove(&state, auth.shop.id, product, picture).await,
            "Picture deleted",
        ),
        "first" => (
            app_pictures::make_first(&state, auth.shop.id, product, picture).await,
            "This picture is now the first: customers see it on the product's card",
        ),
        _ => return back_to(back, "error", "Unknown action"),
    };
    match done {
        Ok(()) => back_to(back, "notice", said),
        Err(e) => back_to(back, "error", &e.to_string()),
    }
}
