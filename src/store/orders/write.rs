//! Applying a domain decision in the caller's transaction: the order row
//! (guarded by `version`), lines, fees, history, stock, ledger, tab counts
//! and the customer's pushes.

use super::json;
use crate::domain::lifecycle::{Actor, Fulfilment, PaymentStatus, Transition};
use crate::domain::order::{LedgerMove, Order, OrderError, Plan, StockMove};
use crate::domain::{ShopId, Timestamp};
use crate::store::customers::{self, BalanceError};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::shops::Shop;
use crate::store::{Result, StoreError, Tx, catalog};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("order not found")]
    NotFound,
    #[error(transparent)]
    Rejected(#[from] OrderError),
    #[error("{0} is out of stock")]
    OutOfStock(String),
    #[error(transparent)]
    Balance(customers::BalanceError),
    /// The seller's role lacks a permission this order needs.
    #[error("the {role} role may not {}", permission.describe())]
    Denied {
        permission: crate::domain::access::Permission,
        role: crate::domain::access::Role,
    },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApplyError::NotFound,
            other => ApplyError::Store(other),
        }
    }
}
impl From<sqlx::Error> for ApplyError {
    fn from(e: sqlx::Error) -> Self {
        ApplyError::Store(e.into())
    }
}

/// The outcome of a command: the order as it is now and what was decided.
#[derive(Debug)]
pub struct Applied {
    pub order: Order,
    pub plan: Plan,
}

/// Writes a decision. The order row is updated only if nobody changed it
/// since `before` was read; otherwise `Stale` and the caller retries.
pub async fn write_plan(
    tx: &mut Tx,
    shop: &Shop,
    before: &Order,
    plan: &Plan,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), ApplyError> {
    let after = &plan.order;
    update_order_row(tx, shop, before, after, now).await?;
    update_changed_lines(tx, before, after).await?;
    if before.fees != after.fees || before.services != after.services {
        replace_fees(tx, after).await?;
    }
    for t in &plan.transitions {
        insert_history(tx, after, t, actor, plan.reason.as_deref(), now).await?;
    }
    move_stock(tx, after, &plan.stock).await?;
    post_ledger(tx, shop, after, &plan.ledger, actor, now).await?;
    for r in &plan.payments {
        crate::store::payments::insert_record(tx, shop.id, after.id, r, actor, now).await?;
    }
    for r in &plan.resolutions {
        crate::store::payments::resolve(tx, shop.id, r.payment_id, &r.note, actor, now).await?;
    }
    if (before.fulfilment, before.payment) != (after.fulfilment, after.payment) {
        move_count(
            tx,
            shop.id,
            (before.fulfilment, before.payment),
            (after.fulfilment, after.payment),
        )
        .await?;
    }
    queue_notices(tx, shop, before, plan, now).await
}

/// The conditional update on `version` that makes a concurrent change lose
/// with `Stale` rather than overwrite. An order back to awaiting money keeps
/// (or starts) its hold; any other state drops it.
async fn update_order_row(
    tx: &mut Tx,
    shop: &Shop,
    before: &Order,
    after: &Order,
    now: Timestamp,
) -> Result<(), ApplyError> {
    // Only checked totals are stored: `remaining` is what is owed, ≥ 0.
    let totals = after
        .checked_totals()
        .map_err(|e| ApplyError::Rejected(OrderError::BadInput(e.to_string())))?;
    let awaiting_money = after.fulfilment == Fulfilment::Placed
        && matches!(
            after.payment,
            PaymentStatus::Unpaid | PaymentStatus::Rejected
        );
    let address_json = after.address.as_ref().map(json).transpose()?;
    let n = sqlx::query(
        "update orders set fulfilment = $1, payment_status = $2, payment_method = $3, address = $4, subtotal = $5, \
         shipping_fee = $6, service_fees = $7, discount = $8, total = $9, paid = $10, remaining = $11, carrier = $12, \
         tracking = $13, hold_until = case when $14 = 1 then coalesce(hold_until, $19) else null end, version = version + 1, updated_at = $15, \
         tracking_status = $20 where id = $16 and shop_id = $17 and version = $18",
    )
    .bind(after.fulfilment.as_str())
    .bind(after.payment.as_str())
    .bind(after.method.map(|m| m.as_str()))
    .bind(address_json)
    .bind(totals.subtotal.minor)
    .bind(totals.shipping_fee.minor)
    .bind(totals.service_fees.minor)
    .bind(totals.discount.minor)
    .bind(totals.total.minor)
    .bind(totals.paid.minor)
    .bind(totals.remaining.minor)
    .bind(&after.carrier)
    .bind(&after.tracking)
    .bind(i64::from(awaiting_money))
    .bind(now.millis())
    .bind(after.id.get())
    .bind(shop.id.get())
    .bind(before.version)
    .bind(now.plus_secs(shop.settings.hold_hours.max(1) * 3600).millis())
    .bind(after.tracking_status.map(|t| t.as_str()))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(ApplyError::Store(StoreError::Stale));
    }
    Ok(())
}

/// Only the lines the decision changed are written.
async fn update_changed_lines(
    tx: &mut Tx,
    before: &Order,
    after: &Order,
) -> Result<(), ApplyError> {
    for line in &after.lines {
        if before.lines.iter().any(|b| b == line) {
            continue;
        }
        sqlx::query(
            "update order_lines set unit_price = $1, qty = $2, status = $3, proposed_unit_price = $4, proposed_qty = $5 \
             where id = $6 and order_id = $7",
        )
        .bind(line.unit_price)
        .bind(line.qty)
        .bind(line.status.as_str())
        .bind(line.proposed_unit_price)
        .bind(line.proposed_qty)
        .bind(line.id)
        .bind(after.id.get())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Fees and services have no identity of their own: the list is replaced
/// whole.
async fn replace_fees(tx: &mut Tx, after: &Order) -> Result<(), ApplyError> {
    sqlx::query("delete from order_fees where order_id = $1")
        .bind(after.id.get())
        .execute(&mut **tx)
        .await?;
    for fee in &after.fees {
        sqlx::query("insert into order_fees (order_id, label, amount) values ($1, $2, $3)")
            .bind(after.id.get())
            .bind(fee.label.trim())
            .bind(fee.amount)
            .execute(&mut **tx)
            .await?;
    }
    for s in &after.services {
        sqlx::query(
            "insert into order_fees (order_id, label, amount, service, charging, done) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(after.id.get())
        .bind(s.name.trim())
        .bind(s.price)
        .bind(&s.id)
        .bind(s.charged.as_str())
        .bind(i64::from(s.done))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Reserves (negative moves) or releases stock; a reservation that does
/// not fit fails the whole decision.
async fn move_stock(tx: &mut Tx, after: &Order, moves: &[StockMove]) -> Result<(), ApplyError> {
    for m in moves {
        if m.delta < 0 {
            if !catalog::reserve(tx, m.variant_id, -m.delta).await? {
                let name = after
                    .lines
                    .iter()
                    .find(|l| l.variant_id == m.variant_id)
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                return Err(ApplyError::OutOfStock(name));
            }
        } else {
            catalog::release(tx, m.variant_id, m.delta).await?;
        }
    }
    Ok(())
}

/// Refunds and payments from the customer's shop balance.
async fn post_ledger(
    tx: &mut Tx,
    shop: &Shop,
    after: &Order,
    ledger: &[LedgerMove],
    actor: &Actor,
    now: Timestamp,
) -> Result<(), ApplyError> {
    for l in ledger {
        let post = customers::LedgerPost {
            shop: shop.id,
            customer: after.customer_id,
            kind: l.kind,
            amount: l.amount,
            order: Some(after.id),
            note: Some(after.code.as_str()),
            actor: &actor.to_db(),
            allow_negative: shop.settings.allow_negative_balance,
        };
        customers::post(tx, &post, now).await.map_err(|e| match e {
            BalanceError::Store(s) => ApplyError::Store(s),
            other => ApplyError::Balance(other),
        })?;
    }
    Ok(())
}

async fn queue_notices(
    tx: &mut Tx,
    shop: &Shop,
    before: &Order,
    plan: &Plan,
    now: Timestamp,
) -> Result<(), ApplyError> {
    let after = &plan.order;
    for (i, notice) in plan.notices.iter().enumerate() {
        let payload = OutboundPayload::Notice {
            order_id: after.id,
            order_code: after.code.clone(),
            notice: notice.clone(),
        };
        // The version makes the key unique per decision, so a retried
        // request cannot queue the same push twice.
        let key = format!("order:{}:v{}:{}", after.id, before.version + 1, i);
        outbox::enqueue(tx, shop.id, after.customer_id, &key, &payload, now).await?;
    }
    Ok(())
}

pub(super) async fn insert_history(
    tx: &mut Tx,
    order: &Order,
    t: &Transition,
    actor: &Actor,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "insert into order_history (order_id, shop_id, machine, from_state, to_state, event, actor, reason, at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(order.id.get())
    .bind(order.shop_id.get())
    .bind(t.machine)
    .bind(t.from)
    .bind(t.to)
    .bind(t.event)
    .bind(actor.to_db())
    .bind(reason)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn bump_count(
    tx: &mut Tx,
    shop: ShopId,
    f: Fulfilment,
    p: PaymentStatus,
    by: i64,
) -> Result<()> {
    sqlx::query(
        "insert into order_status_counts (shop_id, fulfilment, payment_status, n) values ($1, $2, $3, $4) \
         on conflict (shop_id, fulfilment, payment_status) do update set n = order_status_counts.n + excluded.n",
    )
    .bind(shop.get())
    .bind(f.as_str())
    .bind(p.as_str())
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An order moved from one tab pair to another: both counters in one
/// statement (the two keys differ, so neither row is touched twice).
async fn move_count(
    tx: &mut Tx,
    shop: ShopId,
    from: (Fulfilment, PaymentStatus),
    to: (Fulfilment, PaymentStatus),
) -> Result<()> {
    sqlx::query(
        "insert into order_status_counts (shop_id, fulfilment, payment_status, n) values ($1, $2, $3, -1), ($1, $4, $5, 1) \
         on conflict (shop_id, fulfilment, payment_status) do update set n = order_status_counts.n + excluded.n",
    )
    .bind(shop.get())
    .bind(from.0.as_str())
    .bind(from.1.as_str())
    .bind(to.0.as_str())
    .bind(to.1.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
