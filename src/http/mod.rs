//! The HTTP edge: the router and its layers, health and metrics. Each
//! module parses a request, calls the application, and renders.

pub mod admin;
pub mod media;
pub mod webchat;
pub mod webhooks;

use crate::app::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Instant;
use tracing::Instrument;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(webhooks::routes())
        .merge(webchat::routes())
        .merge(admin::routes())
        .merge(media::routes())
        .layer(middleware::from_fn_with_state(state.clone(), refuse_nul))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            trace_requests,
        ))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    serde_json::json!({"status": "unavailable", "reason": "database unreachable"}),
                ),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    // A database that cannot answer leaves the gauges out, not the page.
    let gauges = crate::store::queues::gauges(&state.db)
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&gauges),
    )
        .into_response()
}

/// Text with a NUL character is refused at the edge with a reason:
/// PostgreSQL cannot store it, and no person types it. Webhooks (Meta's
/// bytes, signed) and binary uploads are left alone.
async fn refuse_nul(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/webhooks/") || path.ends_with("/upload") {
        return next.run(req).await;
    }
    let refuse = || {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": "text may not contain NUL characters"})),
        )
            .into_response()
    };
    if req.uri().query().is_some_and(|q| q.contains("%00")) {
        return refuse();
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let textual =
        form || content_type.starts_with("application/json") || content_type.starts_with("text/");
    if !textual {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.config.max_body_bytes).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    };
    if bytes.contains(&0)
        || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
        || (form && bytes.windows(3).any(|w| w == b"%00"))
    {
        return refuse();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// One span per request, named by its route, and the request metrics.
async fn trace_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let span = tracing::info_span!("http", %method, route = %route, status = tracing::field::Empty);
    let started = Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("status", status);
    let elapsed = started.elapsed();
    state
        .metrics
        .observe_request(method.as_str(), &route, status, elapsed);
    if status >= 500 {
        tracing::warn!(parent: &span, elapsed_ms = elapsed.as_millis() as u64, "request failed");
    } else {
        tracing::debug!(parent: &span, elapsed_ms = elapsed.as_millis() as u64, "request done");
    }
    response
}
