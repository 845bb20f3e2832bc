//! Customer events through the engine: a batch of leased events becomes
//! ONE transaction holding every effect, reply and "done" mark, so each
//! event takes effect exactly once.

mod actions;
mod seat;

use super::AppState;
use super::shop_views::ShopView;
use crate::channels::{Channel, InboundKind};
use crate::clock;
use crate::domain::{CustomerId, OrderId, ShopId, Timestamp};
use crate::store::conversations::{self, Author};
use crate::store::inbox::StoredEvent;
use crate::store::{self, StoreError, Tx, cart, customers, inbox, outbox};
use actions::{RECENT_ORDERS, browsing_only, orders_of, referenced_order, to_input, to_inputs};
use seat::{Pending, Seat};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tracing::Instrument;

/// After this many failed tries an event is parked for a person to look at.
const MAX_EVENT_ATTEMPTS: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Things to do after the transaction commits (file and network work).
enum AfterCommit {
    WakeSlips,
    Upload {
        shop: ShopId,
        order: OrderId,
        customer: CustomerId,
        path: std::path::PathBuf,
    },
}

/// Everything one batch carries between its events: the open transaction,
/// the customers it holds, and what it will write at the end.
struct Batch<'s> {
    state: &'s AppState,
    tx: Tx,
    seats: HashMap<CustomerId, Seat>,
    pending: Pending,
    after: Vec<AfterCommit>,
    now: Timestamp,
}

/// Takes leased events through the engine: all in one transaction, and
/// if that fails, one event per transaction so only the culprit is retried
/// and only its customer's later events wait. Returns the events done.
pub async fn process(state: &AppState, events: Vec<StoredEvent>) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let count = events.len();
    let Err(e) = run_isolated(state, events.clone()).await else {
        return Ok(count);
    };
    tracing::warn!(error = %e, events = count, "batch failed; processing its events one by one");
    let mut done = 0;
    let mut blocked = HashSet::new();
    for stored in events {
        let key = stored.event.sender_key();
        if blocked.contains(&key) {
            continue;
        }
        let id = stored.id;
        match run_isolated(state, vec![stored]).await {
            Ok(()) => done += 1,
            Err(e) => {
                tracing::warn!(error = %e, event = id, "processing an inbound event failed; will retry");
                inbox::record_failure(&state.db, id, &e, MAX_EVENT_ATTEMPTS, clock::now()).await?;
                blocked.insert(key);
            }
        }
    }
    Ok(done)
}

/// Runs in its own task: a panic (a bug) fails this run, not the worker.
async fn run_isolated(state: &AppState, events: Vec<StoredEvent>) -> Result<(), String> {
    let span = match events.as_slice() {
        [one] => {
            tracing::info_span!("inbound", event = one.id, kind = one.event.kind.name(), customer = %one.event.sender_id)
        }
        many => tracing::info_span!("inbound", events = many.len()),
    };
    let st = state.clone();
    let outcome = tokio::spawn(
        async move { process_batch(&st, &events).await.map_err(|e| e.to_string()) }
            .instrument(span),
    )
    .await;
    match outcome {
        Ok(result) => result,
        Err(join) => {
            state.metrics.incr("inbox_panics", 1);
            tracing::error!(error = %join, "processing inbound events panicked");
            Err(format!("processing panicked: {join}"))
        }
    }
}

type ShopOfAccount<'e> = HashMap<(Channel, &'e str), Option<ShopId>>;

/// Takes a batch of events (grouped by customer, each customer's in order)
/// through the engine in ONE transaction: its effects, replies and the
/// events' "done" commit together, so each takes effect exactly once.
async fn process_batch(state: &AppState, events: &[StoredEvent]) -> Result<(), ProcessError> {
    let now = clock::now();
    // Read what the engine may need before taking SQLite's write lock: a
    // task that holds it must never wait for a second pool connection.
    let mut shop_of_account: ShopOfAccount = HashMap::new();
    let mut views: HashMap<ShopId, Arc<ShopView>> = HashMap::new();
    for stored in events {
        let ev = &stored.event;
        let key = (ev.channel, ev.account_id.as_str());
        if shop_of_account.contains_key(&key) {
            continue;
        }
        let mut found = state
            .accounts
            .shop_for(&state.db, ev.channel, &ev.account_id)
            .await?;
        if let Some(id) = found
            && !views.contains_key(&id)
        {
            match state.shop_views.get(&state.db, id).await? {
                Some(view) => {
                    views.insert(id, view);
                }
                None => found = None,
            }
        }
        shop_of_account.insert(key, found);
    }

    let mut tx = state.db.begin().await?;
    let seats = load_seats(&mut tx, events, &shop_of_account, now).await?;
    let mut batch = Batch {
        state,
        tx,
        seats,
        pending: Pending::default(),
        after: Vec::new(),
        now,
    };
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    let still = inbox::still_pending(&mut batch.tx, &ids).await?;
    let events: Vec<StoredEvent> = events
        .iter()
        .filter(|e| still.contains(&e.id))
        .cloned()
        .collect();
    let events = events.as_slice();
    let customer_of = customer_of_event(events, &shop_of_account, &batch.seats);
    read_orders_ahead(&mut batch.tx, events, &customer_of, &mut batch.seats).await?;
    // Echoes of our own messages, confirmed in one statement per shop.
    let mut echoes: HashMap<ShopId, Vec<&str>> = HashMap::new();
    for stored in events {
        let ev = &stored.event;
        if let InboundKind::Echo {
            metadata: Some(key),
            ..
        } = &ev.kind
            && let Some(Some(shop)) = shop_of_account.get(&(ev.channel, ev.account_id.as_str()))
        {
            echoes.entry(*shop).or_default().push(key);
        }
    }
    let mut ours = HashSet::new();
    for (shop, keys) in echoes {
        ours.extend(outbox::mark_delivered_many(&mut batch.tx, shop, &keys, now).await?);
    }
    for (stored, customer) in events.iter().zip(&customer_of) {
        let ev = &stored.event;
        let Some(view) = shop_of_account
            .get(&(ev.channel, ev.account_id.as_str()))
            .copied()
            .flatten()
            .and_then(|id| views.get(&id))
        else {
            tracing::info!(account = %ev.account_id, "event for an account no shop owns; ignored");
            batch.pending.finished.push((
                stored.id,
                "ignored",
                None,
                Some("no shop owns this account"),
            ));
            continue;
        };
        let Some(customer_id) = *customer else {
            return Err(StoreError::Corrupt(format!("no customer for event {}", stored.id)).into());
        };
        let echo_was_ours =
            matches!(&ev.kind, InboundKind::Echo { metadata: Some(key), .. } if ours.contains(key));
        batch
            .process_event(view, customer_id, stored, echo_was_ours)
            .await?;
        batch
            .pending
            .finished
            .push((stored.id, "done", Some(view.shop.id.get()), None));
    }
    let Batch {
        mut tx,
        mut seats,
        mut pending,
        after,
        ..
    } = batch;
    pending.flush(&mut tx, &mut seats, now).await?;
    store::commit(tx).await?;
    state.metrics.incr("inbox_processed", events.len() as u64);
    state.outbox_wake.notify_one();
    for job in after {
        run_after_commit(state, job).await;
    }
    Ok(())
}

/// The customer each event belongs to (`None` when no shop owns it).
fn customer_of_event(
    events: &[StoredEvent],
    shop_of_account: &ShopOfAccount,
    seats: &HashMap<CustomerId, Seat>,
) -> Vec<Option<CustomerId>> {
    let index: HashMap<(ShopId, &str, &str), CustomerId> = seats
        .values()
        .map(|s| {
            let c = &s.customer;
            (
                (c.shop_id, c.channel.as_str(), c.channel_user_id.as_str()),
                c.id,
            )
        })
        .collect();
    events
        .iter()
        .map(|stored| {
            let ev = &stored.event;
            let shop = (*shop_of_account.get(&(ev.channel, ev.account_id.as_str()))?)?;
            index
                .get(&(shop, ev.channel.as_str(), ev.sender_id.as_str()))
                .copied()
        })
        .collect()
}

/// Most events of a batch are each customer's only one; those that look at
/// orders get them in one read for the whole batch instead of several each.
async fn read_orders_ahead(
    tx: &mut Tx,
    events: &[StoredEvent],
    customers: &[Option<CustomerId>],
    seats: &mut HashMap<CustomerId, Seat>,
) -> Result<(), StoreError> {
    let mut seen = HashSet::new();
    let mut wants: HashMap<ShopId, Vec<(CustomerId, Option<i64>)>> = HashMap::new();
    for (stored, customer) in events.iter().zip(customers) {
        let Some(customer) = customer else { continue };
        if !seen.insert(*customer) {
            continue;
        }
        let Some(seat) = seats.get(customer) else {
            continue;
        };
        let kind = &stored.event.kind;
        let engine_input = !seat.bot_paused
            && !matches!(
                kind,
                InboundKind::Echo { .. }
                    | InboundKind::Standby { .. }
                    | InboundKind::Reaction { .. }
                    | InboundKind::Other { .. }
                    | InboundKind::Edit { .. }
            );
        if engine_input {
            let input = to_input(kind);
            if !browsing_only(&input) {
                wants
                    .entry(seat.customer.shop_id)
                    .or_default()
                    .push((*customer, referenced_order(&input, &seat.state)));
            }
        }
    }
    for (shop, wanted) in wants {
        let mut found = orders_of(tx, shop, &wanted, RECENT_ORDERS).await?;
        for (customer, also) in wanted {
            if let Some(seat) = seats.get_mut(&customer) {
                seat.orders = Some((also, found.remove(&customer).unwrap_or_default()));
            }
        }
    }
    Ok(())
}

/// Every customer of the batch with their conversation, in three reads
/// however many there are (a first-time customer costs a few more).
async fn load_seats(
    tx: &mut Tx,
    events: &[StoredEvent],
    shop_of_account: &ShopOfAccount<'_>,
    now: Timestamp,
) -> Result<HashMap<CustomerId, Seat>, StoreError> {
    let mut wanted: HashMap<(ShopId, Channel), Vec<&str>> = HashMap::new();
    for stored in events {
        let ev = &stored.event;
        if let Some(Some(shop)) = shop_of_account.get(&(ev.channel, ev.account_id.as_str())) {
            let ids = wanted.entry((*shop, ev.channel)).or_default();
            if !ids.contains(&ev.sender_id.as_str()) {
                ids.push(&ev.sender_id);
            }
        }
    }
    let mut found = Vec::new();
    for ((shop, channel), ids) in &wanted {
        let known = customers::find_many(tx, *shop, channel.as_str(), ids, now).await?;
        for id in ids {
            if !known.iter().any(|c| c.channel_user_id == *id) {
                found.push(customers::upsert(tx, *shop, channel.as_str(), id, now).await?);
            }
        }
        found.extend(known);
    }
    let ids: Vec<CustomerId> = found.iter().map(|c| c.id).collect();
    let mut conversations = conversations::load_many(tx, &ids).await?;
    let mut carts = cart::load_many(tx, &ids).await?;
    let mut seats = HashMap::with_capacity(found.len());
    for customer in found {
        let conv = match conversations.remove(&customer.id) {
            Some(c) => c,
            // A customer row without its conversation (never expected):
            // create it rather than fail every event of theirs.
            None => {
                customers::upsert(
                    tx,
                    customer.shop_id,
                    &customer.channel,
                    &customer.channel_user_id,
                    now,
                )
                .await?;
                conversations::Conversation {
                    state: "{}".into(),
                    last_inbound_at: None,
                    bot_paused: false,
                }
            }
        };
        seats.insert(
            customer.id,
            Seat {
                state: serde_json::from_str(&conv.state).unwrap_or_default(),
                bot_paused: conv.bot_paused,
                cart: carts.remove(&customer.id),
                orders: None,
                customer,
                customer_stale: false,
                state_dirty: false,
                change: conversations::Change::default(),
                renewed_window: false,
            },
        );
    }
    Ok(seats)
}

impl Batch<'_> {
    async fn process_event(
        &mut self,
        view: &ShopView,
        customer_id: CustomerId,
        stored: &StoredEvent,
        echo_was_ours: bool,
    ) -> Result<(), ProcessError> {
        let shop = &view.shop;
        let now = self.now;
        let ev = &stored.event;
        let at = Timestamp(ev.timestamp);
        let Some(seat) = self.seats.get_mut(&customer_id) else {
            return Ok(());
        };
        match &ev.kind {
            InboundKind::Echo { text, .. } => {
                if !echo_was_ours {
                    // A person answered from the Page inbox: hand over.
                    conversations::set_paused(&mut self.tx, shop.id, customer_id, true, now)
                        .await?;
                    seat.bot_paused = true;
                    self.pending.record(
                        seat,
                        Author::Page,
                        text.as_deref().unwrap_or(""),
                        None,
                        false,
                        now,
                    );
                }
            }
            InboundKind::Standby { text } => {
                self.pending.record(
                    seat,
                    Author::Customer,
                    text.as_deref().unwrap_or("[standby event]"),
                    None,
                    false,
                    now,
                );
            }
            InboundKind::Reaction { .. } | InboundKind::Other { .. } => {}
            kind => {
                if kind.renews_window() {
                    seat.change.touch_inbound(at);
                    seat.renewed_window = true;
                }
                let attachment_url = match kind {
                    InboundKind::Attachments { attachments, .. } => {
                        attachments.iter().find_map(|a| a.url.clone())
                    }
                    _ => None,
                };
                let body = kind.display_text().unwrap_or_default();
                if seat.bot_paused || matches!(kind, InboundKind::Edit { .. }) {
                    // Paused: the person in charge reads it; the bot stays silent.
                    let paused = seat.bot_paused;
                    self.pending.record(
                        seat,
                        Author::Customer,
                        &body,
                        attachment_url.as_deref(),
                        paused,
                        now,
                    );
                } else {
                    let inputs = to_inputs(kind);
                    let forwarded = self
                        .run_engine(view, customer_id, inputs, stored.id)
                        .await?;
                    if let Some(seat) = self.seats.get_mut(&customer_id) {
                        self.pending.record(
                            seat,
                            Author::Customer,
                            &body,
                            attachment_url.as_deref(),
                            forwarded,
                            now,
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

async fn run_after_commit(state: &AppState, job: AfterCommit) {
    match job {
        AfterCommit::WakeSlips => state.slips_wake.notify_one(),
        AfterCommit::Upload {
            shop,
            order,
            customer,
            path,
        } => match tokio::fs::read(&path).await {
            Ok(bytes) => {
                if let Err(e) =
                    super::slips::accept_upload(state, shop, order, customer, bytes, clock::now())
                        .await
                {
                    tracing::warn!(error = %e, "web chat slip upload was not accepted");
                }
                let _ = tokio::fs::remove_file(&path).await;
                state.outbox_wake.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "web chat upload vanished"),
        },
    }
}
