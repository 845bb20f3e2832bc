//! The seller's inbox: conversations with new / total counts, reading one
//! (marks it read), replying, pausing and resuming the bot.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::orders::idempotency_key;
use crate::app::AppState;
use crate::domain::CustomerId;
use crate::store::{StoreError, seller_inbox};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

fn nf(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("conversation"),
        o => o.into(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub unread: Option<bool>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/conversations`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let rows = seller_inbox::list(
        &state.db,
        auth.shop.id,
        q.unread.unwrap_or(false),
        q.limit.unwrap_or(50),
    )
    .await?;
    let unread_total: i64 = rows.iter().map(|r| r.unread).sum();
    Ok(Json(
        json!({ "conversations": rows, "unread": unread_total }),
    ))
}

/// `GET /api/v1/conversations/{customer_id}`: messages; marks them read.
pub async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let c = CustomerId(id);
    let conv = seller_inbox::get(&state.db, auth.shop.id, c)
        .await
        .map_err(nf)?;
    let messages = seller_inbox::messages(&state.db, auth.shop.id, c, 200).await?;
    seller_inbox::mark_read(&state.db, auth.shop.id, c, crate::clock::now()).await?;
    Ok(Json(json!({ "conversation": conv, "messages": messages })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    pub text: String,
}

/// `POST /api/v1/conversations/{customer_id}/reply`.
pub async fn reply(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<ReplyBody>,
) -> ApiResult<Json<Value>> {
    let text = body.text.trim();
    if text.is_empty() {
        return Err(ApiError::Unprocessable("the reply is empty".into()));
    }
    if text.chars().count() > 2000 {
        return Err(ApiError::Unprocessable(
            "a reply is at most 2000 characters".into(),
        ));
    }
    let key = idempotency_key(&headers)?;
    let m = seller_inbox::reply(
        &state.db,
        auth.shop.id,
        CustomerId(id),
        text,
        key.as_deref(),
        crate::clock::now(),
    )
    .await
    .map_err(nf)?;
    Ok(Json(json!({ "message": m })))
}

async fn set_paused(
    state: &AppState,
    auth: &Auth,
    id: i64,
    paused: bool,
) -> ApiResult<Json<Value>> {
    seller_inbox::set_bot_paused(
        &state.db,
        auth.shop.id,
        CustomerId(id),
        paused,
        crate::clock::now(),
    )
    .await
    .map_err(nf)?;
    Ok(Json(json!({ "customer_id": id, "bot_paused": paused })))
}

/// `POST /api/v1/conversations/{customer_id}/pause`.
pub async fn pause(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    set_paused(&state, &auth, id, true).await
}

/// `POST /api/v1/conversations/{customer_id}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    set_paused(&state, &auth, id, false).await
}
