//! The shop's settings over the API: anyone reads them, only a role with
//! `change_settings` (the owner) replaces them.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::domain::shop::ShopSettings;
use crate::store::shops;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// `GET /api/v1/settings`.
pub async fn get(auth: Auth) -> Json<Value> {
    Json(json!({ "settings": auth.shop.settings }))
}

fn check(s: &ShopSettings) -> ApiResult<()> {
    let bad = |m: &str| Err(ApiError::Unprocessable(m.into()));
    if s.hold_hours < 1 {
        return bad("hold_hours must be at least 1");
    }
    if s.reminder_before_hours < 0 || s.reminder_before_hours >= s.hold_hours {
        return bad("reminder_before_hours must be 0 or more and less than hold_hours");
    }
    if s.shipping_flat_fee < 0 || s.free_shipping_over.is_some_and(|x| x < 0) {
        return bad("shipping fees cannot be negative");
    }
    if !(-14 * 60..=14 * 60).contains(&s.utc_offset_minutes) {
        return bad("utc_offset_minutes must be within ±14 hours");
    }
    Ok(())
}

/// `PUT /api/v1/settings`: the whole object, as `GET` returns it.
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    Json(settings): Json<ShopSettings>,
) -> ApiResult<Json<Value>> {
    check(&settings)?;
    shops::update_settings(&state.db, auth.shop.id, &settings).await?;
    Ok(Json(json!({ "settings": settings })))
}
