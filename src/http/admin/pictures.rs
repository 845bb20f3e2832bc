//! Product pictures over the API: upload (multipart, one or more files),
//! list, delete, put first. The public copies are served by `http::media`.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::pictures::{self, PictureError};
use crate::domain::ProductId;
use crate::slips::analyze::DEFAULT_MAX_BYTES;
use crate::store::pictures::{self as store, Picture};
use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// A request may carry this many files at once.
pub const MAX_FILES: usize = 10;
/// The body limit of an upload: every file at the slip limit, plus room
/// for the multipart framing. Each file is also checked on its own.
pub const MAX_UPLOAD_BYTES: usize = DEFAULT_MAX_BYTES * 2 + 64 * 1024;

impl From<PictureError> for ApiError {
    fn from(e: PictureError) -> Self {
        match e {
            PictureError::NotFound => ApiError::not_found("product"),
            PictureError::Refused(m) => ApiError::InvalidField {
                field: "file".into(),
                reason: m,
            },
            PictureError::Conflict(m) => ApiError::conflict(m),
            PictureError::Io(e) => {
                tracing::error!(error = %e, "a product picture could not be written to the media folder");
                ApiError::Internal
            }
            PictureError::Store(e) => e.into(),
        }
    }
}

pub fn view(p: &Picture, public_url: &str) -> Value {
    json!({
        "id": p.id, "position": p.position, "width": p.width, "height": p.height, "bytes": p.bytes,
        "url": format!("{public_url}{}", p.url()),
    })
}

async fn views(state: &AppState, auth: &Auth, product: ProductId) -> ApiResult<Value> {
    let list = store::list(&state.db, auth.shop.id, product)
        .await
        .map_err(PictureError::from)?;
    Ok(json!({
        "pictures": list.iter().map(|p| view(p, &state.config.public_url)).collect::<Vec<_>>()
    }))
}

/// The files of a multipart body, each under the size limit, in order.
pub async fn files(multipart: Result<Multipart, MultipartRejection>) -> ApiResult<Vec<Vec<u8>>> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::BadRequest(format!(
            "send the picture as multipart/form-data with a part named file ({e})"
        ))
    })?;
    let too_large = || {
        ApiError::TooLarge(format!(
            "a picture is at most {} MiB",
            DEFAULT_MAX_BYTES / (1024 * 1024)
        ))
    };
    let mut out = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => {
                return Err(ApiError::BadRequest(format!(
                    "a broken multipart body: {e}"
                )));
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        if out.len() == MAX_FILES {
            return Err(ApiError::BadRequest(format!(
                "at most {MAX_FILES} pictures at once"
            )));
        }
        let mut field = field;
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > DEFAULT_MAX_BYTES {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => {
                    return Err(ApiError::BadRequest(format!(
                        "a broken multipart body: {e}"
                    )));
                }
            }
        }
        if !bytes.is_empty() {
            out.push(bytes);
        }
    }
    if out.is_empty() {
        return Err(ApiError::InvalidField {
            field: "file".into(),
            reason: "no picture in the upload: add a part named file".into(),
        });
    }
    Ok(out)
}

/// `POST /api/v1/products/{id}/pictures`: multipart, parts named `file`.
/// All or nothing per file, in order: a refused file stops the upload and
/// says which one; the ones before it are kept.
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let product = ProductId(id);
    // Another shop's product is not there, whatever the body holds.
    store::room_for_one(&state.db, auth.shop.id, product)
        .await
        .map_err(PictureError::from)?;
    let files = files(multipart).await?;
    let count = files.len();
    for (i, bytes) in files.into_iter().enumerate() {
        pictures::upload(&state, auth.shop.id, product, bytes)
            .await
            .map_err(|e| match ApiError::from(e) {
                ApiError::InvalidField { field, reason } if count > 1 => ApiError::InvalidField {
                    field,
                    reason: format!("file {} of {count}: {reason}", i + 1),
                },
                other => other,
            })?;
    }
    Ok((
        StatusCode::CREATED,
        Json(views(&state, &auth, product).await?),
    ))
}

/// `GET /api/v1/products/{id}/pictures`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(views(&state, &auth, ProductId(id)).await?))
}

/// `DELETE /api/v1/products/{id}/pictures/{picture}`.
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, picture)): Path<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    pictures::remove(&state, auth.shop.id, ProductId(id), picture)
        .await
        .map_err(|e| match e {
            PictureError::NotFound => ApiError::not_found("picture"),
            e => e.into(),
        })?;
    Ok(Json(views(&state, &auth, ProductId(id)).await?))
}

/// `POST /api/v1/products/{id}/pictures/{picture}/first`: the card's picture.
pub async fn make_first(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, picture)): Path<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    pictures::make_first(&state, auth.shop.id, ProductId(id), picture)
        .await
        .map_err(|e| match e {
            PictureError::NotFound => ApiError::not_found("picture"),
            e => e.into(),
        })?;
    Ok(Json(views(&state, &auth, ProductId(id)).await?))
}
