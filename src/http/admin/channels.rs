//! The shop's Facebook Page over the API (owner only): list, bind or
//! replace the token (checked with Meta first), unbind, and set the Page's
//! menu. No route ever returns a token.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::channels::{self, ChannelError};
use crate::store::shops;
use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

impl From<ChannelError> for ApiError {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::Invalid(m) => ApiError::BadRequest(m),
            ChannelError::Refused(m) => ApiError::Unprocessable(m),
            ChannelError::Taken => ApiError::conflict(ChannelError::Taken.to_string()),
            e @ ChannelError::NotBound(_) => ApiError::NotFound(e.to_string()),
            ChannelError::Store(e) => e.into(),
        }
    }
}

/// `GET /api/v1/channels`.
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let channels: Vec<Value> = shops::channels_of(&state.db, auth.shop.id)
        .await?
        .iter()
        .map(|c| json!({"channel": c.channel, "id": c.external_id, "has_token": c.access_token.is_some()}))
        .collect();
    Ok(Json(json!({ "channels": channels })))
}

#[derive(serde::Deserialize)]
pub struct BindBody {
    page_id: String,
    access_token: String,
}

/// `PUT /api/v1/channels/messenger`: bind a Page or replace its token.
pub async fn bind(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<BindBody>,
) -> ApiResult<Json<Value>> {
    let page = channels::bind_messenger(
        &state,
        &auth.shop,
        &b.page_id,
        &b.access_token,
        crate::clock::now(),
    )
    .await?;
    Ok(Json(json!({ "page": page, "checked": true })))
}

/// `DELETE /api/v1/channels/messenger/{page_id}`.
pub async fn unbind(
    State(state): State<AppState>,
    auth: Auth,
    Path(page): Path<String>,
) -> ApiResult<Json<Value>> {
    channels::unbind_messenger(&state, &auth.shop, &page).await?;
    Ok(Json(json!({ "unbound": page })))
}

/// `POST /api/v1/channels/messenger/{page_id}/setup`.
pub async fn setup(
    State(state): State<AppState>,
    auth: Auth,
    Path(page): Path<String>,
) -> ApiResult<Json<Value>> {
    channels::messenger_setup(&state, &auth.shop, &page).await?;
    Ok(Json(json!({ "page": page, "menu": "set" })))
}
