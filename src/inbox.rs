//! Inbound events: the group-commit intake behind the webhooks, and the
//! worker that runs the engine for one customer at a time, in order.

use crate::channels::{AttachmentKind, Channel, InboundEvent, InboundKind};
use crate::clock;
use crate::domain::lifecycle::Actor;
use crate::domain::order::Command;
use crate::domain::{CustomerId, OrderId, ShopId, Timestamp};
use crate::engine::{
    self, Action, CartOp, Context, Input, Message, OrderSummary, PlaceProblem, State,
};
use crate::server::AppState;
use crate::store::conversations::{self, Author};
use crate::store::inbox::StoredEvent;
use crate::store::orders::{self, ApplyError, NewOrder, PlaceError};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::shops::{self, Shop};
use crate::store::{Db, StoreError, Tx, cart, catalog, customers, inbox};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;

// ------------------------------------------------------------------ intake

type Reply = oneshot::Sender<Result<u64, String>>;

/// Hands webhook events to one writer task that stores many requests'
/// events in one transaction (group commit): one fsync for many 200s.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<(Vec<InboundEvent>, Reply)>,
}

#[derive(Debug, thiserror::Error)]
#[error("the inbox could not store the events: {0}")]
pub struct IntakeError(pub String);

impl Intake {
    pub fn start(db: Db, wake: Arc<Notify>) -> (Intake, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4096);
        let handle = tokio::spawn(writer(db, rx, wake));
        (Intake { tx }, handle)
    }

    /// Returns once the events are durable; only then may the webhook say 200.
    pub async fn store(&self, events: Vec<InboundEvent>) -> Result<u64, IntakeError> {
        if events.is_empty() {
            return Ok(0);
        }
        let (reply, wait) = oneshot::channel();
        self.tx
            .send((events, reply))
            .await
            .map_err(|_| IntakeError("intake stopped".into()))?;
        wait.await
            .map_err(|_| IntakeError("intake stopped".into()))?
            .map_err(IntakeError)
    }
}

const MAX_BATCH_EVENTS: usize = 2000;

async fn writer(db: Db, mut rx: mpsc::Receiver<(Vec<InboundEvent>, Reply)>, wake: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let mut count = batch[0].0.len();
        while count < MAX_BATCH_EVENTS {
            match rx.try_recv() {
                Ok(more) => {
                    count += more.0.len();
                    batch.push(more);
                }
                Err(_) => break,
            }
        }
        let events: Vec<InboundEvent> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
        let result = inbox::insert_batch(&db, &events, clock::now())
            .await
            .map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, events = events.len(), "inbox write failed");
        }
        for (_, reply) in batch {
            let _ = reply.send(result.clone());
        }
        if result.is_ok() {
            wake.notify_one();
        }
    }
}

/// Page id → shop, cached briefly so intake does not query per request.
/// One map per channel, looked up by `&str` so intake allocates nothing.
type AccountCache = HashMap<String, (Option<ShopId>, Instant)>;

#[derive(Default)]
pub struct Accounts {
    cache: Mutex<[AccountCache; 2]>,
}

const ACCOUNT_TTL: Duration = Duration::from_secs(10);

impl Accounts {
    pub async fn shop_for(
        &self,
        db: &Db,
        channel: Channel,
        account: &str,
    ) -> Result<Option<ShopId>, StoreError> {
        if channel == Channel::Webchat {
            return Ok(account.parse().ok().map(ShopId));
        }
        let slot = usize::from(channel == Channel::Instagram);
        if let Ok(c) = self.cache.lock()
            && let Some((shop, at)) = c[slot].get(account)
            && at.elapsed() < ACCOUNT_TTL
        {
            return Ok(*shop);
        }
        // Instagram accounts are bound under their own channel name, but a
        // Page id may also carry its Instagram traffic.
        let mut found = shops::find_channel(db, channel.as_str(), account)
            .await?
            .map(|a| a.shop_id);
        if found.is_none() && channel == Channel::Instagram {
            found = shops::find_channel(db, "messenger", account)
                .await?
                .map(|a| a.shop_id);
        }
        if let Ok(mut c) = self.cache.lock() {
            c[slot].insert(account.to_string(), (found, Instant::now()));
        }
        Ok(found)
    }
}

/// A shop and its catalog as chat shows them, cached for a second per
/// shop: a burst of customers does not re-read them per message. Stock
/// shown may lag by that second; stock is enforced when the order is
/// placed. Settings changed in the console apply within the second.
type SharedCatalog = Arc<Vec<crate::domain::catalog::Product>>;

pub struct ShopView {
    pub shop: Shop,
    pub catalog: SharedCatalog,
    /// The Pages and accounts the shop is bound to, for sending.
    pub accounts: Vec<shops::ChannelAccount>,
}

#[derive(Default)]
pub struct ShopViews {
    cache: Mutex<HashMap<ShopId, (Arc<ShopView>, Instant)>>,
}

const SHOP_VIEW_TTL: Duration = Duration::from_secs(1);

impl ShopViews {
    /// Drops the cached view, so a change made here applies at once (other
    /// instances see it within the second).
    pub fn forget(&self, shop: ShopId) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(&shop);
        }
    }

    /// `None` when the shop does not exist.
    pub async fn get(&self, db: &Db, shop: ShopId) -> Result<Option<Arc<ShopView>>, StoreError> {
        if let Ok(c) = self.cache.lock()
            && let Some((view, at)) = c.get(&shop)
            && at.elapsed() < SHOP_VIEW_TTL
        {
            return Ok(Some(view.clone()));
        }
        let shop_row = match shops::get(db, shop).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let catalog = Arc::new(catalog::list_products(db, shop, false).await?);
        let accounts = shops::channels_of(db, shop).await?;
        let view = Arc::new(ShopView {
            shop: shop_row,
            catalog,
            accounts,
        });
        if let Ok(mut c) = self.cache.lock() {
            c.insert(shop, (view.clone(), Instant::now()));
        }
        Ok(Some(view))
    }
}

// ------------------------------------------------------------------ worker

/// A pass takes well under a second; a crashed instance's customers wait
/// this long before another worker may take them.
const LEASE_SECS: i64 = 10;
const MAX_EVENT_ATTEMPTS: i64 = 5;
/// Customers taken per pass, and events per customer. One pass is one
/// transaction, so these bound how long it holds SQLite's writer.
const BATCH_CUSTOMERS: i64 = 96;
const EVENTS_PER_CUSTOMER: i64 = 8;

pub fn spawn_workers(state: &AppState, n: usize) -> Vec<JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let state = state.clone();
            tokio::spawn(async move { worker_loop(state, i).await })
        })
        .collect()
}

async fn worker_loop(state: AppState, index: usize) {
    let owner = format!("{}-{}", state.instance_id, index);
    let mut stopping = state.stopping.clone();
    loop {
        if *stopping.borrow() {
            break;
        }
        let worked = match run_once(&state, &owner).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::warn!(error = %e, "inbox worker pass failed");
                false
            }
        };
        if !worked {
            tokio::select! {
                _ = state.inbox_wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stopping.changed() => {}
            }
        }
    }
}

/// One pass: lease customers with pending events and take their events
/// through the engine together, in one transaction.
pub async fn run_once(state: &AppState, owner: &str) -> Result<usize, StoreError> {
    let now = clock::now();
    let senders = inbox::pending_senders(&state.db, now, BATCH_CUSTOMERS).await?;
    let leased = inbox::lease_many(&state.db, &senders, owner, now, LEASE_SECS).await?;
    if leased.is_empty() {
        return Ok(0);
    }
    // Another worker may have finished some of them between the two reads:
    // the events are read only now that the leases are ours.
    let result = match inbox::pending_for_many(&state.db, &leased, EVENTS_PER_CUSTOMER).await {
        Ok(events) => process_leased(state, events).await,
        Err(e) => Err(e),
    };
    inbox::release_many(&state.db, &leased, owner).await?;
    result
}

async fn process_leased(state: &AppState, events: Vec<StoredEvent>) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let count = events.len();
    let Err(e) = run_isolated(state, events.clone()).await else {
        return Ok(count);
    };
    // Something in the batch failed (or panicked): undo it all, then one
    // event per transaction, so only the culprit is retried and only its
    // customer's later events wait.
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

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
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

/// One customer during a batch: what the engine reads, kept current in
/// memory, and what changed in their conversation, written at the end.
struct Seat {
    customer: customers::Customer,
    /// Re-read before next use: an order or address changed it in SQL.
    customer_stale: bool,
    state: State,
    bot_paused: bool,
    /// `None` until read, and again after any cart change.
    cart: Option<Vec<engine::CartLine>>,
    /// Read ahead with the batch for the first event, and for the order it
    /// refers to; used once.
    orders: Option<(Option<i64>, Vec<OrderSummary>)>,
    state_dirty: bool,
    change: conversations::Change,
    renewed_window: bool,
}

impl Seat {
    async fn customer(&mut self, tx: &mut Tx) -> Result<&customers::Customer, StoreError> {
        if self.customer_stale {
            self.customer = customers::get_in(tx, self.customer.shop_id, self.customer.id).await?;
            self.customer_stale = false;
        }
        Ok(&self.customer)
    }

    /// Keeps the orders the engine just saw, with the one this batch
    /// placed or changed as written, for the step that follows: its reply
    /// needs no second read.
    fn remember_order(
        &mut self,
        mut list: Vec<OrderSummary>,
        order: crate::domain::Order,
        placed_at: Timestamp,
        next: &Input,
    ) {
        match list.iter_mut().find(|s| s.order.id == order.id) {
            Some(known) => known.order = order,
            None => {
                list.insert(
                    0,
                    OrderSummary {
                        order,
                        created_at: placed_at,
                    },
                );
                list.truncate(RECENT_ORDERS as usize);
            }
        }
        self.orders = Some((referenced_order(next, &self.state), list));
    }

    async fn cart(&mut self, tx: &mut Tx) -> Result<Vec<engine::CartLine>, StoreError> {
        if self.cart.is_none() {
            self.cart = Some(cart::load(tx, self.customer.id).await?);
        }
        Ok(self.cart.clone().unwrap_or_default())
    }
}

/// Writes gathered over a batch and issued as a few multi-row statements
/// at its end; queued replies go first before anything that queues its
/// own (placing an order queues its notices), so order holds.
#[derive(Default)]
struct Pending {
    outbound: Vec<outbox::NewOutbound>,
    messages: Vec<conversations::NewMessage>,
    finished: Vec<(i64, &'static str, Option<i64>, Option<&'static str>)>,
}

impl Pending {
    fn record(
        &mut self,
        seat: &mut Seat,
        author: Author,
        body: &str,
        attachment_url: Option<&str>,
        needs_seller: bool,
        now: Timestamp,
    ) {
        seat.change.count_message(needs_seller, now);
        self.messages.push(conversations::NewMessage {
            shop: seat.customer.shop_id,
            customer: seat.customer.id,
            author,
            body: body.to_string(),
            attachment_url: attachment_url.map(str::to_string),
            needs_seller,
            at: now,
        });
    }

    /// Queues a reply, keyed by the inbound event so reprocessing cannot
    /// queue it twice.
    fn say(
        &mut self,
        seat: &mut Seat,
        event_id: i64,
        said: &mut usize,
        message: &Message,
        now: Timestamp,
    ) {
        let key = format!("in:{event_id}:{said}");
        *said += 1;
        self.outbound.push(outbox::NewOutbound {
            shop: seat.customer.shop_id,
            customer: seat.customer.id,
            channel: seat.customer.channel.clone(),
            recipient: seat.customer.channel_user_id.clone(),
            key,
            payload: OutboundPayload::Message {
                message: message.clone(),
            },
        });
        self.record(seat, Author::Bot, &message.plain(), None, false, now);
    }

    /// Queues the replies gathered so far. Enough before an action that
    /// queues messages of its own (an order's notices): replies go out in
    /// the order they were queued. The rest waits for [`Pending::flush`],
    /// as nothing else in the batch reads it back from SQL.
    async fn flush_outbound(&mut self, tx: &mut Tx, now: Timestamp) -> Result<(), StoreError> {
        if !self.outbound.is_empty() {
            outbox::enqueue_many(tx, &self.outbound, now).await?;
            self.outbound.clear();
        }
        Ok(())
    }

    async fn flush(
        &mut self,
        tx: &mut Tx,
        seats: &mut HashMap<CustomerId, Seat>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        outbox::enqueue_many(tx, &self.outbound, now).await?;
        self.outbound.clear();
        conversations::insert_messages(tx, &self.messages).await?;
        self.messages.clear();
        let mut renewed = Vec::new();
        let mut changes = Vec::new();
        for (id, seat) in seats.iter_mut() {
            if std::mem::take(&mut seat.state_dirty) {
                seat.change.state =
                    Some(serde_json::to_string(&seat.state).unwrap_or_else(|_| "{}".into()));
            }
            if !seat.change.is_empty() {
                changes.push((*id, std::mem::take(&mut seat.change)));
            }
            if std::mem::take(&mut seat.renewed_window) {
                renewed.push(*id);
            }
        }
        conversations::apply_changes(tx, &changes, now).await?;
        conversations::release_held_many(tx, &renewed, now).await?;
        // Most of a batch finishes the same way: one statement per kind.
        self.finished
            .sort_by_key(|(_, status, shop, error)| (*status, *shop, *error));
        for group in self
            .finished
            .chunk_by(|a, b| (a.1, a.2, a.3) == (b.1, b.2, b.3))
        {
            let ids: Vec<i64> = group.iter().map(|f| f.0).collect();
            let (_, status, shop, error) = group[0];
            inbox::finish_many(tx, &ids, status, shop, error, now).await?;
        }
        self.finished.clear();
        Ok(())
    }
}

/// Takes a batch of events (grouped by customer, each customer's in order)
/// through the engine in ONE transaction: its effects, replies and the
/// events' "done" commit together, so each takes effect exactly once.
async fn process_batch(state: &AppState, events: &[StoredEvent]) -> Result<(), ProcessError> {
    let now = clock::now();
    // Read what the engine may need before taking SQLite's write lock: a
    // task that holds it must never wait for a second pool connection.
    let mut shop_of_account: HashMap<(Channel, &str), Option<ShopId>> = HashMap::new();
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
    let mut pending = Pending::default();
    let mut seats = load_seats(&mut tx, events, &shop_of_account).await?;
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    let still = inbox::still_pending(&mut tx, &ids).await?;
    let events: Vec<StoredEvent> = events
        .iter()
        .filter(|e| still.contains(&e.id))
        .cloned()
        .collect();
    let events = events.as_slice();
    let customer_of = customer_of_event(events, &shop_of_account, &seats);
    let mut after = Vec::new();
    read_orders_ahead(&mut tx, events, &customer_of, &mut seats).await?;
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
        ours.extend(outbox::mark_delivered_many(&mut tx, shop, &keys, now).await?);
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
            pending.finished.push((
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
        process_event(
            state,
            &mut tx,
            view,
            &mut seats,
            customer_id,
            stored,
            echo_was_ours,
            &mut pending,
            &mut after,
            now,
        )
        .await?;
        pending
            .finished
            .push((stored.id, "done", Some(view.shop.id.get()), None));
    }
    pending.flush(&mut tx, &mut seats, now).await?;
    tx.commit().await?;
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
    shop_of_account: &HashMap<(Channel, &str), Option<ShopId>>,
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
        let mut found = orders_of(tx, shop, &wanted).await?;
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
    shop_of_account: &HashMap<(Channel, &str), Option<ShopId>>,
) -> Result<HashMap<CustomerId, Seat>, StoreError> {
    let now = clock::now();
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
        let known = customers::find_many(tx, *shop, channel.as_str(), ids).await?;
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

#[allow(clippy::too_many_arguments)]
async fn process_event(
    state: &AppState,
    tx: &mut Tx,
    view: &ShopView,
    seats: &mut HashMap<CustomerId, Seat>,
    customer_id: CustomerId,
    stored: &StoredEvent,
    echo_was_ours: bool,
    pending: &mut Pending,
    after: &mut Vec<AfterCommit>,
    now: Timestamp,
) -> Result<(), ProcessError> {
    let shop = &view.shop;
    let ev = &stored.event;
    let at = Timestamp(ev.timestamp);
    let Some(seat) = seats.get_mut(&customer_id) else {
        return Ok(());
    };
    match &ev.kind {
        InboundKind::Echo { text, .. } => {
            if !echo_was_ours {
                // A person answered from the Page inbox: hand over.
                conversations::set_paused(tx, shop.id, customer_id, true, now).await?;
                seat.bot_paused = true;
                pending.record(
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
            pending.record(
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
                pending.record(
                    seat,
                    Author::Customer,
                    &body,
                    attachment_url.as_deref(),
                    paused,
                    now,
                );
            } else {
                let input = to_input(kind);
                let forwarded = run_engine(
                    state,
                    tx,
                    view,
                    seats,
                    customer_id,
                    input,
                    stored.id,
                    pending,
                    after,
                    now,
                )
                .await?;
                if let Some(seat) = seats.get_mut(&customer_id) {
                    pending.record(
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

async fn run_after_commit(state: &AppState, job: AfterCommit) {
    match job {
        AfterCommit::WakeSlips => crate::slips::wake(),
        AfterCommit::Upload {
            shop,
            order,
            customer,
            path,
        } => match tokio::fs::read(&path).await {
            Ok(bytes) => {
                if let Err(e) =
                    crate::slips::accept_upload(state, shop, order, customer, bytes, clock::now())
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

/// Runs the engine and carries out its actions; returns whether the
/// customer's message was passed to the seller.
#[allow(clippy::too_many_arguments)]
async fn run_engine(
    state: &AppState,
    tx: &mut Tx,
    view: &ShopView,
    seats: &mut HashMap<CustomerId, Seat>,
    customer_id: CustomerId,
    first: Input,
    event_id: i64,
    pending: &mut Pending,
    after: &mut Vec<AfterCommit>,
    now: Timestamp,
) -> Result<bool, ProcessError> {
    let shop = &view.shop;
    let mut forwarded = false;
    let mut queue = vec![first];
    let mut said = 0usize;
    let mut rounds = 0;
    while let Some(input) = queue.pop() {
        rounds += 1;
        if rounds > 4 {
            break;
        }
        let Some(seat) = seats.get_mut(&customer_id) else {
            break;
        };
        let cart_lines = seat.cart(tx).await?;
        // Browsing and cart taps never look at orders: skip those reads.
        let orders = if browsing_only(&input) {
            Vec::new()
        } else {
            let also = referenced_order(&input, &seat.state);
            match seat.orders.take() {
                Some((read_for, list)) if read_for == also => list,
                _ => load_orders(tx, shop.id, customer_id, also).await?,
            }
        };
        let customer = seat.customer(tx).await?.clone();
        let default_locale = customer
            .locale
            .clone()
            .unwrap_or_else(|| shop.locale.clone());
        let ctx = Context {
            shop_name: &shop.name,
            currency: shop.currency,
            default_locale: &default_locale,
            settings: &shop.settings,
            catalog: &view.catalog,
            cart: &cart_lines,
            orders: &orders,
            customer_name: &customer.display_name,
            saved_address: customer.address.as_ref(),
            balance: customer.balance,
            texts: &state.texts,
            public_url: &state.config.public_url,
            now,
        };
        let (next, actions) = engine::step(&seat.state, &input, &ctx);
        seat.state = next;
        seat.state_dirty = true;
        for action in actions {
            let Some(seat) = seats.get_mut(&customer_id) else {
                break;
            };
            match action {
                Action::Say(message) => pending.say(seat, event_id, &mut said, &message, now),
                Action::Cart(op) => {
                    match op {
                        CartOp::Add { variant, qty } => {
                            cart::add(tx, shop.id, customer_id, variant, qty, now).await?
                        }
                        CartOp::Set { variant, qty } => {
                            cart::set(tx, shop.id, customer_id, variant, qty, now).await?
                        }
                        CartOp::Clear => cart::clear(tx, customer_id).await?,
                    }
                    seat.cart = None;
                }
                Action::SaveAddress(address) => {
                    customers::save_address(tx, customer_id, &address, now).await?;
                    seat.customer.phone = Some(address.phone.as_str().to_string());
                    seat.customer.address = Some(address);
                }
                Action::PlaceOrder {
                    address,
                    shipping_fee,
                } => {
                    // The order queues its own notices: what this batch
                    // said before must be queued first.
                    pending.flush_outbound(tx, now).await?;
                    let items: Vec<_> = cart_lines.iter().map(|l| (l.variant, l.qty)).collect();
                    let new = NewOrder {
                        customer: customer_id,
                        channel: customer.channel.clone(),
                        items,
                        address: Some(address),
                        method: None,
                        shipping_fee: Some(shipping_fee),
                    };
                    // A refusal must undo the lines already reserved. With
                    // one line it is refused before anything is written, and
                    // a database error fails the whole batch anyway.
                    let guarded = new.items.len() > 1;
                    if guarded {
                        Db::savepoint(tx, "place_order").await?;
                    }
                    match orders::place_in_tx(tx, shop, new, now).await {
                        Ok(order) => {
                            if guarded {
                                Db::savepoint_end(tx, "place_order", true).await?;
                            }
                            cart::clear(tx, customer_id).await?;
                            tracing::info!(order = %order.code, "order placed from chat");
                            let next = Input::OrderPlaced { order: order.id };
                            // Placing empties the cart and leaves the
                            // customer row alone; a refusal changes nothing.
                            if let Some(seat) = seats.get_mut(&customer_id) {
                                seat.cart = Some(Vec::new());
                                if !browsing_only(&input) {
                                    seat.remember_order(orders.clone(), order, now, &next);
                                }
                            }
                            queue.push(next);
                        }
                        Err(e) => {
                            if guarded {
                                Db::savepoint_end(tx, "place_order", false).await?;
                            }
                            let reason = match e {
                                PlaceError::OutOfStock { name, .. } => {
                                    PlaceProblem::OutOfStock { name }
                                }
                                PlaceError::Empty => PlaceProblem::EmptyCart,
                                PlaceError::Store(s) => return Err(s.into()),
                                _ => PlaceProblem::Other,
                            };
                            queue.push(Input::OrderNotPlaced { reason });
                        }
                    }
                }
                Action::Order { order, command } => {
                    pending.flush_outbound(tx, now).await?;
                    let name = command.to_string();
                    match orders::apply_in_tx(
                        tx,
                        &state.db,
                        shop,
                        order,
                        command,
                        &Actor::Customer,
                        now,
                    )
                    .await
                    {
                        Ok(applied) => {
                            let next = Input::CommandDone {
                                order,
                                command: name,
                            };
                            if let Some(seat) = seats.get_mut(&customer_id) {
                                // Only a ledger entry changes the customer row.
                                seat.customer_stale |= !applied.plan.ledger.is_empty();
                                if !browsing_only(&input) {
                                    seat.remember_order(orders.clone(), applied.order, now, &next);
                                }
                            }
                            queue.push(next);
                        }
                        Err(ApplyError::Store(s)) => return Err(s.into()),
                        Err(e) => {
                            queue.push(Input::CommandRefused {
                                order,
                                reason: e.to_string(),
                            });
                        }
                    }
                }
                Action::AcceptSlip { order, url } => {
                    if let Some(name) = url.strip_prefix("upload:") {
                        let path =
                            crate::channels::webchat::upload_path(&state.config.media_dir, name);
                        after.push(AfterCommit::Upload {
                            shop: shop.id,
                            order,
                            customer: customer_id,
                            path,
                        });
                    } else {
                        pending.flush_outbound(tx, now).await?;
                        crate::slips::enqueue_from_url(tx, shop.id, order, customer_id, &url, now)
                            .await?;
                        after.push(AfterCommit::WakeSlips);
                    }
                }
                Action::SendPaymentQr { order } => {
                    let o = orders::load_in(tx, shop.id, order, "").await?;
                    match crate::slips::payment_qr_image_url(state, shop, &o).await {
                        Ok(url) => {
                            pending.say(seat, event_id, &mut said, &Message::Image { url }, now)
                        }
                        Err(e) => tracing::warn!(error = %e, "payment QR could not be made"),
                    }
                }
                Action::Complaint {
                    order,
                    text,
                    image_url,
                } => {
                    sqlx::query(
                        "insert into complaints (shop_id, order_id, customer_id, body, image_path, status, created_at) values ($1, $2, $3, $4, $5, 'open', $6)",
                    )
                    .bind(shop.id.get())
                    .bind(order.get())
                    .bind(customer_id.get())
                    .bind(&text)
                    .bind(&image_url)
                    .bind(now.millis())
                    .execute(&mut **tx)
                    .await?;
                    forwarded = true;
                }
                Action::ForwardToShop { .. } => forwarded = true,
            }
        }
    }
    Ok(forwarded)
}

fn to_input(kind: &InboundKind) -> Input {
    match kind {
        InboundKind::Text { text } | InboundKind::Edit { text, .. } => Input::Text(text.clone()),
        InboundKind::QuickReply { payload, .. } => Input::Tap(payload.clone()),
        InboundKind::Postback { payload, .. } => Input::Tap(payload.clone()),
        InboundKind::Referral { referral } => Input::Referral(referral.clone()),
        InboundKind::Attachments { attachments, text } => {
            if let Some(url) = attachments
                .iter()
                .find(|a| a.kind == AttachmentKind::Image)
                .and_then(|a| a.url.clone())
            {
                Input::Image { url }
            } else if attachments
                .iter()
                .any(|a| a.kind == AttachmentKind::Sticker)
            {
                Input::Sticker
            } else if let Some(a) = attachments.first() {
                Input::OtherAttachment(format!("{:?}", a.kind).to_lowercase())
            } else {
                Input::Text(text.clone().unwrap_or_default())
            }
        }
        _ => Input::Text(String::new()),
    }
}

/// Orders the engine may see: the customer's recent ones, plus any a
/// button or the current step refers to.
async fn load_orders(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    also: Option<i64>,
) -> Result<Vec<OrderSummary>, StoreError> {
    let mut many = orders_of(tx, shop, &[(customer, also)]).await?;
    Ok(many.remove(&customer).unwrap_or_default())
}

/// Several customers' recent orders (plus the one each refers to) at once.
/// A referenced order counts only if it is that customer's own.
async fn orders_of(
    tx: &mut Tx,
    shop: ShopId,
    wants: &[(CustomerId, Option<i64>)],
) -> Result<HashMap<CustomerId, Vec<OrderSummary>>, StoreError> {
    let customers: Vec<CustomerId> = wants.iter().map(|(c, _)| *c).collect();
    let also: Vec<OrderId> = wants.iter().filter_map(|(_, a)| a.map(OrderId)).collect();
    let mut out: HashMap<CustomerId, Vec<OrderSummary>> =
        customers.iter().map(|c| (*c, Vec::new())).collect();
    for (order, created_at) in
        orders::recent_of_customers(tx, shop, &customers, &also, RECENT_ORDERS).await?
    {
        if let Some(list) = out.get_mut(&order.customer_id) {
            list.push(OrderSummary { order, created_at });
        }
    }
    Ok(out)
}

/// Orders the engine shows a customer ("view orders" and the like).
const RECENT_ORDERS: i64 = 6;

/// Taps whose whole path through the engine ignores the customer's orders.
fn browsing_only(input: &Input) -> bool {
    const BROWSE: &[&str] = &[
        "GET_STARTED",
        "MENU",
        "MENU_PRODUCTS",
        "PRODUCTS",
        "CAT",
        "PAGE",
        "CATPAGE",
        "ADD",
        "BUY",
        "VAR",
        "QTY",
        "MENU_CART",
        "CART",
        "EDIT",
        "SETQTY",
        "EMPTY",
        "CHECKOUT",
        "ADDR_SAVED",
        "ADDR_NEW",
        "MENU_TALK",
        "TALK",
    ];
    match input {
        Input::Tap(p) => BROWSE.contains(&p.split(':').next().unwrap_or("")),
        _ => false,
    }
}

/// The order id a tap payload or the conversation step points at.
fn referenced_order(input: &Input, state: &State) -> Option<i64> {
    if let Input::Tap(p) = input {
        let parts: Vec<&str> = p.split(':').collect();
        let idx = match parts.first().copied() {
            Some("PAY") => 2,
            Some(_) => 1,
            None => return None,
        };
        if let Some(id) = parts.get(idx).and_then(|s| s.parse().ok()) {
            return Some(id);
        }
    }
    match state.stage {
        engine::Stage::AwaitingSlip { order }
        | engine::Stage::ChoosePayment { order }
        | engine::Stage::ConfirmCancel { order }
        | engine::Stage::OrderMoreQty { order, .. }
        | engine::Stage::Complaint { order } => Some(order),
        _ => None,
    }
}

/// Hold timers: remind before an unpaid order's hold lapses, then cancel
/// it and release its stock. Driven from the database, so it survives
/// restarts and runs once across instances (the order's version guards it).
pub async fn expire_holds(state: &AppState, now: Timestamp) -> Result<usize, StoreError> {
    let rows = sqlx::query(
        "select o.id, o.shop_id, o.hold_until from orders o where o.hold_until is not null and o.fulfilment = 'placed' \
         and o.payment_status in ('unpaid', 'rejected') and o.deleted_at is null order by o.hold_until limit 200",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let mut n = 0;
    for r in &rows {
        use sqlx::Row;
        let id = OrderId(r.try_get("id")?);
        let shop_id = ShopId(r.try_get("shop_id")?);
        let hold_until = Timestamp(r.try_get("hold_until")?);
        let shop = shops::get(&state.db, shop_id).await?;
        if hold_until <= now {
            match orders::apply(&state.db, &shop, id, Command::Expire, &Actor::System, now).await {
                Ok(_) => n += 1,
                Err(ApplyError::Rejected(_)) | Err(ApplyError::NotFound) => {}
                Err(e) => tracing::warn!(error = %e, order = %id, "expiring an order failed"),
            }
        } else if hold_until.millis() - now.millis()
            <= shop.settings.reminder_before_hours * 3_600_000
        {
            let mut tx = state.db.begin().await?;
            let fresh = sqlx::query("insert into timers (shop_id, kind, ref_id, due_at, status) values ($1, 'hold_reminder', $2, $3, 'done') on conflict (kind, ref_id) do nothing")
                .bind(shop_id.get())
                .bind(id.get())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if fresh == 1 {
                let order = orders::load_in(&mut tx, shop_id, id, "").await?;
                let hours_left =
                    ((hold_until.millis() - now.millis()) as f64 / 3_600_000.0).ceil() as i64;
                let payload = OutboundPayload::Notice {
                    order_id: id,
                    order_code: order.code.clone(),
                    notice: crate::domain::order::Notice::HoldReminder { hours_left },
                };
                outbox::enqueue(
                    &mut tx,
                    shop_id,
                    order.customer_id,
                    &format!("hold:{id}:reminder"),
                    &payload,
                    now,
                )
                .await?;
                n += 1;
            }
            tx.commit().await?;
        }
    }
    if n > 0 {
        state.outbox_wake.notify_one();
    }
    Ok(n)
}

pub fn spawn_timers(state: &AppState) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut stopping = state.stopping.clone();
        loop {
            if let Err(e) = expire_holds(&state, clock::now()).await {
                tracing::warn!(error = %e, "hold timer pass failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                _ = stopping.changed() => {}
            }
            if *stopping.borrow() {
                break;
            }
        }
    })
}
