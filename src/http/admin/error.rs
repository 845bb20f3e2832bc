//! Every admin failure as a status and a JSON body `{"error": "..."}`; a
//! conflict about an order also names its current state, a refusal the
//! permission the token's role lacks (`permission`, `role`).

use crate::app::orders::ApplyError;
use crate::domain::Order;
use crate::domain::access::{Permission, Role};
use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    /// A value the caller sent that breaks a rule: which one and why.
    InvalidField {
        field: String,
        reason: String,
    },
    Unauthorized(String),
    Forbidden(String),
    /// The token's role lacks a permission (see `domain::access`).
    Denied {
        permission: Permission,
        role: Role,
    },
    NotFound(String),
    Conflict {
        message: String,
        state: Option<(String, String)>,
    },
    Unprocessable(String),
    /// The body is over a size limit, which the message names.
    TooLarge(String),
    /// A body that is not the kind the route reads (JSON, say).
    UnsupportedMediaType(String),
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    Internal,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(format!("{what} not found"))
    }
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            message: message.into(),
            state: None,
        }
    }
    /// A conflict that names the order's current state.
    pub fn order_conflict(message: impl Into<String>, order: &Order) -> ApiError {
        ApiError::Conflict {
            message: message.into(),
            state: Some((
                order.fulfilment.as_str().into(),
                order.payment.as_str().into(),
            )),
        }
    }
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidField { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::Denied { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    pub fn message(&self) -> String {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Unprocessable(m)
            | ApiError::TooLarge(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::Conflict { message: m, .. }
            | ApiError::TooManyRequests { message: m, .. } => m.clone(),
            ApiError::Denied { permission, role } => format!(
                "a {role} token may not {} (needs the permission {permission})",
                permission.describe()
            ),
            ApiError::InvalidField { field, reason } => format!("{field}: {reason}"),
            ApiError::Internal => "internal error".into(),
        }
    }
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({ "error": self.message() });
        if let ApiError::Conflict {
            state: Some((f, p)),
            ..
        } = self
        {
            body["fulfilment"] = json!(f);
            body["payment"] = json!(p);
        }
        if let ApiError::InvalidField { field, reason } = self {
            body["field"] = json!(field);
            body["reason"] = json!(reason);
        }
        if let ApiError::Denied { permission, role } = self {
            body["permission"] = json!(permission.as_str());
            body["role"] = json!(role.as_str());
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), Json(self.body())).into_response();
        match &self {
            ApiError::Unauthorized(_) => {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"chatbill\""),
                );
            }
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Conflict(m) => ApiError::conflict(m),
            StoreError::Stale => ApiError::conflict("changed concurrently, try again"),
            other => {
                tracing::error!(error = %other, "admin store error");
                ApiError::Internal
            }
        }
    }
}

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::NotFound => ApiError::not_found("order"),
            ApplyError::Rejected(r) if r.is_conflict() => ApiError::conflict(r.to_string()),
            ApplyError::Rejected(r) => ApiError::Unprocessable(r.to_string()),
            ApplyError::OutOfStock(name) => ApiError::conflict(format!("{name} is out of stock")),
            ApplyError::Balance(b) => ApiError::conflict(b.to_string()),
            ApplyError::Denied { permission, role } => ApiError::Denied { permission, role },
            ApplyError::Store(s) => s.into(),
        }
    }
}
