//! Messages that did not reach the customer, over the API: the list (the
//! shop's, or one order's), and the seller's retry / send as template /
//! mark handled.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::outbound;
use crate::app::undelivered::{self as app, Resolution, UndeliveredError};
use crate::domain::{OrderId, Timestamp};
use crate::store::outbox::OutboundPayload;
use crate::store::undelivered::{self, Undelivered};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

impl From<UndeliveredError> for ApiError {
    fn from(e: UndeliveredError) -> Self {
        match e {
            UndeliveredError::NotFound => ApiError::not_found("message"),
            UndeliveredError::Refused(m) => ApiError::conflict(m),
            UndeliveredError::Store(e) => e.into(),
        }
    }
}

/// One message as the API and the console show it: what it says in the
/// customer's language, why it did not go, and what the seller can do.
pub fn view(state: &AppState, auth: &Auth, m: &Undelivered, now: Timestamp) -> Value {
    let facts = app::facts(&auth.shop, m, now);
    let locale = m
        .customer_locale
        .clone()
        .unwrap_or_else(|| auth.shop.locale.clone());
    let text = outbound::message_for(&m.payload, &auth.shop, &locale, &state.texts).plain();
    let order = match &m.payload {
        OutboundPayload::Notice {
            order_id,
            order_code,
            ..
        } => json!({"id": order_id, "code": order_code.as_str()}),
        _ => Value::Null,
    };
    let held_for_window = m.status == "held" && !facts.window_open && facts.template.is_none();
    json!({
        "id": m.id,
        "status": m.status,
        "reason": m.reason,
        "kind": m.payload.purpose(),
        "notice": facts.kind,
        "text": text,
        "customer": {"id": m.customer_id, "name": m.customer_name},
        "order": order,
        "attempts": m.attempts,
        "created_at": m.created_at.millis(),
        "customer_wrote_in_24h": facts.window_open,
        "template": facts.template,
        "can_retry": !held_for_window,
        "can_send_as_template": facts.template.is_some(),
    })
}

pub async fn views(state: &AppState, auth: &Auth, order: Option<OrderId>) -> ApiResult<Vec<Value>> {
    let now = crate::clock::now();
    Ok(undelivered::list(&state.db, auth.shop.id, order, 200)
        .await?
        .iter()
        .map(|m| view(state, auth, m, now))
        .collect())
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    order: Option<i64>,
}

/// `GET /api/v1/undelivered`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let messages = views(&state, &auth, q.order.map(OrderId)).await?;
    Ok(Json(
        json!({ "count": messages.len(), "messages": messages }),
    ))
}

/// `POST /api/v1/undelivered/{id}/{retry|send-as-template|handled}`.
pub async fn resolve(
    State(state): State<AppState>,
    auth: Auth,
    id: i64,
    how: Resolution,
) -> ApiResult<Json<Value>> {
    app::resolve(
        &state,
        &auth.shop,
        id,
        how,
        &auth.actor(),
        crate::clock::now(),
    )
    .await?;
    Ok(Json(json!({ "id": id, "done": how.slug() })))
}

/// The route for one way of resolving a held message.
pub fn resolve_route(how: Resolution) -> axum::routing::MethodRouter<AppState> {
    axum::routing::post(
        move |state: State<AppState>, auth: Auth, Path(id): Path<i64>| async move {
            resolve(state, auth, id, how).await
        },
    )
}
