//! Products and variants: CRUD, stock adjustment, the product image.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::{ProductId, VariantId};
use crate::store::StoreError;
use crate::store::catalog::{self, NewProduct};
use crate::store::listing::{self, ProductPatch};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

fn nf(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(what),
        StoreError::Conflict(m) => ApiError::Unprocessable(m),
        o => o.into(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub include_inactive: Option<bool>,
}

/// `GET /api/v1/products`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let products =
        catalog::list_products(&state.db, auth.shop.id, q.include_inactive.unwrap_or(true)).await?;
    Ok(Json(json!({ "products": products })))
}

/// `POST /api/v1/products`.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(p): Json<NewProduct>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if p.name.trim().is_empty() {
        return Err(ApiError::Unprocessable("a product needs a name".into()));
    }
    check_price(Some(p.price), "price")?;
    for (i, v) in p.variants.iter().enumerate() {
        check_price(v.price, &format!("variants[{i}].price"))?;
        check_stock(v.stock, &format!("variants[{i}].stock"))?;
    }
    if let Some(url) = &p.image_url {
        check_image_url(url)?;
    }
    let product = catalog::create_product(&state.db, auth.shop.id, &p, crate::clock::now())
        .await
        .map_err(nf("product"))?;
    Ok((StatusCode::CREATED, Json(json!({ "product": product }))))
}

/// `GET /api/v1/products/{id}`.
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let p = catalog::get_product(&state.db, auth.shop.id, ProductId(id))
        .await
        .map_err(nf("product"))?;
    Ok(Json(json!({ "product": p })))
}

/// `PATCH /api/v1/products/{id}`.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(patch): Json<ProductPatch>,
) -> ApiResult<Json<Value>> {
    if patch.price.is_some() {
        auth.require(Permission::ChangePricesFeesDiscounts)?;
    }
    check_price(patch.price, "price")?;
    if let Some(url) = &patch.image_url {
        check_image_url(url)?;
    }
    let id = ProductId(id);
    listing::update_product(&state.db, auth.shop.id, id, &patch, crate::clock::now())
        .await
        .map_err(nf("product"))?;
    let p = catalog::get_product(&state.db, auth.shop.id, id)
        .await
        .map_err(nf("product"))?;
    Ok(Json(json!({ "product": p })))
}

/// `DELETE /api/v1/products/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    listing::delete_product(&state.db, auth.shop.id, ProductId(id), crate::clock::now())
        .await
        .map_err(nf("product"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The most units of one variant a shop may have in stock or move at once.
pub const MAX_STOCK: i64 = 1_000_000_000;

fn check_price(price: Option<i64>, field: &str) -> ApiResult<()> {
    match price {
        Some(p) if crate::domain::money::in_range(p, field).is_err() => {
            Err(ApiError::InvalidField {
                field: field.into(),
                reason: format!(
                    "a price is 0 to {} minor units",
                    crate::domain::money::MAX_MINOR
                ),
            })
        }
        _ => Ok(()),
    }
}

fn check_stock(stock: Option<i64>, field: &str) -> ApiResult<()> {
    match stock {
        Some(n) if !(0..=MAX_STOCK).contains(&n) => Err(ApiError::InvalidField {
            field: field.into(),
            reason: format!("stock is 0 to {MAX_STOCK} (leave it out for unlimited)"),
        }),
        _ => Ok(()),
    }
}

/// The carousel's picture address: https (Meta fetches it) or the demo's.
fn check_image_url(url: &str) -> ApiResult<()> {
    let url = url.trim();
    let parses = url.starts_with("/static/") || reqwest::Url::parse(url).is_ok();
    if !(url.starts_with("https://") || url.starts_with("/static/")) || url.len() > 2000 || !parses
    {
        return Err(ApiError::InvalidField {
            field: "image_url".into(),
            reason: "an https:// address or a /static/ path, at most 2000 characters".into(),
        });
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageBody {
    pub image_url: String,
}

/// `PUT /api/v1/products/{id}/image`: the picture shown in the carousel.
pub async fn set_image(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<ImageBody>,
) -> ApiResult<Json<Value>> {
    let url = b.image_url.trim();
    check_image_url(url)?;
    let patch = ProductPatch {
        image_url: Some(url.to_string()),
        ..Default::default()
    };
    update(State(state), auth, Path(id), Json(patch)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewVariantBody {
    #[serde(default)]
    pub name: String,
    pub price: Option<i64>,
    pub stock: Option<i64>,
}

/// `POST /api/v1/products/{id}/variants`.
pub async fn add_variant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<NewVariantBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_price(b.price, "price")?;
    check_stock(b.stock, "stock")?;
    let vid = listing::add_variant(
        &state.db,
        auth.shop.id,
        ProductId(id),
        &b.name,
        b.price,
        b.stock,
    )
    .await
    .map_err(nf("product"))?;
    let p = catalog::get_product(&state.db, auth.shop.id, ProductId(id))
        .await
        .map_err(nf("product"))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "variant_id": vid, "product": p })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    pub name: Option<String>,
    /// `null` falls back to the product's price.
    #[serde(default, with = "double_option")]
    pub price: Option<Option<i64>>,
    /// `null` makes stock unlimited.
    #[serde(default, with = "double_option")]
    pub stock: Option<Option<i64>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Option::<i64>::deserialize(d).map(Some)
    }
}

/// `PATCH /api/v1/variants/{id}`.
pub async fn update_variant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<VariantPatch>,
) -> ApiResult<StatusCode> {
    if b.price.is_some() {
        auth.require(Permission::ChangePricesFeesDiscounts)?;
    }
    check_price(b.price.flatten(), "price")?;
    check_stock(b.stock.flatten(), "stock")?;
    listing::update_variant(
        &state.db,
        auth.shop.id,
        VariantId(id),
        b.name.as_deref(),
        b.price,
        b.stock,
    )
    .await
    .map_err(nf("variant"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/variants/{id}`.
pub async fn delete_variant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    listing::delete_variant(&state.db, auth.shop.id, VariantId(id), crate::clock::now())
        .await
        .map_err(nf("variant"))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockBody {
    pub delta: i64,
}

/// `POST /api/v1/variants/{id}/stock`: shift tracked stock, never below 0.
pub async fn adjust_stock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<StockBody>,
) -> ApiResult<Json<Value>> {
    if !(-MAX_STOCK..=MAX_STOCK).contains(&b.delta) {
        return Err(ApiError::InvalidField {
            field: "delta".into(),
            reason: format!("move at most {MAX_STOCK} units at once"),
        });
    }
    if !listing::variant_exists(&state.db, auth.shop.id, VariantId(id)).await? {
        return Err(ApiError::not_found("variant"));
    }
    let stock = catalog::adjust_stock(&state.db, auth.shop.id, VariantId(id), b.delta)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => ApiError::conflict(m),
            o => o.into(),
        })?;
    Ok(Json(json!({ "variant_id": id, "stock": stock })))
}
