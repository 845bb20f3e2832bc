//! The built-in web chat: a channel that needs no Facebook Page. A visitor
//! is identified by a signed cookie (HMAC with the secret key); messages go
//! through the same inbox, engine and outbox as Messenger, and replies
//! stream back over server-sent events.

use crate::app::AppState;
use crate::channels::{Attachment, AttachmentKind, Channel, InboundEvent, InboundKind};
use crate::clock::{self, hex, random_bytes};
use crate::config::ExposeSecret;
use crate::domain::ShopId;
use crate::store::outbox::{self, OutboundPayload};
use crate::store::{customers, shops};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::convert::Infallible;
use std::time::Duration;

const PAGE: &str = include_str!("../../templates/webchat.html");
const COOKIE: &str = "cb_chat";
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat/{shop}", get(page))
        .route("/chat/{shop}/send", post(send))
        .route(
            "/chat/{shop}/upload",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/chat/{shop}/events", get(events))
}

fn sign(secret: &str, shop: i64, visitor: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("webchat\0{shop}\0{visitor}").as_bytes());
    hex(&mac.finalize().into_bytes()[..16])
}

/// The visitor id from a genuine cookie; a forged or foreign one is ignored.
fn visitor(state: &AppState, shop: i64, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let value = cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)?;
    let (id, sig) = value.split_once('.')?;
    let expected = sign(state.config.secret_key.expose_secret(), shop, id);
    let ok = id.len() == 24
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && crate::clock::constant_time_eq(sig.as_bytes(), expected.as_bytes());
    ok.then(|| id.to_string())
}

async fn known_shop(state: &AppState, shop: i64) -> Result<shops::Shop, Response> {
    shops::get(&state.db, ShopId(shop))
        .await
        .map_err(|_| (StatusCode::NOT_FOUND, "no such shop").into_response())
}

async fn page(
    State(state): State<AppState>,
    Path(shop): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let s = match known_shop(&state, shop).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    // The page's one inline script runs by its nonce, new on every load;
    // anything else inline (an injected one) does not.
    let nonce = hex(&random_bytes::<16>());
    let html = PAGE
        .replace("{{shop_name}}", &html_escape(&s.name))
        .replace("{{shop_id}}", &shop.to_string())
        .replace("{{nonce}}", &nonce);
    let mut response = Html(html).into_response();
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; \
         img-src 'self' data: https:; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if visitor(&state, shop, &headers).is_none() {
        let id = hex(&random_bytes::<12>());
        let cookie = format!(
            "{COOKIE}={id}.{}; Path=/chat/{shop}; HttpOnly; SameSite=Lax; Max-Age=31536000",
            sign(state.config.secret_key.expose_secret(), shop, &id)
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    response
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(serde::Deserialize)]
struct Outgoing {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    title: Option<String>,
    /// Chosen by the page per message, so a retried POST is stored once.
    client_id: String,
}

fn bad(reason: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({"error": reason})),
    )
        .into_response()
}

async fn store_event(
    state: &AppState,
    shop: i64,
    visitor: String,
    client_id: &str,
    kind: InboundKind,
) -> Response {
    if client_id.is_empty()
        || client_id.len() > 64
        || !client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return bad("client_id must be 1-64 letters, digits or dashes");
    }
    let event = InboundEvent {
        channel: Channel::Webchat,
        account_id: shop.to_string(),
        message_id: format!("wc:{visitor}:{client_id}"),
        sender_id: visitor,
        timestamp: clock::now().millis(),
        kind,
    };
    match state.intake.store(vec![event]).await {
        Ok(_) => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({"ok": true})),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn send(
    State(state): State<AppState>,
    Path(shop): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = known_shop(&state, shop).await {
        return r;
    }
    let Some(visitor) = visitor(&state, shop, &headers) else {
        return (StatusCode::UNAUTHORIZED, "open the chat page first").into_response();
    };
    if !crate::http::is_json(&headers) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            axum::Json(serde_json::json!({"error": "send Content-Type: application/json"})),
        )
            .into_response();
    }
    let Ok(msg) = serde_json::from_slice::<Outgoing>(&body) else {
        return bad("expected JSON {text | payload, client_id}");
    };
    let kind = match (msg.payload, msg.text) {
        (Some(payload), _) if !payload.is_empty() && payload.len() <= 1000 => {
            InboundKind::Postback {
                payload,
                title: msg.title.unwrap_or_default(),
                referral: None,
            }
        }
        (_, Some(text)) if !text.trim().is_empty() && text.chars().count() <= 2000 => {
            InboundKind::Text { text }
        }
        _ => return bad("send a text of 1-2000 characters or a button payload"),
    };
    store_event(&state, shop, visitor, &msg.client_id, kind).await
}

#[derive(serde::Deserialize)]
struct UploadQuery {
    client_id: String,
}

async fn upload(
    State(state): State<AppState>,
    Path(shop): Path<i64>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = known_shop(&state, shop).await {
        return r;
    }
    let Some(visitor) = visitor(&state, shop, &headers) else {
        return (StatusCode::UNAUTHORIZED, "open the chat page first").into_response();
    };
    if body.is_empty() {
        return bad("the upload is empty");
    }
    let name = hex(&random_bytes::<16>());
    let path = crate::slips::media::upload_path(&state.config.media_dir, &name);
    if let Some(dir) = path.parent()
        && let Err(e) = tokio::fs::create_dir_all(dir).await
    {
        tracing::error!(error = %e, "cannot create the upload folder");
        return (StatusCode::INTERNAL_SERVER_ERROR, "cannot store the upload").into_response();
    }
    if let Err(e) = tokio::fs::write(&path, &body).await {
        tracing::error!(error = %e, "cannot store an upload");
        return (StatusCode::INTERNAL_SERVER_ERROR, "cannot store the upload").into_response();
    }
    let kind = InboundKind::Attachments {
        attachments: vec![Attachment {
            kind: AttachmentKind::Image,
            url: Some(format!("upload:{name}")),
        }],
        text: None,
    };
    store_event(&state, shop, visitor, &q.client_id, kind).await
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    #[serde(default)]
    after: i64,
}

/// Replies and pushes, as they are sent, over server-sent events. Each
/// instance reads the database, so it works behind a load balancer.
async fn events(
    State(state): State<AppState>,
    Path(shop): Path<i64>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> Response {
    let shop_row = match known_shop(&state, shop).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(visitor) = visitor(&state, shop, &headers) else {
        return (StatusCode::UNAUTHORIZED, "open the chat page first").into_response();
    };
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(q.after);
    let stream = futures_util::stream::unfold(
        (
            state,
            shop_row,
            visitor,
            after,
            None::<crate::domain::CustomerId>,
            Vec::<Event>::new(),
        ),
        |(state, shop, visitor, mut cursor, mut customer, mut ready)| async move {
            loop {
                if let Some(ev) = ready.pop() {
                    return Some((
                        Ok::<Event, Infallible>(ev),
                        (state, shop, visitor, cursor, customer, ready),
                    ));
                }
                if *state.stopping.borrow() {
                    return None;
                }
                if customer.is_none() {
                    customer = find_customer(&state, shop.id, &visitor).await;
                }
                if let Some(c) = customer
                    && let Ok(rows) = outbox::sent_after(&state.db, c, cursor, 50).await
                    && !rows.is_empty()
                {
                    let locale = customers::get(&state.db, shop.id, c)
                        .await
                        .ok()
                        .and_then(|x| x.locale)
                        .unwrap_or_else(|| shop.locale.clone());
                    for r in rows.iter().rev() {
                        cursor = cursor.max(r.id);
                        let Ok(payload) =
                            serde_json::from_value::<OutboundPayload>(r.payload.clone())
                        else {
                            continue;
                        };
                        let message = crate::app::outbound::message_for(
                            &payload,
                            &shop,
                            &locale,
                            &state.texts,
                        );
                        let data = serde_json::to_string(&message).unwrap_or_default();
                        ready.push(
                            Event::default()
                                .id(r.id.to_string())
                                .event("message")
                                .data(data),
                        );
                    }
                    continue;
                }
                tokio::select! {
                    _ = state.webchat_wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(700)) => {}
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

async fn find_customer(
    state: &AppState,
    shop: ShopId,
    visitor: &str,
) -> Option<crate::domain::CustomerId> {
    customers::find_id(&state.db, shop, "webchat", visitor)
        .await
        .ok()
        .flatten()
}
