//! Order commands: read the order, let the domain decide, write the plan
//! — order, lines, fees, history, stock, ledger, counters and the
//! customer's pushes — in one transaction guarded by the order's version.

use crate::domain::access::{self, Role};
use crate::domain::lifecycle::Actor;
use crate::domain::order::{self, Command};
use crate::domain::{OrderId, Timestamp};
use crate::store::shops::Shop;
use crate::store::{self, Db, StoreError, Tx, customers, idempotency, orders};
use futures_util::future::BoxFuture;

pub use crate::store::orders::{Applied, ApplyError};

/// Tries of a transaction that keeps meeting a concurrent change.
const STALE_TRIES: u32 = 5;

/// Errors that say "someone changed it first; run it again".
pub trait Stale {
    fn is_stale(&self) -> bool;
}

/// A changed version, or a unique key another transaction took first (two
/// slips with the same bank reference): a fresh read sees the winner.
impl Stale for StoreError {
    fn is_stale(&self) -> bool {
        matches!(self, StoreError::Stale) || self.is_unique_violation()
    }
}

impl Stale for ApplyError {
    fn is_stale(&self) -> bool {
        matches!(self, ApplyError::Store(s) if s.is_stale())
    }
}

/// Runs `work` in one transaction and commits what it returns `Ok` for.
/// When a row it read was changed by someone else first (an order's
/// version), the transaction is rolled back and `work` runs again from a
/// fresh read, so no update is lost. The transaction is handed in and
/// back so `work` may borrow from its caller.
pub async fn transaction<'a, T, E>(
    db: &Db,
    mut work: impl FnMut(Tx) -> BoxFuture<'a, (Tx, Result<T, E>)>,
) -> Result<T, E>
where
    E: From<StoreError> + Stale,
{
    let mut tries = 0;
    loop {
        tries += 1;
        let tx = db.begin().await?;
        let (tx, result) = work(tx).await;
        match result {
            Ok(value) => {
                store::commit(tx).await?;
                return Ok(value);
            }
            Err(e) if e.is_stale() && tries < STALE_TRIES => {
                drop(tx);
                continue;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs `command` against the stored order in its own transaction.
pub async fn apply(
    db: &Db,
    shop: &Shop,
    id: OrderId,
    command: Command,
    actor: &Actor,
    now: Timestamp,
) -> Result<Applied, ApplyError> {
    transaction(db, |mut tx| {
        let command = command.clone();
        Box::pin(async move {
            let r = apply_in_tx(&mut tx, shop, id, command, actor, now).await;
            (tx, r)
        })
    })
    .await
}

/// The same inside the caller's transaction (so a payment row, a slip or a
/// conversation state can change together with the order). `Stale` means
/// the caller should roll back and retry. A command refused halfway (stock,
/// balance) leaves nothing behind, so a caller whose transaction goes on
/// after a refusal (the inbox's batch) keeps only what succeeded; the
/// savepoint that takes is set only for plans that can be refused after
/// their first write.
pub async fn apply_in_tx(
    tx: &mut Tx,
    shop: &Shop,
    id: OrderId,
    command: Command,
    actor: &Actor,
    now: Timestamp,
) -> Result<Applied, ApplyError> {
    let before = orders::load_locked(tx, shop.id, id).await?;
    apply_loaded(tx, shop, before, command, actor, now).await
}

/// The same on an order the caller has just read locked in `tx`.
pub(super) async fn apply_loaded(
    tx: &mut Tx,
    shop: &Shop,
    before: order::Order,
    command: Command,
    actor: &Actor,
    now: Timestamp,
) -> Result<Applied, ApplyError> {
    let command = match command {
        Command::PayFromBalance { .. } => Command::PayFromBalance {
            available: customers::balance_in(tx, before.customer_id).await?,
            allow_negative: shop.settings.allow_negative_balance,
        },
        Command::ResolvePayment {
            payment_id, note, ..
        } => Command::ResolvePayment {
            row: store::payments::open_row(tx, shop.id, before.id, payment_id).await?,
            payment_id,
            note,
        },
        Command::AddService { service, .. } => Command::AddService {
            offer: shop.settings.service(&service).cloned(),
            service,
        },
        // A carrier of the shop's is written its own way, so what it owes
        // adds up under one name.
        Command::Ship { carrier, tracking } => Command::Ship {
            carrier: shop
                .settings
                .carrier(&carrier)
                .map(|(name, _)| name.to_string())
                .unwrap_or(carrier),
            tracking,
        },
        other => other,
    };
    let plan = order::decide_with(&before, command, actor, shop.settings.money_rules())?;
    let guarded = plan.stock.iter().any(|m| m.delta < 0) || !plan.ledger.is_empty();
    if guarded {
        Db::savepoint(tx, "order_command").await?;
    }
    let written = orders::write_plan(tx, shop, &before, &plan, actor, now).await;
    if guarded {
        Db::savepoint_end(tx, "order_command", written.is_ok()).await?;
    }
    written?;
    let mut order = plan.order.clone();
    order.version = before.version + 1;
    Ok(Applied { order, plan })
}

/// Who acts for the shop: the name history rows carry, and the role whose
/// permissions the order (as the transaction reads it) is checked against.
pub struct Seller {
    pub actor: Actor,
    pub role: Role,
}

/// A seller's idempotency key and the hash of the request it came with.
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// What a seller's action came to.
pub enum Acted<R> {
    /// Applied now; `R` is what the caller rendered of it (and stored
    /// with the key, in the same transaction).
    Done(R),
    /// The key was used before: answer as then.
    Replay,
}

/// A seller's command on an order. With an idempotency key, the key is
/// claimed and its answer stored in the command's own transaction, so a
/// double submit changes the order once and queues one push. `render`
/// turns the result into the answer kept with the key.
pub async fn act<R: Send>(
    db: &Db,
    shop: &Shop,
    id: OrderId,
    command: Command,
    seller: &Seller,
    key: Option<&Idempotency>,
    render: impl Fn(&mut Tx, Applied) -> BoxFuture<'_, Result<(R, String), StoreError>> + Sync,
) -> Result<Acted<R>, ApplyError> {
    if key.is_some() && crate::clock::random_bytes::<1>()[0] == 0 {
        // Now and then, forget keys older than a day (double submits are
        // seconds apart); a failure here only delays the cleanup.
        let day_ago = crate::clock::now().plus_secs(-86_400);
        let _ = idempotency::purge(db, day_ago).await;
    }
    let render = &render;
    transaction(db, |mut tx| {
        let command = command.clone();
        Box::pin(async move {
            let r = act_in_tx(&mut tx, shop, id, command, seller, key, render).await;
            (tx, r)
        })
    })
    .await
}

async fn act_in_tx<R>(
    tx: &mut Tx,
    shop: &Shop,
    id: OrderId,
    command: Command,
    seller: &Seller,
    key: Option<&Idempotency>,
    render: &(impl Fn(&mut Tx, Applied) -> BoxFuture<'_, Result<(R, String), StoreError>> + Sync),
) -> Result<Acted<R>, ApplyError> {
    let now = crate::clock::now();
    if let Some(k) = key
        && !idempotency::claim(tx, shop.id, &k.key, &k.request_hash, now).await?
    {
        return Ok(Acted::Replay);
    }
    // The permission is checked against the order as this transaction
    // holds it, so an order paid a moment ago needs the refund permission
    // to be cancelled, whatever the seller's screen showed.
    let before = orders::load_locked(tx, shop.id, id).await?;
    let needed = access::needed_for(&command, &before);
    if let Some(permission) = needed.into_iter().find(|p| !seller.role.may(*p)) {
        return Err(ApplyError::Denied {
            permission,
            role: seller.role,
        });
    }
    let applied = apply_loaded(tx, shop, before, command, &seller.actor, now).await?;
    let (rendered, stored) = render(tx, applied).await?;
    if let Some(k) = key {
        idempotency::complete(tx, shop.id, &k.key, 200, &stored).await?;
    }
    Ok(Acted::Done(rendered))
}
