//! The built-in web chat: a channel that needs no Facebook Page. A visitor
//! is identified by a signed cookie (HMAC with the secret key); messages go
//! through the same inbox, engine and outbox as Messenger, and replies
//! stream back over server-sent events.

use crate::app::AppState;
use crate::channels::{Attachment, AttachmentKind, Channel, InboundEvent, InboundKind};
use crate::clock::{self, hex, random_bytes};
use crate::config::ExposeSecret;
use crate::domain::ShopId;
use crate::http::client::ClientAddr;
use crate::http::limits::Window;
use crate::store::outbox::{self, OutboundPayload};
use crate::store::{customers, shops};
use axum::Extension;
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
use std::sync::Arc;
use std::time::Duration;

const PAGE: &str = include_str!("../../templates/webchat.html");
const COOKIE: &str = "cb_chat";

/// The visitor cookie's name and path. On https it is a `__Host-` cookie:
/// the browser then takes it only from this host itself, Secure, for the
/// whole site, so a neighbouring subdomain cannot plant one of its own
/// visitor's cookies in a customer's browser to read their chat. Its name
/// carries the shop, since its path can no longer.
fn cookie_name(state: &AppState, shop: i64) -> (String, String) {
    if state.config.public_url.starts_with("https://") {
        (format!("__Host-cb_chat_{shop}"), "/; Secure".to_string())
    } else {
        (COOKIE.to_string(), format!("/chat/{shop}"))
    }
}
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// What one client may do: the web chat is open to anyone, so every way
/// in is counted (per visitor, per client address, per shop).
pub struct Limits {
    pub new_visitors_per_client: Window,
    pub sends_per_visitor: Window,
    pub sends_per_client: Window,
    pub uploads_per_visitor: Window,
    pub uploads_per_shop: Window,
    pub upload_bytes_per_shop: Window,
}

impl Default for Limits {
    fn default() -> Self {
        let minute = Duration::from_secs(60);
        let hour = Duration::from_secs(3600);
        Limits {
            new_visitors_per_client: Window::new(30, 10 * minute),
            sends_per_visitor: Window::new(40, minute),
            sends_per_client: Window::new(200, minute),
            uploads_per_visitor: Window::new(10, 10 * minute),
            uploads_per_shop: Window::new(300, hour),
            upload_bytes_per_shop: Window::new(500 * 1024 * 1024, hour),
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat/{shop}", get(page))
        .route("/chat/{shop}/send", post(send))
        .route(
            "/chat/{shop}/upload",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/chat/{shop}/events", get(events))
        .layer(Extension(Arc::new(Limits::default())))
}

/// A 429 with the wait, in words the chat page shows.
fn slow_down(what: &str, wait: u64) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(serde_json::json!({"error": format!("{what}; please try again in {wait} s")})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn sign(secret: &str, shop: i64, visitor: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("webchat\0{shop}\0{visitor}").as_bytes());
    hex(&mac.finalize().into_bytes()[..16])
}

/// The visitor id from a genuine cookie; a forged or foreign one is ignored.
fn visitor(state: &AppState, shop: i64, headers: &HeaderMap) -> Option<String> {
    let (name, _) = cookie_name(state, shop);
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let value = cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
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
    Extension(limits): Extension<Arc<Limits>>,
    ClientAddr(client): ClientAddr,
    Path(shop): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let s = match known_shop(&state, shop).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let returning = visitor(&state, shop, &headers).is_some();
    if !returning && let Err(wait) = limits.new_visitors_per_client.take(&client, 1) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.to_string())],
            Html(format!(
                "<!doctype html><meta charset=utf-8><p>Too many new chats from your network. Please try again in {wait} s.</p>"
            )),
        )
            .into_response();
    }
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
    if !returning {
        let id = hex(&random_bytes::<12>());
        let (name, path) = cookie_name(&state, shop);
        let cookie = format!(
            "{name}={id}.{}; Path={path}; HttpOnly; SameSite=Lax; Max-Age=31536000",
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

fn valid_client_id(client_id: &str) -> bool {
    !client_id.is_empty()
        && client_id.len() <= 64
        && client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
}

const BAD_CLIENT_ID: &str = "client_id must be 1-64 letters, digits or dashes";

fn message_id(visitor: &str, client_id: &str) -> String {
    format!("wc:{visitor}:{client_id}")
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"ok": true})),
    )
        .into_response()
}

/// Stores the visitor's event; `Ok(false)` when it was stored before (a
/// retried POST).
async fn store_event(
    state: &AppState,
    shop: i64,
    visitor: String,
    client_id: &str,
    kind: InboundKind,
) -> Result<bool, Response> {
    if !valid_client_id(client_id) {
        return Err(bad(BAD_CLIENT_ID));
    }
    let event = InboundEvent {
        channel: Channel::Webchat,
        account_id: shop.to_string(),
        message_id: message_id(&visitor, client_id),
        sender_id: visitor,
        timestamp: clock::now().millis(),
        kind,
    };
    match state.intake.store(vec![event]).await {
        Ok(new) => Ok(new > 0),
        Err(e) => {
            tracing::error!(error = %e, "a web-chat message was not stored");
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"error": "the shop cannot take messages right now; please try again in a minute"})),
            )
                .into_response())
        }
    }
}

async fn send(
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<Limits>>,
    ClientAddr(client): ClientAddr,
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
    if let Err(wait) = limits
        .sends_per_visitor
        .take(&visitor, 1)
        .and_then(|()| limits.sends_per_client.take(&client, 1))
    {
        return slow_down("You are sending messages very fast", wait);
    }
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
    match store_event(&state, shop, visitor, &msg.client_id, kind).await {
        Ok(_) => accepted(),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
struct UploadQuery {
    client_id: String,
}

async fn upload(
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<Limits>>,
    Path(shop): Path<i64>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Everything is checked before a byte is written.
    if let Err(r) = known_shop(&state, shop).await {
        return r;
    }
    let Some(visitor) = visitor(&state, shop, &headers) else {
        return (StatusCode::UNAUTHORIZED, "open the chat page first").into_response();
    };
    if !valid_client_id(&q.client_id) {
        return bad(BAD_CLIENT_ID);
    }
    if body.is_empty() {
        return bad("the upload is empty");
    }
    match crate::store::inbox::has_message(
        &state.db,
        "webchat",
        &message_id(&visitor, &q.client_id),
    )
    .await
    {
        Ok(true) => return accepted(),
        Ok(false) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot check an upload");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
        }
    }
    let shop_key = shop.to_string();
    if let Err(wait) = limits.uploads_per_visitor.take(&visitor, 1) {
        return slow_down("You have sent many photos", wait);
    }
    if let Err(wait) = limits.uploads_per_shop.take(&shop_key, 1).and_then(|()| {
        limits
            .upload_bytes_per_shop
            .take(&shop_key, body.len() as u64)
    }) {
        return slow_down("The shop is receiving many photos", wait);
    }
    let name = hex(&random_bytes::<16>());
    let path = crate::slips::media::upload_path(&state.config.media_dir, &name);
    if let Err(e) = write_upload(&path, &body).await {
        let _ = tokio::fs::remove_file(&path).await;
        tracing::error!(error = %e, "cannot store a web-chat upload");
        state.metrics.incr("webchat_upload_failed", 1);
        let full = e.kind() == std::io::ErrorKind::StorageFull;
        return (
            if full {
                StatusCode::INSUFFICIENT_STORAGE
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            },
            axum::Json(serde_json::json!({"error": "the shop cannot receive photos right now; please try again later or type your message"})),
        )
            .into_response();
    }
    let kind = InboundKind::Attachments {
        attachments: vec![Attachment {
            kind: AttachmentKind::Image,
            url: Some(format!("upload:{name}")),
        }],
        text: None,
    };
    // Refused, failed or a repeat: the file is nobody's.
    match store_event(&state, shop, visitor, &q.client_id, kind).await {
        Ok(true) => accepted(),
        Ok(false) => {
            let _ = tokio::fs::remove_file(&path).await;
            accepted()
        }
        Err(r) => {
            let _ = tokio::fs::remove_file(&path).await;
            r
        }
    }
}

async fn write_upload(path: &std::path::Path, body: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    tokio::fs::write(path, body).await
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    #[serde(default)]
    after: i64,
}

/// Replies and pushes, as they are sent, over server-sent events. One
/// stream per visitor (a new one closes the old) and a cap on all of them;
/// a stream sleeps until its own customer has news (see
/// `app::chat_streams`), then reads what is new from the database, so it
/// works behind a load balancer.
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
    let ticket = match state.chat_streams.open(shop_row.id, &visitor) {
        Ok(t) => t,
        Err(full) => {
            tracing::warn!(max = full.max, "web-chat streams at their cap");
            state.metrics.incr("webchat_streams_refused", 1);
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "30")],
                axum::Json(serde_json::json!({"error": "the chat is very busy right now; please try again in a minute"})),
            )
                .into_response();
        }
    };
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(q.after);
    let stream = futures_util::stream::unfold(
        Reader {
            state,
            shop: shop_row,
            visitor,
            cursor: after,
            customer: None,
            ready: Vec::new(),
            ticket,
        },
        |mut r| async move {
            let ev = r.next().await?;
            Some((Ok::<Event, Infallible>(ev), r))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// One visitor's stream: what it has shown, and its place among the open.
struct Reader {
    state: AppState,
    shop: shops::Shop,
    visitor: String,
    cursor: i64,
    customer: Option<crate::domain::CustomerId>,
    ready: Vec<Event>,
    ticket: crate::app::chat_streams::StreamTicket,
}

impl Reader {
    /// The next message to show; `None` ends the stream (stopping, or the
    /// visitor opened another).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(ev) = self.ready.pop() {
                return Some(ev);
            }
            if *self.state.stopping.borrow() || self.ticket.replaced() {
                return None;
            }
            // Armed before looking, so news that lands while we read is
            // not missed.
            let wake = self.ticket.wake.clone();
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.customer.is_none() {
                self.customer = find_customer(&self.state, self.shop.id, &self.visitor).await;
            }
            if let Some(c) = self.customer {
                self.read_new(c).await;
                if !self.ready.is_empty() {
                    continue;
                }
            }
            // Nothing until a message to this visitor is sent: no timer.
            let mut stopping = self.state.stopping.clone();
            tokio::select! {
                _ = woken => {}
                _ = stopping.changed() => {}
            }
        }
    }

    async fn read_new(&mut self, c: crate::domain::CustomerId) {
        let Ok(rows) = outbox::sent_after(&self.state.db, c, self.cursor, 50).await else {
            return;
        };
        if rows.is_empty() {
            return;
        }
        let locale = customers::get(&self.state.db, self.shop.id, c)
            .await
            .ok()
            .and_then(|x| x.locale)
            .unwrap_or_else(|| self.shop.locale.clone());
        for r in rows.iter().rev() {
            self.cursor = self.cursor.max(r.id);
            let Ok(payload) = serde_json::from_value::<OutboundPayload>(r.payload.clone()) else {
                continue;
            };
            let message =
                crate::app::outbound::message_for(&payload, &self.shop, &locale, &self.state.texts);
            let data = serde_json::to_string(&message).unwrap_or_default();
            self.ready.push(
                Event::default()
                    .id(r.id.to_string())
                    .event("message")
                    .data(data),
            );
        }
    }
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
