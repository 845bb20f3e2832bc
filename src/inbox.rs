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
use crate::store::orders::{self, ApplyError, NewOrder, PlaceError};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::shops::{self, Shop};
use crate::store::{Db, StoreError, Tx, cart, catalog, customers, inbox};
use std::collections::HashMap;
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

/// The catalog as chat shows it, cached for a second per shop: a burst of
/// customers browsing does not re-read it per message. Stock shown may lag
/// by that second; stock is enforced when the order is placed.
type SharedCatalog = Arc<Vec<crate::domain::catalog::Product>>;

#[derive(Default)]
pub struct Catalogs {
    cache: Mutex<HashMap<ShopId, (SharedCatalog, Instant)>>,
}

const CATALOG_TTL: Duration = Duration::from_secs(1);

impl Catalogs {
    pub async fn get(
        &self,
        db: &Db,
        shop: ShopId,
    ) -> Result<Arc<Vec<crate::domain::catalog::Product>>, StoreError> {
        if let Ok(c) = self.cache.lock()
            && let Some((products, at)) = c.get(&shop)
            && at.elapsed() < CATALOG_TTL
        {
            return Ok(products.clone());
        }
        let products = Arc::new(catalog::list_products(db, shop, false).await?);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(shop, (products.clone(), Instant::now()));
        }
        Ok(products)
    }
}

// ------------------------------------------------------------------ worker

const LEASE_SECS: i64 = 30;
const MAX_EVENT_ATTEMPTS: i64 = 5;

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
        let worked = match run_once(&state, &owner, index).await {
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

/// One pass: pick customers with pending events, lease each, process.
pub async fn run_once(state: &AppState, owner: &str, index: usize) -> Result<usize, StoreError> {
    let senders = inbox::pending_senders(&state.db, 64).await?;
    let mut processed = 0;
    // Spread customers over workers so they do not all race for the same lease.
    for key in senders
        .iter()
        .skip(index % 4)
        .chain(senders.iter().take(index % 4))
    {
        if *state.stopping.borrow() {
            break;
        }
        if !inbox::lease(&state.db, key, owner, clock::now(), LEASE_SECS).await? {
            continue;
        }
        let result = process_sender(state, key).await;
        inbox::release(&state.db, key, owner).await?;
        processed += result?;
    }
    Ok(processed)
}

async fn process_sender(state: &AppState, key: &str) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let events = inbox::pending_for(&state.db, key, 50).await?;
        if events.is_empty() {
            return Ok(done);
        }
        for stored in events {
            let span = tracing::info_span!("inbound", event = stored.id, kind = stored.event.kind.name(), customer = %stored.event.sender_id);
            // Each event runs in its own task: a panic (a bug) fails that
            // event and is retried a few times, instead of killing the worker.
            let outcome = {
                let (st, ev) = (state.clone(), stored.clone());
                tokio::spawn(
                    async move { process_event(&st, &ev).await.map_err(|e| e.to_string()) }
                        .instrument(span),
                )
                .await
            };
            let result = match outcome {
                Ok(r) => r,
                Err(join) => {
                    state.metrics.incr("inbox_panics", 1);
                    tracing::error!(error = %join, "processing an inbound event panicked");
                    Err(format!("processing panicked: {join}"))
                }
            };
            match result {
                Ok(()) => done += 1,
                Err(e) => {
                    tracing::warn!(error = %e, "processing an inbound event failed; will retry");
                    inbox::record_failure(
                        &state.db,
                        stored.id,
                        &e.to_string(),
                        MAX_EVENT_ATTEMPTS,
                        clock::now(),
                    )
                    .await?;
                    // Later events of this customer wait, to keep the order.
                    return Ok(done);
                }
            }
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

async fn process_event(state: &AppState, stored: &inbox::StoredEvent) -> Result<(), ProcessError> {
    let ev = &stored.event;
    let now = clock::now();
    let Some(shop_id) = state
        .accounts
        .shop_for(&state.db, ev.channel, &ev.account_id)
        .await?
    else {
        tracing::info!(account = %ev.account_id, "event for an account no shop owns; ignored");
        let mut tx = state.db.begin().await?;
        inbox::finish(
            &mut tx,
            stored.id,
            "ignored",
            None,
            Some("no shop owns this account"),
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(());
    };
    let shop = match shops::get(&state.db, shop_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => {
            let mut tx = state.db.begin().await?;
            inbox::finish(
                &mut tx,
                stored.id,
                "ignored",
                None,
                Some("unknown shop"),
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    // Read what the engine may need before taking SQLite's write lock: a
    // task that holds it must never wait for a second pool connection.
    let catalog = state.catalogs.get(&state.db, shop.id).await?;
    let mut tx = state.db.begin().await?;
    let customer =
        customers::upsert(&mut tx, shop.id, ev.channel.as_str(), &ev.sender_id, now).await?;
    let conv = conversations::load(&mut tx, customer.id, state.db.lock_clause()).await?;
    let at = Timestamp(ev.timestamp);
    let mut after = Vec::new();
    let mut outbound = false;

    match &ev.kind {
        InboundKind::Echo { metadata, text, .. } => {
            let ours = match metadata.as_deref() {
                Some(key) => outbox::mark_delivered(&mut tx, shop.id, key, now).await?,
                None => false,
            };
            if !ours {
                // A person answered from the Page inbox: hand over.
                conversations::set_paused(&mut tx, shop.id, customer.id, true, now).await?;
                conversations::record(
                    &mut tx,
                    shop.id,
                    customer.id,
                    Author::Page,
                    text.as_deref().unwrap_or(""),
                    None,
                    None,
                    false,
                    now,
                )
                .await?;
            }
        }
        InboundKind::Standby { text } => {
            conversations::record(
                &mut tx,
                shop.id,
                customer.id,
                Author::Customer,
                text.as_deref().unwrap_or("[standby event]"),
                None,
                None,
                false,
                now,
            )
            .await?;
        }
        InboundKind::Reaction { .. } | InboundKind::Other { .. } => {}
        kind => {
            if kind.renews_window() {
                conversations::touch_inbound(&mut tx, customer.id, at).await?;
                if conversations::release_held(&mut tx, customer.id, now).await? > 0 {
                    outbound = true;
                }
            }
            let attachment_url = match kind {
                InboundKind::Attachments { attachments, .. } => {
                    attachments.iter().find_map(|a| a.url.clone())
                }
                _ => None,
            };
            let body = kind.display_text().unwrap_or_default();
            if conv.bot_paused || matches!(kind, InboundKind::Edit { .. }) {
                // Paused: the person in charge reads it; the bot stays silent.
                conversations::record(
                    &mut tx,
                    shop.id,
                    customer.id,
                    Author::Customer,
                    &body,
                    attachment_url.as_deref(),
                    None,
                    conv.bot_paused,
                    now,
                )
                .await?;
            } else {
                let input = to_input(kind);
                let forwarded = run_engine(
                    state,
                    &mut tx,
                    &shop,
                    &customer,
                    &conv.state,
                    &catalog,
                    input,
                    stored.id,
                    now,
                    &mut after,
                )
                .await?;
                conversations::record(
                    &mut tx,
                    shop.id,
                    customer.id,
                    Author::Customer,
                    &body,
                    attachment_url.as_deref(),
                    None,
                    forwarded,
                    now,
                )
                .await?;
                outbound = true;
            }
        }
    }
    inbox::finish(&mut tx, stored.id, "done", Some(shop.id.get()), None, now).await?;
    tx.commit().await?;
    state.metrics.incr("inbox_processed", 1);
    if outbound {
        state.outbox_wake.notify_one();
    }
    for job in after {
        match job {
            AfterCommit::WakeSlips => crate::slips::wake(),
            AfterCommit::Upload {
                shop,
                order,
                customer,
                path,
            } => match tokio::fs::read(&path).await {
                Ok(bytes) => {
                    if let Err(e) = crate::slips::accept_upload(
                        state,
                        shop,
                        order,
                        customer,
                        bytes,
                        clock::now(),
                    )
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
    Ok(())
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
    let rows = sqlx::query(
        "select id, created_at from orders where shop_id = $1 and customer_id = $2 and deleted_at is null \
         and (id in (select id from orders where shop_id = $1 and customer_id = $2 and deleted_at is null order by id desc limit 6) or id = $3) \
         order by id desc",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(also.unwrap_or(-1))
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        use sqlx::Row;
        let id: i64 = r.try_get("id")?;
        let created: i64 = r.try_get("created_at")?;
        let order = orders::load_in(tx, shop, OrderId(id), "").await?;
        out.push(OrderSummary {
            order,
            created_at: Timestamp(created),
        });
    }
    Ok(out)
}

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

/// Runs the engine and carries out its actions; returns whether the
/// customer's message was passed to the seller.
#[allow(clippy::too_many_arguments)]
async fn run_engine(
    state: &AppState,
    tx: &mut Tx,
    shop: &Shop,
    customer: &customers::Customer,
    state_json: &str,
    catalog: &[crate::domain::catalog::Product],
    first: Input,
    event_id: i64,
    now: Timestamp,
    after: &mut Vec<AfterCommit>,
) -> Result<bool, ProcessError> {
    let mut conv: State = serde_json::from_str(state_json).unwrap_or_default();
    let default_locale = customer
        .locale
        .clone()
        .unwrap_or_else(|| shop.locale.clone());
    let mut forwarded = false;
    let mut queue = vec![first];
    let mut said = 0usize;
    let mut rounds = 0;
    while let Some(input) = queue.pop() {
        rounds += 1;
        if rounds > 4 {
            break;
        }
        let cart_lines = cart::load(tx, customer.id).await?;
        // Browsing and cart taps never look at orders: skip those reads.
        let orders = if browsing_only(&input) {
            Vec::new()
        } else {
            load_orders(tx, shop.id, customer.id, referenced_order(&input, &conv)).await?
        };
        let fresh = customers::get_in(tx, shop.id, customer.id).await?;
        let (balance, saved_address) = (fresh.balance, fresh.address);
        let ctx = Context {
            shop_name: &shop.name,
            currency: shop.currency,
            default_locale: &default_locale,
            settings: &shop.settings,
            catalog,
            cart: &cart_lines,
            orders: &orders,
            customer_name: &customer.display_name,
            saved_address: saved_address.as_ref(),
            balance,
            texts: &state.texts,
            public_url: &state.config.public_url,
            now,
        };
        let (next, actions) = engine::step(&conv, &input, &ctx);
        conv = next;
        for action in actions {
            match action {
                Action::Say(message) => {
                    say(tx, shop, customer, event_id, &mut said, &message, now).await?;
                }
                Action::Cart(op) => match op {
                    CartOp::Add { variant, qty } => {
                        cart::add(tx, shop.id, customer.id, variant, qty, now).await?
                    }
                    CartOp::Set { variant, qty } => {
                        cart::set(tx, shop.id, customer.id, variant, qty, now).await?
                    }
                    CartOp::Clear => cart::clear(tx, customer.id).await?,
                },
                Action::SaveAddress(address) => {
                    customers::save_address(tx, customer.id, &address, now).await?
                }
                Action::PlaceOrder {
                    address,
                    shipping_fee,
                } => {
                    let items: Vec<_> = cart_lines.iter().map(|l| (l.variant, l.qty)).collect();
                    let new = NewOrder {
                        customer: customer.id,
                        channel: customer.channel.clone(),
                        items,
                        address: Some(address),
                        method: None,
                        shipping_fee: Some(shipping_fee),
                    };
                    Db::savepoint(tx, "place_order").await?;
                    match orders::place_in_tx(tx, shop, new, now).await {
                        Ok(order) => {
                            Db::savepoint_end(tx, "place_order", true).await?;
                            cart::clear(tx, customer.id).await?;
                            tracing::info!(order = %order.code, "order placed from chat");
                            queue.push(Input::OrderPlaced { order: order.id });
                        }
                        Err(e) => {
                            Db::savepoint_end(tx, "place_order", false).await?;
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
                    let name = command.to_string();
                    Db::savepoint(tx, "order_command").await?;
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
                        Ok(_) => {
                            Db::savepoint_end(tx, "order_command", true).await?;
                            queue.push(Input::CommandDone {
                                order,
                                command: name,
                            });
                        }
                        Err(ApplyError::Store(s)) => {
                            Db::savepoint_end(tx, "order_command", false).await?;
                            return Err(s.into());
                        }
                        Err(e) => {
                            Db::savepoint_end(tx, "order_command", false).await?;
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
                            customer: customer.id,
                            path,
                        });
                    } else {
                        crate::slips::enqueue_from_url(tx, shop.id, order, customer.id, &url, now)
                            .await?;
                        after.push(AfterCommit::WakeSlips);
                    }
                }
                Action::SendPaymentQr { order } => {
                    let o = orders::load_in(tx, shop.id, order, "").await?;
                    match crate::slips::payment_qr_image_url(state, shop, &o).await {
                        Ok(url) => {
                            say(
                                tx,
                                shop,
                                customer,
                                event_id,
                                &mut said,
                                &Message::Image { url },
                                now,
                            )
                            .await?
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
                    .bind(customer.id.get())
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
    let json = serde_json::to_string(&conv).unwrap_or_else(|_| "{}".into());
    conversations::save_state(tx, customer.id, &json, now).await?;
    Ok(forwarded)
}

async fn say(
    tx: &mut Tx,
    shop: &Shop,
    customer: &customers::Customer,
    event_id: i64,
    said: &mut usize,
    message: &Message,
    now: Timestamp,
) -> Result<(), StoreError> {
    // Keyed by the inbound event, so reprocessing cannot queue twice.
    let key = format!("in:{event_id}:{said}");
    *said += 1;
    outbox::enqueue_to(
        tx,
        shop.id,
        customer.id,
        &customer.channel,
        &customer.channel_user_id,
        &key,
        &OutboundPayload::Message {
            message: message.clone(),
        },
        now,
    )
    .await?;
    conversations::record(
        tx,
        shop.id,
        customer.id,
        Author::Bot,
        &message.plain(),
        None,
        None,
        false,
        now,
    )
    .await?;
    Ok(())
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
