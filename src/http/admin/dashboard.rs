//! The shop's dashboard figures: orders and revenue per day, pending slips.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::store::listing;
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Deserialize)]
pub struct DashQuery {
    pub days: Option<i64>,
}

/// `GET /api/v1/dashboard?days=14`.
pub async fn summary(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<DashQuery>,
) -> ApiResult<Json<Value>> {
    let days = q.days.unwrap_or(14);
    if !(1..=366).contains(&days) {
        return Err(ApiError::InvalidField {
            field: "days".into(),
            reason: "1 to 366 days".into(),
        });
    }
    let d = listing::dashboard(
        &state.db,
        auth.shop.id,
        days,
        &auth.shop.settings.calendar(),
        crate::clock::now(),
    )
    .await?;
    Ok(Json(
        json!({ "currency": auth.shop.currency.code(), "dashboard": d }),
    ))
}
