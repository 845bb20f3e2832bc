//! `GET /webhooks/messenger` (subscription handshake) and
//! `POST /webhooks/messenger`: verify the signature over the raw body,
//! parse, store durably, answer 200. Nothing else happens on this path.

use crate::app::AppState;
use crate::channels::messenger::{parse, signature};
use crate::config::ExposeSecret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/webhooks/messenger", get(handshake).post(receive))
}

pub async fn handshake(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str);
    match (mode, token, q.get("hub.challenge")) {
        (Some("subscribe"), Some(t), Some(challenge))
            if !state.config.meta_verify_token.expose_secret().is_empty()
                && crate::clock::constant_time_eq(
                    t.as_bytes(),
                    state.config.meta_verify_token.expose_secret().as_bytes(),
                ) =>
        {
            (StatusCode::OK, challenge.clone()).into_response()
        }
        _ => {
            tracing::warn!("webhook handshake refused: wrong verify token or mode");
            (StatusCode::FORBIDDEN, "verify token mismatch").into_response()
        }
    }
}

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    let secret = state.config.meta_app_secret.expose_secret();
    if secret.is_empty() || !signature::verify(secret.as_bytes(), header, &body) {
        state.metrics.incr("webhook_bad_signature", 1);
        tracing::warn!("webhook with a missing or wrong signature refused");
        return (StatusCode::FORBIDDEN, "bad signature").into_response();
    }
    let parsed = match parse::parse(&body) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut events = Vec::with_capacity(parsed.events.len());
    for e in parsed.events {
        match state
            .accounts
            .shop_for(&state.db, e.channel, &e.account_id)
            .await
        {
            Ok(Some(_)) => events.push(e),
            Ok(None) => {
                state.metrics.incr("webhook_unknown_page", 1);
                tracing::info!(page = %e.account_id, "event for a Page no shop owns; ignored");
            }
            Err(err) => {
                tracing::error!(error = %err, "could not look up the Page");
                return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
            }
        }
    }
    let n = events.len() as u64;
    match state.intake.store(events).await {
        Ok(new) => {
            state.metrics.incr("webhook_events", n);
            state.metrics.incr("webhook_duplicates", n - new.min(n));
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Err(e) => {
            // Not stored, so not acknowledged: Meta will deliver it again.
            tracing::error!(error = %e, "webhook events not stored");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}
