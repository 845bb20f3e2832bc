//! The outbox dispatcher: renders queued messages for their channel and
//! delivers them strictly in order per customer, with retries and backoff,
//! respecting the 24-hour window. Safe on several instances at once.

use crate::channels::messenger::{
    render,
    send::{Graph, SendError},
};
use crate::clock;
use crate::domain::ShopId;
use crate::domain::Timestamp;
use crate::engine::notices::{self, NoticeContext};
use crate::engine::{Message, Texts};
use crate::inbox::ShopView;
use crate::server::AppState;
use crate::store::StoreError;
use crate::store::conversations::{self, Author};
use crate::store::outbox::{self, OutRow, OutboundPayload};
use crate::store::shops::Shop;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

pub const MAX_ATTEMPTS: i64 = 8;
const WINDOW_MS: i64 = 24 * 3_600_000;
const HUMAN_AGENT_MS: i64 = 7 * 24 * 3_600_000;
/// Longer than one pass can take: one round of sends, each bounded by the
/// client's 15 s timeout (renewed per part of a long message). A crashed
/// instance's claims wait this long.
const LEASE_SECS: i64 = 30;
/// As many as are sent at once, so a pass is one round. They go to different
/// customers; the dispatcher itself needs the database only after a send.
const CLAIM: i64 = 64;

pub fn spawn(state: &AppState) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut stopping = state.stopping.clone();
        loop {
            if *stopping.borrow() {
                break;
            }
            let n = match run_once(&state).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox pass failed");
                    0
                }
            };
            if n == 0 {
                tokio::select! {
                    _ = state.outbox_wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                    _ = stopping.changed() => {}
                }
            }
        }
    })
}

/// Claims a batch of heads of line and sends them concurrently (they are
/// all for different customers).
pub async fn run_once(state: &AppState) -> Result<usize, StoreError> {
    let rows = outbox::claim(&state.db, clock::now(), LEASE_SECS, CLAIM).await?;
    let n = rows.len();
    let mut senders: HashMap<ShopId, Arc<ShopView>> = HashMap::new();
    for row in &rows {
        if row.channel == "webchat" || senders.contains_key(&row.shop_id) {
            continue;
        }
        if let Some(view) = state.shop_views.get(&state.db, row.shop_id).await? {
            senders.insert(row.shop_id, view);
        }
    }
    let sends = rows.into_iter().map(|row| {
        let state = state.clone();
        let sender = senders.get(&row.shop_id).cloned();
        async move {
            let id = row.id;
            // Own task: a panic here must not stop the dispatcher.
            match tokio::spawn(async move { dispatch(&state, row, sender).await }).await {
                Ok(Ok(sent)) => sent,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, outbox = id, "dispatch failed; the lease will expire and it is retried");
                    None
                }
                Err(join) => {
                    tracing::error!(error = %join, outbox = id, "dispatch panicked; the lease will expire and it is retried");
                    None
                }
            }
        }
    });
    // All at once: one round per pass keeps the pass within its lease.
    let sent: Vec<outbox::Sent> = futures_util::stream::iter(sends)
        .buffer_unordered(CLAIM as usize)
        .filter_map(|s| async move { s })
        .collect()
        .await;
    // One commit for the pass: a crash before it re-sends these, which the
    // crash runs count (the Send API has no idempotency key).
    outbox::mark_sent_many(&state.db, &sent, clock::now()).await?;
    if n > 0 {
        state.webchat_wake.notify_waiters();
    }
    Ok(n)
}

fn backoff(attempts: i64) -> i64 {
    let base = 1000_i64.saturating_mul(1 << attempts.clamp(0, 8));
    let capped = base.min(300_000);
    let jitter = i64::from(clock::random_bytes::<2>()[0]) * capped / 512;
    capped / 2 + jitter
}

fn render_payload(payload: &OutboundPayload, shop: &Shop, locale: &str, texts: &Texts) -> Message {
    match payload {
        OutboundPayload::Message { message } => message.clone(),
        OutboundPayload::SellerText { text } => Message::text(text.clone()),
        OutboundPayload::Notice {
            order_id,
            order_code,
            notice,
        } => notices::render(
            notice,
            &NoticeContext {
                order_id: *order_id,
                order_code: order_code.as_str(),
                currency: shop.currency,
                locale,
                texts,
            },
        ),
    }
}

async fn dispatch(
    state: &AppState,
    row: OutRow,
    sender: Option<Arc<ShopView>>,
) -> Result<Option<outbox::Sent>, StoreError> {
    let now = clock::now();
    let payload: OutboundPayload = match serde_json::from_str(&row.payload) {
        Ok(p) => p,
        Err(e) => {
            return outbox::mark_failed(&state.db, row.id, &format!("unreadable payload: {e}"))
                .await
                .map(|()| None);
        }
    };
    if row.channel == "webchat" {
        // The browser reads sent rows over its event stream.
        return Ok(Some(outbox::Sent {
            id: row.id,
            external_id: String::new(),
            parts: 1,
        }));
    }
    let Some(sender) = sender else {
        return outbox::mark_failed(&state.db, row.id, "the shop no longer exists")
            .await
            .map(|()| None);
    };
    let shop = &sender.shop;
    let locale = row.locale.clone().unwrap_or_else(|| shop.locale.clone());
    let since = row
        .last_inbound_at
        .map(|t| now.millis() - t.millis())
        .unwrap_or(i64::MAX);
    let inside = since < WINDOW_MS;

    let Some(account) = sender
        .accounts
        .iter()
        .find(|a| a.channel == "messenger" || a.channel == row.channel)
    else {
        return outbox::mark_failed(
            &state.db,
            row.id,
            "the shop has no Page bound for this channel",
        )
        .await
        .map(|()| None);
    };
    let token = account.access_token.clone().unwrap_or_default();
    let graph = Graph {
        http: state.http.clone(),
        base: state.config.meta_graph_url.clone(),
    };

    // How this message may go out, given the window.
    let (messaging_type, tag, bodies): (&str, Option<&str>, Vec<serde_json::Value>) = match (
        &payload, inside,
    ) {
        (OutboundPayload::Message { .. }, true) => (
            "RESPONSE",
            None,
            rendered(&payload, shop, &locale, state, &row.key),
        ),
        (_, true) => (
            "UPDATE",
            None,
            rendered(&payload, shop, &locale, state, &row.key),
        ),
        (
            OutboundPayload::Notice {
                order_id,
                order_code,
                notice,
            },
            false,
        ) => {
            let kind = notices::kind(notice);
            match shop.settings.utility_templates.get(kind) {
                Some(template) => {
                    let ctx = NoticeContext {
                        order_id: *order_id,
                        order_code: order_code.as_str(),
                        currency: shop.currency,
                        locale: &locale,
                        texts: &state.texts,
                    };
                    let params: Vec<_> = notices::template_parameters(notice, &ctx)
                        .into_iter()
                        .map(|p| serde_json::json!({"type": "text", "text": p}))
                        .collect();
                    let lang = match locale.as_str() {
                        "th" => "th_TH",
                        "vi" => "vi_VN",
                        _ => "en_US",
                    };
                    let message = serde_json::json!({"template": {"name": template, "language": {"code": lang},
                        "components": [{"type": "body", "parameters": params}]}});
                    ("UTILITY", None, vec![message])
                }
                None => {
                    tracing::info!(outbox = row.id, "push held until the customer writes again");
                    return outbox::hold(
                        &state.db,
                        row.id,
                        "waiting for the customer to write (outside the 24-hour window)",
                    )
                    .await
                    .map(|()| None);
                }
            }
        }
        (OutboundPayload::SellerText { .. }, false) if since < HUMAN_AGENT_MS => {
            // A person's reply may use the human-agent tag; bot messages never do.
            (
                "MESSAGE_TAG",
                Some("HUMAN_AGENT"),
                rendered(&payload, shop, &locale, state, &row.key),
            )
        }
        (_, false) => {
            return outbox::hold(
                &state.db,
                row.id,
                "waiting for the customer to write (outside the 24-hour window)",
            )
            .await
            .map(|()| None);
        }
    };

    let mut parts = row.parts_sent;
    let mut last_id = String::new();
    for body in bodies.iter().skip(row.parts_sent as usize) {
        match graph
            .send(
                &account.external_id,
                &token,
                &row.recipient,
                messaging_type,
                tag,
                body,
            )
            .await
        {
            Ok(mid) => {
                parts += 1;
                last_id = mid;
                if (parts as usize) < bodies.len() {
                    outbox::mark_progress(
                        &state.db,
                        row.id,
                        parts,
                        clock::now().plus_secs(LEASE_SECS),
                    )
                    .await?;
                }
                state.metrics.incr("outbox_sent", 1);
            }
            Err(SendError::Transient(e)) => {
                state.metrics.incr("outbox_retries", 1);
                if row.attempts >= MAX_ATTEMPTS {
                    return give_up(
                        state,
                        &row,
                        &format!("gave up after {} attempts: {e}", row.attempts),
                        now,
                    )
                    .await
                    .map(|()| None);
                }
                let at = Timestamp(now.millis() + backoff(row.attempts));
                return outbox::retry_later(&state.db, row.id, at, &e)
                    .await
                    .map(|()| None);
            }
            Err(SendError::OutsideWindow(e)) => {
                return outbox::hold(
                    &state.db,
                    row.id,
                    &format!("outside the 24-hour window: {e}"),
                )
                .await
                .map(|()| None);
            }
            Err(SendError::Permanent(e)) => {
                return give_up(state, &row, &e, now).await.map(|()| None);
            }
        }
    }
    Ok(Some(outbox::Sent {
        id: row.id,
        external_id: last_id,
        parts,
    }))
}

fn rendered(
    payload: &OutboundPayload,
    shop: &Shop,
    locale: &str,
    state: &AppState,
    key: &str,
) -> Vec<serde_json::Value> {
    let message = render_payload(payload, shop, locale, &state.texts);
    let mut bodies = render::render(&message);
    // The key comes back in the echo's metadata: proof of delivery, and how
    // we tell our own echoes from a person's.
    for b in &mut bodies {
        b["metadata"] = serde_json::json!(key);
    }
    bodies
}

/// A message that will never go out is shown to the seller.
async fn give_up(
    state: &AppState,
    row: &OutRow,
    reason: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    state.metrics.incr("outbox_failed", 1);
    tracing::error!(outbox = row.id, reason, "message not delivered");
    outbox::mark_failed(&state.db, row.id, reason).await?;
    let mut tx = state.db.begin().await?;
    conversations::record(
        &mut tx,
        row.shop_id,
        row.customer_id,
        Author::Bot,
        &format!("⚠ not delivered: {reason}"),
        None,
        None,
        true,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Renders a stored payload for the web chat (the browser gets JSON).
pub fn for_webchat(payload: &OutboundPayload, shop: &Shop, locale: &str, texts: &Texts) -> Message {
    render_payload(payload, shop, locale, texts)
}
