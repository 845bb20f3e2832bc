//! The HTTP edge: the router and its layers, health and metrics. Each
//! module parses a request, calls the application, and renders.

pub mod admin;
pub mod client;
pub mod limits;
pub mod media;
pub mod webchat;
pub mod webhooks;

use crate::app::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

/// A request that has not produced its response by then gets a 408; a
/// stuck database call must not hold a connection forever. (A stream such
/// as the web chat's events has its response long before.)
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What a page of chatbill's may load: its own script and styles, images
/// (a customer's Messenger picture comes from Meta's CDN), requests and
/// forms to itself; no inline script, no plugins, no framing. A page that
/// needs more (the web chat's inline script) sends its own policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers every answer carries: no MIME sniffing, no framing of the
/// console by another site, no order or slip URLs leaking as referrers,
/// and the content policy.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
];

/// A request id: 12 hex digits, a random prefix per process and a counter,
/// enough to find one request in the logs of several instances without a
/// system call per request. (tower-http's request-id and set-header layers
/// did the same for 13 % more instructions per webhook; see
/// docs/benchmarks.md.)
fn next_request_id() -> HeaderValue {
    static PREFIX: OnceLock<u16> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| u16::from_be_bytes(crate::clock::random_bytes::<2>()));
    let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff;
    HeaderValue::from_str(&format!("{prefix:04x}{n:08x}"))
        .unwrap_or(HeaderValue::from_static("000000000000"))
}

pub fn router(state: AppState) -> Router {
    // What people and API clients reach: text without NUL, a time limit.
    let pages_and_api = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_behind_token))
        .merge(webchat::routes())
        .merge(admin::routes())
        .merge(media::routes())
        .layer(middleware::from_fn_with_state(state.clone(), refuse_nul))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_cross_site_forms,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    // Meta's webhook is the hot path: signed bytes, stored as they come,
    // answered as soon as they are durable.
    Router::new()
        .merge(pages_and_api)
        .merge(webhooks::routes())
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

/// `/metrics` on the main address: only with the operator's token, and
/// not at all when it has its own address (or none was chosen).
async fn metrics_behind_token(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    use crate::config::{ExposeSecret, MetricsAccess};
    let MetricsAccess::Token(token) = &state.config.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = admin::auth::bearer(&headers).unwrap_or("");
    if !crate::clock::constant_time_eq(given.as_bytes(), token.expose_secret().as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "metrics need the token set in CHATBILL_METRICS_TOKEN",
        )
            .into_response();
    }
    metrics(State(state)).await
}

/// The router of the metrics-only address (`CHATBILL_METRICS_BIND`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(state)
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

/// A console form posted from another site (a page the seller happened to
/// open) is refused: browsers say where a request comes from in
/// `Sec-Fetch-Site`, older ones in `Origin`. Requests with neither are not
/// a browser's and carry no one else's cookie.
async fn refuse_cross_site_forms(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let unsafe_method = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if unsafe_method && req.uri().path().starts_with("/admin") {
        let h = req.headers();
        let fetch_site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let ours = match (fetch_site, origin) {
            (Some(site), _) => matches!(site, "same-origin" | "none"),
            (None, Some(origin)) => {
                let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
                origin == state.config.public_url
                    || origin.split_once("://").map(|(_, rest)| rest) == host
            }
            (None, None) => true,
        };
        if !ours {
            return (
                StatusCode::FORBIDDEN,
                axum::response::Html(
                    "<!doctype html><meta charset=utf-8><p>This form was sent from another site, so it was refused. Open the console and try again there.</p>",
                ),
            )
                .into_response();
        }
    }
    next.run(req).await
}

/// Whether the request says its body is JSON (`application/json`, with
/// or without parameters such as a charset).
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Text with a NUL character is refused at the edge with a reason:
/// PostgreSQL cannot store it, and no person types it. Webhooks (Meta's
/// bytes, signed) and binary uploads are left alone.
async fn refuse_nul(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path().ends_with("/upload") {
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
        .trim_start()
        .to_ascii_lowercase();
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

/// One span per request, named by its route and request id (a caller's
/// own id is kept, so a proxy's follows the request), the request metrics,
/// and the headers every answer carries.
async fn trace_requests(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    // Meta's webhook calls are the hot path and no browser reads their
    // answers: they go without the id and the headers (about 5 % of the
    // instructions of a webhook, docs/benchmarks.md).
    let webhook = req.uri().path().starts_with("/webhooks/");
    let request_id = match req.headers().get(&REQUEST_ID) {
        Some(id) => Some(id.clone()),
        None if webhook => None,
        None => {
            let id = next_request_id();
            req.headers_mut().insert(REQUEST_ID.clone(), id.clone());
            Some(id)
        }
    };
    let span = tracing::info_span!(
        "http",
        %method,
        route = %route,
        request_id = request_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or(""),
        status = tracing::field::Empty
    );
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    if let Some(id) = request_id {
        let headers = response.headers_mut();
        for (name, value) in &SECURITY_HEADERS {
            headers
                .entry(name)
                .or_insert_with(|| HeaderValue::from_static(value));
        }
        headers.insert(REQUEST_ID.clone(), id);
    }
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
