//! Carriers over the API: what each owes for cash on delivery, its open
//! COD orders, and the remittances it paid.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::remittances::{self, Remit, RemitError};
use crate::domain::shop::ShopSettings;
use crate::store::carriers::{self, Owed};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

impl From<RemitError> for ApiError {
    fn from(e: RemitError) -> Self {
        match e {
            RemitError::BadInput(m) => match m.split_once(": ") {
                Some((field, reason)) if !field.contains(' ') => ApiError::InvalidField {
                    field: field.to_string(),
                    reason: reason.to_string(),
                },
                _ => ApiError::Unprocessable(m),
            },
            RemitError::UnknownCarrier(_) | RemitError::NoOrder(_) => {
                ApiError::NotFound(e.to_string())
            }
            RemitError::NotCod(_) => ApiError::Unprocessable(e.to_string()),
            RemitError::Duplicate { .. } | RemitError::Order { .. } => {
                ApiError::conflict(e.to_string())
            }
            RemitError::Store(s) => s.into(),
        }
    }
}

/// Every carrier of the shop's settings, and any other name orders were
/// shipped with that still has cash open, with what each owes.
pub fn owed_by_carrier(settings: &ShopSettings, owed: Vec<Owed>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut rest = owed;
    for (name, c) in &settings.carriers {
        let o = rest
            .iter()
            .position(|o| o.carrier == *name)
            .map(|at| rest.remove(at))
            .unwrap_or_else(|| Owed {
                carrier: name.clone(),
                ..Owed::default()
            });
        out.push(
            json!({"name": name, "tracking_url": c.tracking_url, "collects_cod": c.collects_cod,
                        "in_settings": true, "owed": o}),
        );
    }
    for o in rest {
        out.push(
            json!({"name": o.carrier, "tracking_url": null, "collects_cod": false,
                        "in_settings": false, "owed": o}),
        );
    }
    out
}

/// `GET /api/v1/carriers`.
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let owed = carriers::owed(&state.db, auth.shop.id).await?;
    Ok(Json(json!({
        "carriers": owed_by_carrier(&auth.shop.settings, owed),
    })))
}

/// `GET /api/v1/carriers/{name}/cod-orders`.
pub async fn cod_orders(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let carrier = known(&auth.shop.settings, &name)?;
    let orders = carriers::cod_orders(&state.db, auth.shop.id, &carrier).await?;
    Ok(Json(json!({ "carrier": carrier, "orders": orders })))
}

fn known(settings: &ShopSettings, name: &str) -> ApiResult<String> {
    settings
        .carrier(name)
        .map(|(n, _)| n.to_string())
        .ok_or_else(|| ApiError::NotFound(format!("{name} is not one of the shop's carriers")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemitOrder {
    pub code: String,
    pub amount: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemitBody {
    pub reference: String,
    pub amount: i64,
    pub orders: Vec<RemitOrder>,
    pub note: Option<String>,
}

impl RemitBody {
    pub fn into_remit(self, carrier: String) -> Remit {
        Remit {
            carrier,
            reference: self.reference,
            amount: self.amount,
            orders: self
                .orders
                .into_iter()
                .map(|o| (o.code, o.amount))
                .collect(),
            note: self.note,
        }
    }
}

/// `POST /api/v1/carriers/{name}/remittances`.
pub async fn remit(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    body: Result<Json<RemitBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let recorded = remittances::record(
        &state.db,
        &auth.shop,
        &body.into_remit(name),
        &auth.actor(),
        crate::clock::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(recorded))))
}

#[derive(Deserialize)]
pub struct ListQuery {
    carrier: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/remittances`.
pub async fn remittances(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let carrier = q
        .carrier
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| known(&auth.shop.settings, c))
        .transpose()?;
    let list = carriers::list(
        &state.db,
        auth.shop.id,
        carrier.as_deref(),
        q.limit.unwrap_or(50),
    )
    .await?;
    Ok(Json(json!({ "remittances": list })))
}

/// `GET /api/v1/orders/{id}/parcel`: what booking the parcel with a carrier
/// needs, in machine terms: who it goes to, what is in it, what the carrier
/// must collect. A booking integration reads this, books with the carrier,
/// then reports back with `ship` (carrier, tracking), `track` and
/// `remittances`.
pub async fn parcel(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let order = crate::store::orders::load(&state.db, auth.shop.id, crate::domain::OrderId(id))
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => ApiError::not_found("order"),
            e => e.into(),
        })?;
    let t = order.totals();
    let cod = order.payment == crate::domain::PaymentStatus::CodPending;
    let carrier = order
        .carrier
        .as_deref()
        .and_then(|c| auth.shop.settings.carrier(c));
    Ok(Json(json!({
        "order": {"id": order.id.get(), "code": order.code.as_str()},
        "sender": {"name": auth.shop.name},
        "recipient": order.address,
        "items": order.lines.iter().filter(|l| l.status != crate::domain::order::LineStatus::Refused)
            .map(|l| json!({"name": l.name, "variant": l.variant_name, "qty": l.qty, "unit_price": l.unit_price}))
            .collect::<Vec<_>>(),
        "services": order.services.iter().map(|s| json!({"id": s.id, "name": s.name, "done": s.done})).collect::<Vec<_>>(),
        "declared_value": t.subtotal.minor,
        "currency": order.currency.code(),
        "cash_on_delivery": if cod { t.remaining.minor } else { 0 },
        "fulfilment": order.fulfilment,
        "carrier": order.carrier,
        "carrier_collects_cod": carrier.map(|(_, c)| c.collects_cod),
        "tracking": order.tracking,
        "tracking_status": order.tracking_status,
    })))
}
