//! The shop's settings over the API: anyone reads them, only a role with
//! `change_settings` (the owner) changes them, and every change is kept in
//! the settings history.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::settings::{self, ChangeError, Edit};
use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Invalid(e) => ApiError::InvalidField {
                field: e.field,
                reason: e.reason,
            },
            ChangeError::Store(e) => e.into(),
        }
    }
}

/// `GET /api/v1/settings`.
pub async fn get(auth: Auth) -> Json<Value> {
    let s = &auth.shop.settings;
    Json(json!({ "settings": s, "warnings": settings::warnings(s) }))
}

async fn change(state: &AppState, auth: &Auth, edit: Edit<'_>) -> ApiResult<Json<Value>> {
    let changed = settings::change(
        &state.db,
        &auth.shop,
        edit,
        &auth.actor(),
        crate::clock::now(),
    )
    .await?;
    state.shop_views.forget(auth.shop.id);
    tracing::info!(shop = auth.shop.id.get(), fields = ?changed.fields, "settings changed");
    Ok(Json(json!({
        "settings": changed.settings,
        "changed": changed.fields,
        "warnings": settings::warnings(&changed.settings),
    })))
}

/// `PATCH /api/v1/settings`: a JSON merge patch of the settings to change.
pub async fn patch(
    State(state): State<AppState>,
    auth: Auth,
    Json(patch): Json<Value>,
) -> ApiResult<Json<Value>> {
    change(&state, &auth, Edit::Patch(&patch)).await
}

/// `PUT /api/v1/settings`: the whole object, as `GET` returns it.
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    Json(whole): Json<Value>,
) -> ApiResult<Json<Value>> {
    change(&state, &auth, Edit::Replace(&whole)).await
}

#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/settings/history`: who changed which settings when,
/// newest first.
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be from 1 to 200".into()));
    }
    let changes =
        crate::store::shops::settings_history(&state.db, auth.shop.id, q.before, limit).await?;
    let next = (changes.len() as i64 == limit)
        .then(|| changes.last().map(|c| c.id))
        .flatten();
    Ok(Json(json!({ "changes": changes, "next_before": next })))
}
