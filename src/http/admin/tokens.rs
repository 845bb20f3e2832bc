//! API tokens over the API (the CLI has the same): manage_tokens, the owner's.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::store::StoreError;
use crate::store::tokens::{self, Role};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

/// `GET /api/v1/tokens`.
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "tokens": tokens::list(&state.db, auth.shop.id).await? }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub label: String,
    pub role: Role,
}

/// `POST /api/v1/tokens`: the plaintext token is in this answer only.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let label = b.label.trim();
    if label.is_empty() || label.len() > 100 {
        return Err(ApiError::Unprocessable(
            "label must be 1 to 100 characters".into(),
        ));
    }
    let (token, info) =
        tokens::create(&state.db, auth.shop.id, label, b.role, crate::clock::now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "info": info })),
    ))
}

/// `DELETE /api/v1/tokens/{id}`: revokes at once.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    tokens::revoke(&state.db, auth.shop.id, id, crate::clock::now())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("token"),
            o => o.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the caller is and what they read the console in.
fn me_body(auth: &Auth) -> Value {
    json!({
        "label": auth.token.label,
        "role": auth.token.role,
        "permissions": auth.token.role.permissions(),
        "language": auth.token.language,
        "reads_in": super::lang::of(auth),
        "languages": super::lang::LANGUAGES
            .iter()
            .map(|(code, name)| json!({ "code": code, "name": name }))
            .collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/me`.
pub async fn me(auth: Auth) -> Json<Value> {
    Json(me_body(&auth))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyLanguage {
    /// `en`, `th`, `vi`; `null`: the shop's.
    pub language: Option<String>,
}

/// `PATCH /api/v1/me`: the caller's own console language.
pub async fn set_my_language(
    State(state): State<AppState>,
    mut auth: Auth,
    Json(b): Json<MyLanguage>,
) -> ApiResult<Json<Value>> {
    let language = match b.language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(tag) => Some(
            super::lang::known(tag).ok_or_else(|| ApiError::InvalidField {
                field: "language".into(),
                reason: format!("{tag:?} is not one of en, th, vi (or null for the shop's)"),
            })?,
        ),
    };
    tokens::set_language(&state.db, auth.shop.id, auth.token.id, language).await?;
    auth.token.language = language.map(str::to_string);
    Ok(Json(me_body(&auth)))
}
