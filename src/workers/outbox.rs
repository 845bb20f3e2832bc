//! The outbox dispatcher: renders queued messages for their channel and
//! delivers them strictly in order per customer, with retries and backoff,
//! respecting the 24-hour window and each Page's send rate (Meta's limit,
//! shared by all instances). Safe on several instances at once.

use super::{Next, Work};
use crate::app::AppState;
use crate::app::outbound::{Route, route};
use crate::app::shop_views::ShopView;
use crate::channels::messenger::{
    render,
    send::{Graph, SendError},
};
use crate::clock;
use crate::config::ExposeSecret;
use crate::domain::ShopId;
use crate::domain::Timestamp;
use crate::engine::notices::{self, NoticeContext};
use crate::store::StoreError;
use crate::store::outbox::{self, OutRow, OutboundPayload};
use crate::store::send_budgets;
use crate::store::shops::Shop;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub const MAX_ATTEMPTS: i64 = 8;
/// Longer than one pass can take: one round of sends, each bounded by the
/// client's 15 s timeout (renewed per part of a long message). A crashed
/// instance's claims wait this long.
const LEASE_SECS: i64 = 30;
/// As many as are sent at once, so a pass is one round. They go to different
/// customers; the dispatcher itself needs the database only after a send.
const CLAIM: i64 = 64;

/// The dispatcher; remembers how many to claim next.
pub struct Outbox {
    claim: i64,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox { claim: CLAIM }
    }
}

impl Work for Outbox {
    const NAME: &'static str = "outbox";
    const IDLE: Duration = Duration::from_millis(250);

    fn wake(&self, state: &AppState) -> Option<Arc<Notify>> {
        Some(state.outbox_wake.clone())
    }

    async fn pass(&mut self, state: &AppState, _: &str) -> Result<Next, String> {
        let pass = run_once(state, self.claim)
            .await
            .map_err(|e| e.to_string())?;
        self.claim = pass.next_claim.unwrap_or(CLAIM);
        Ok(if pass.deferred > 0 {
            // A Page is out of budget: wait for it rather than claim and
            // put back the same messages in a loop.
            Next::Wait(pass.wake_at.map_or(Self::IDLE, |at| {
                Duration::from_millis((at.millis() - clock::now().millis()).clamp(1, 250) as u64)
            }))
        } else if pass.claimed == 0 {
            Next::Idle
        } else {
            Next::Busy
        })
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pass {
    pub claimed: usize,
    /// Put back unsent because their Page is out of budget or paused.
    pub deferred: usize,
    /// When the earliest of those may go.
    pub wake_at: Option<Timestamp>,
    /// How many to claim next time: when the only Page in the pass ran out
    /// of budget, about what it will have by `wake_at`, so the next pass
    /// does not claim and render messages only to put them back.
    pub next_claim: Option<i64>,
}

/// A message ready for the Send API: rendered, with its Page and how it may
/// go given the window.
struct Outgoing {
    row: OutRow,
    page_key: String,
    page_id: String,
    token: String,
    messaging_type: &'static str,
    tag: Option<&'static str>,
    bodies: Vec<serde_json::Value>,
}

impl Outgoing {
    /// Send API calls still to make (a long message goes in parts).
    fn calls(&self) -> u32 {
        (self.bodies.len() as u32)
            .saturating_sub(self.row.parts_sent as u32)
            .max(1)
    }
}

enum Prepared {
    /// Nothing for the Graph API: shown by the web chat, or held, or failed.
    Finished(Option<outbox::Sent>),
    Send(Box<Outgoing>),
}

enum Delivery {
    Sent(outbox::Sent),
    /// Meta limits the Page: the message goes back, its attempt not spent.
    Throttled(Throttled),
    /// Retried later, held or failed; already written.
    Settled,
}

/// Messages Meta refused for their Page's rate, and Meta's wait estimate.
struct Throttled {
    page_key: String,
    wait_ms: Option<i64>,
    ids: Vec<i64>,
    error: String,
}

/// Claims a batch of heads of line, takes each Page's share from its send
/// budget, and sends those concurrently (they are all for different
/// customers). The rest go back, due when their Page has room again.
pub async fn run_once(state: &AppState, limit: i64) -> Result<Pass, StoreError> {
    let rows = outbox::claim(&state.db, clock::now(), LEASE_SECS, limit.clamp(1, CLAIM)).await?;
    let mut pass = Pass {
        claimed: rows.len(),
        ..Pass::default()
    };
    let chatting: Vec<_> = rows
        .iter()
        .filter(|r| r.channel == "webchat")
        .map(|r| (r.shop_id, r.recipient.clone()))
        .collect();
    let mut senders: HashMap<ShopId, Arc<ShopView>> = HashMap::new();
    for row in &rows {
        if row.channel == "webchat" || senders.contains_key(&row.shop_id) {
            continue;
        }
        if let Some(view) = state.shop_views.get(&state.db, row.shop_id).await? {
            senders.insert(row.shop_id, view);
        }
    }
    // Rendering and the window rules, each in its own task: a panic here
    // must not stop the dispatcher.
    let prepares = rows.into_iter().map(|row| {
        let state = state.clone();
        let sender = senders.get(&row.shop_id).cloned();
        isolated(row.id, async move { prepare(&state, row, sender).await })
    });
    let prepared: Vec<Prepared> = futures_util::future::join_all(prepares)
        .await
        .into_iter()
        .flatten()
        .collect();
    let mut sent = Vec::new();
    let mut by_page: Vec<(String, Vec<Outgoing>)> = Vec::new();
    for p in prepared {
        match p {
            Prepared::Finished(s) => sent.extend(s),
            Prepared::Send(out) => match by_page.iter_mut().find(|(k, _)| *k == out.page_key) {
                Some((_, list)) => list.push(*out),
                None => by_page.push((out.page_key.clone(), vec![*out])),
            },
        }
    }

    let go = take_budgets(state, by_page, &mut pass).await?;
    let sends = go.into_iter().map(|out| {
        let state = state.clone();
        isolated(out.row.id, async move { deliver(&state, out).await })
    });
    // All at once: one round per pass keeps the pass within its lease.
    let deliveries: Vec<Delivery> = futures_util::stream::iter(sends)
        .buffer_unordered(CLAIM as usize)
        .filter_map(|d| async move { d })
        .collect()
        .await;
    let mut throttled: Vec<Throttled> = Vec::new();
    for d in deliveries {
        match d {
            Delivery::Sent(s) => sent.push(s),
            Delivery::Settled => {}
            Delivery::Throttled(t) => match throttled.iter_mut().find(|p| p.page_key == t.page_key)
            {
                Some(page) => {
                    page.wait_ms = page.wait_ms.max(t.wait_ms);
                    page.ids.extend(t.ids);
                }
                None => throttled.push(t),
            },
        }
    }
    // One commit for the pass: a crash before it re-sends these, which the
    // crash runs count (the Send API has no idempotency key).
    outbox::mark_sent_many(&state.db, &sent, clock::now()).await?;
    for page in throttled {
        pause_page(state, page, &mut pass).await?;
    }
    state.chat_streams.wake(&chatting);
    Ok(pass)
}

/// Takes each Page's share of its messages from the Page's budget (shared
/// with every other instance) and puts the rest back, due when it has room.
/// Returns what may be sent now.
async fn take_budgets(
    state: &AppState,
    by_page: Vec<(String, Vec<Outgoing>)>,
    pass: &mut Pass,
) -> Result<Vec<Outgoing>, StoreError> {
    let rate = state.config.send_rate;
    if rate.is_unlimited() {
        return Ok(by_page.into_iter().flat_map(|(_, list)| list).collect());
    }
    let mut go = Vec::new();
    let now = clock::now();
    let pages = by_page.len();
    for (page_key, mut list) in by_page {
        list.sort_by_key(|o| o.row.id);
        let calls: Vec<u32> = list.iter().map(Outgoing::calls).collect();
        let grant = send_budgets::take(&state.db, &page_key, now, rate, &calls).await?;
        let rest = list.split_off(grant.messages);
        go.extend(list);
        let (false, Some(retry_at)) = (rest.is_empty(), grant.retry_at) else {
            continue;
        };
        // Wait for half a burst: a pass then sends several at once, and the
        // bucket is not yet full, so no budget is lost to its cap.
        let at = retry_at.max(Timestamp(now.millis() + rate.refill_ms() / 2));
        if pages == 1 {
            let by_then = i64::from(rate.get()) * (at.millis() - now.millis()) / 1000;
            pass.next_claim = Some(by_then + 1);
        }
        let ids: Vec<i64> = rest.iter().map(|o| o.row.id).collect();
        outbox::defer(&state.db, &ids, at, None).await?;
        state
            .metrics
            .incr("outbox_deferred_for_rate", ids.len() as u64);
        pass.deferred += ids.len();
        pass.wake_at = Some(pass.wake_at.map_or(at, |w| w.min(at)));
    }
    Ok(go)
}

/// Meta refused sends for a Page's rate: pause the Page for every
/// instance and put its messages back until then.
async fn pause_page(state: &AppState, page: Throttled, pass: &mut Pass) -> Result<(), StoreError> {
    let now = clock::now();
    let until = send_budgets::pause(
        &state.db,
        &page.page_key,
        now,
        state.config.send_rate,
        page.wait_ms,
    )
    .await?;
    tracing::warn!(page = %page.page_key, pause_ms = until.millis() - now.millis(), error = %page.error,
        "Meta rate-limited the Page: its sends pause");
    state.metrics.incr("outbox_page_throttled", 1);
    outbox::defer(&state.db, &page.ids, until, Some(&page.error)).await?;
    pass.deferred += page.ids.len();
    pass.wake_at = Some(pass.wake_at.map_or(until, |w| w.min(until)));
    Ok(())
}

/// Runs one message's work in its own task: an error or a panic is logged
/// and leaves the message leased, so it is retried when the lease expires,
/// and the rest of the pass goes on.
async fn isolated<T: Send + 'static>(
    id: i64,
    work: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Option<T> {
    match tokio::spawn(work).await {
        Ok(Ok(done)) => Some(done),
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

fn backoff(attempts: i64) -> i64 {
    let base = 1000_i64.saturating_mul(1 << attempts.clamp(0, 8));
    let capped = base.min(300_000);
    let jitter = i64::from(clock::random_bytes::<2>()[0]) * capped / 512;
    capped / 2 + jitter
}

/// Decides how a claimed message goes out: the web chat's are done here,
/// others are rendered for the Send API, or held until the customer
/// writes, or failed when they never can go.
async fn prepare(
    state: &AppState,
    row: OutRow,
    sender: Option<Arc<ShopView>>,
) -> Result<Prepared, StoreError> {
    let now = clock::now();
    let payload: OutboundPayload = match serde_json::from_str(&row.payload) {
        Ok(p) => p,
        Err(e) => {
            outbox::mark_failed(&state.db, row.id, &format!("unreadable payload: {e}")).await?;
            return Ok(Prepared::Finished(None));
        }
    };
    if row.channel == "webchat" {
        // The browser reads sent rows over its event stream.
        return Ok(Prepared::Finished(Some(outbox::Sent {
            id: row.id,
            external_id: String::new(),
            parts: 1,
        })));
    }
    let Some(sender) = sender else {
        outbox::mark_failed(&state.db, row.id, "the shop no longer exists").await?;
        return Ok(Prepared::Finished(None));
    };
    let shop = &sender.shop;
    let locale = row.locale.clone().unwrap_or_else(|| shop.locale.clone());
    let since = row
        .last_inbound_at
        .map(|t| now.millis() - t.millis())
        .unwrap_or(i64::MAX);

    let Some(account) = sender
        .accounts
        .iter()
        .find(|a| a.channel == "messenger" || a.channel == row.channel)
    else {
        outbox::mark_failed(
            &state.db,
            row.id,
            "the shop has no Page bound for this channel",
        )
        .await?;
        return Ok(Prepared::Finished(None));
    };

    let rendered = || rendered(&payload, shop, &locale, state, &row.key);
    let (messaging_type, tag, bodies) = match route(
        &payload,
        since,
        &shop.settings.utility_templates,
        row.via_template,
    ) {
        Route::Respond => ("RESPONSE", None, rendered()),
        Route::Update => ("UPDATE", None, rendered()),
        // A person's reply may use the human-agent tag; bot messages never do.
        Route::HumanAgent => ("MESSAGE_TAG", Some("HUMAN_AGENT"), rendered()),
        Route::Utility(template) => (
            "UTILITY",
            None,
            vec![utility_message(&payload, template, shop, &locale, state)],
        ),
        Route::Hold => {
            tracing::info!(outbox = row.id, "push held until the customer writes again");
            outbox::hold(
                &state.db,
                row.id,
                "waiting for the customer to write (outside the 24-hour window)",
            )
            .await?;
            return Ok(Prepared::Finished(None));
        }
    };
    Ok(Prepared::Send(Box::new(Outgoing {
        page_key: send_budgets::page_key(&account.channel, &account.external_id),
        page_id: account.external_id.clone(),
        token: account
            .access_token
            .as_ref()
            .map(|t| t.expose_secret().to_string())
            .unwrap_or_default(),
        messaging_type,
        tag,
        bodies,
        row,
    })))
}

/// A notice as the shop's approved Utility template, its parameters
/// filled in the customer's language.
fn utility_message(
    payload: &OutboundPayload,
    template: &str,
    shop: &Shop,
    locale: &str,
    state: &AppState,
) -> serde_json::Value {
    let (order_id, order_code, notice) = match payload {
        OutboundPayload::Notice {
            order_id,
            order_code,
            notice,
        } => (order_id, order_code, notice),
        OutboundPayload::Balance {
            amount, balance, ..
        } => {
            let words = notices::Words {
                currency: shop.currency,
                locale,
                amounts: shop.settings.currency_display,
                texts: &state.texts,
                messages: Some(&shop.settings.messages),
            };
            return render::utility_template(
                template,
                locale,
                &notices::balance_template_parameters(*amount, *balance, &words),
            );
        }
        _ => return serde_json::Value::Null,
    };
    let ctx = NoticeContext {
        order_id: *order_id,
        order_code: order_code.as_str(),
        currency: shop.currency,
        locale,
        texts: &state.texts,
        messages: Some(&shop.settings.messages),
        amounts: shop.settings.currency_display,
    };
    render::utility_template(
        template,
        locale,
        &notices::template_parameters(notice, &ctx),
    )
}

/// Sends the parts still unsent, in order, and settles the message.
async fn deliver(state: &AppState, out: Outgoing) -> Result<Delivery, StoreError> {
    let now = clock::now();
    let row = &out.row;
    let graph = Graph {
        http: state.http.clone(),
        base: state.config.meta_graph_url.clone(),
    };
    let mut parts = row.parts_sent;
    let mut last_id = String::new();
    for body in out.bodies.iter().skip(row.parts_sent as usize) {
        match graph
            .send(
                &out.page_id,
                &out.token,
                &row.recipient,
                out.messaging_type,
                out.tag,
                body,
            )
            .await
        {
            Ok(mid) => {
                parts += 1;
                last_id = mid;
                if (parts as usize) < out.bodies.len() {
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
            Err(SendError::PageThrottled { wait_ms, message }) => {
                return Ok(Delivery::Throttled(Throttled {
                    page_key: out.page_key.clone(),
                    wait_ms,
                    ids: vec![row.id],
                    error: message,
                }));
            }
            Err(SendError::Transient(e)) => {
                state.metrics.incr("outbox_retries", 1);
                if row.attempts >= MAX_ATTEMPTS {
                    crate::app::outbound::give_up(
                        state,
                        row,
                        &format!("gave up after {} attempts: {e}", row.attempts),
                        now,
                    )
                    .await?;
                    return Ok(Delivery::Settled);
                }
                let at = Timestamp(now.millis() + backoff(row.attempts));
                outbox::retry_later(&state.db, row.id, at, &e).await?;
                return Ok(Delivery::Settled);
            }
            Err(SendError::OutsideWindow(e)) => {
                outbox::hold(
                    &state.db,
                    row.id,
                    &format!("outside the 24-hour window: {e}"),
                )
                .await?;
                return Ok(Delivery::Settled);
            }
            Err(SendError::Permanent(e)) => {
                crate::app::outbound::give_up(state, row, &e, now).await?;
                return Ok(Delivery::Settled);
            }
        }
    }
    Ok(Delivery::Sent(outbox::Sent {
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
    let message = crate::app::outbound::message_for(payload, shop, locale, &state.texts);
    let mut bodies = render::render(&message);
    // The key comes back in the echo's metadata: proof of delivery, and how
    // we tell our own echoes from a person's.
    for b in &mut bodies {
        b["metadata"] = serde_json::json!(key);
    }
    bodies
}
