//! Messages that did not reach the customer: held (outside Meta's 24-hour
//! window with no template to send them as) or failed (out of retries, or
//! refused by Meta). The seller sees them and retries, sends one as the
//! shop's utility template, or marks it handled.

use super::outbox::OutboundPayload;
use super::{Db, Result, StoreError, Tx, col};
use crate::domain::{CustomerId, OrderId, ShopId, Timestamp};

/// One held or failed message, with what the seller needs to act on it.
#[derive(Clone, Debug)]
pub struct Undelivered {
    pub id: i64,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub customer_locale: Option<String>,
    pub order_id: Option<OrderId>,
    /// `held` or `failed`.
    pub status: String,
    pub payload: OutboundPayload,
    /// Why it did not go: the hold's reason or the last error.
    pub reason: String,
    pub attempts: i64,
    pub created_at: Timestamp,
    /// When the customer last wrote: whether the 24-hour window is open.
    pub last_inbound_at: Option<Timestamp>,
}

const SELECT: &str = "select o.id, o.customer_id, c.display_name, c.locale, o.order_id, o.status, o.payload, \
     coalesce(o.held_reason, o.last_error, '') as reason, o.attempts, o.created_at, v.last_inbound_at \
     from outbox_messages o join customers c on c.id = o.customer_id \
     left join conversations v on v.customer_id = o.customer_id";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Undelivered> {
    let raw: String = col(r, "payload")?;
    Ok(Undelivered {
        id: col(r, "id")?,
        customer_id: CustomerId(col(r, "customer_id")?),
        customer_name: col(r, "display_name")?,
        customer_locale: col(r, "locale")?,
        order_id: col::<Option<i64>>(r, "order_id")?.map(OrderId),
        status: col(r, "status")?,
        payload: serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        reason: col(r, "reason")?,
        attempts: col(r, "attempts")?,
        created_at: Timestamp(col(r, "created_at")?),
        last_inbound_at: col::<Option<i64>>(r, "last_inbound_at")?.map(Timestamp),
    })
}

/// The shop's held and failed messages, newest first; only those about
/// `order` when given. A payload this version cannot read is skipped
/// (it was failed as unreadable, and nothing can be done with it here).
pub async fn list(
    db: &Db,
    shop: ShopId,
    order: Option<OrderId>,
    limit: i64,
) -> Result<Vec<Undelivered>> {
    let rows = sqlx::query(&format!(
        "{SELECT} where o.shop_id = $1 and o.status in ('held', 'failed') \
         and ($2 = 0 or o.order_id = $2) order by o.id desc limit $3"
    ))
    .bind(shop.get())
    .bind(order.map_or(0, OrderId::get))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().filter_map(|r| from_row(r).ok()).collect())
}

/// How many the shop has, for the console's menu.
pub async fn count(db: &Db, shop: ShopId) -> Result<i64> {
    let row = sqlx::query(
        "select count(*) as n from outbox_messages where shop_id = $1 and status in ('held', 'failed')",
    )
    .bind(shop.get())
    .fetch_one(&db.pool)
    .await?;
    col(&row, "n")
}

/// One of the shop's messages, locked for a decision. Sent and handled
/// ones are returned too, so the caller can say why nothing can be done.
pub async fn get_for_update(tx: &mut Tx, shop: ShopId, id: i64) -> Result<Undelivered> {
    let lock = match super::backend_of(tx) {
        super::Backend::Sqlite => "",
        super::Backend::Postgres => " for update of o",
    };
    let row = sqlx::query(&format!(
        "{SELECT} where o.shop_id = $1 and o.id = $2{lock}"
    ))
    .bind(shop.get())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Back in line, due now, with its retries restored.
pub async fn requeue(tx: &mut Tx, id: i64, via_template: bool, now: Timestamp) -> Result<()> {
    sqlx::query(
        "update outbox_messages set status = 'pending', attempts = 0, next_attempt_at = $1, lease_until = null, \
         held_reason = null, via_template = $2 where id = $3 and status in ('held', 'failed')",
    )
    .bind(now.millis())
    .bind(i64::from(via_template))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The seller dealt with it another way: it never goes out, not even when
/// the customer writes again.
pub async fn mark_handled(tx: &mut Tx, id: i64, by: &str, now: Timestamp) -> Result<()> {
    sqlx::query(
        "update outbox_messages set status = 'handled', handled_at = $1, handled_by = $2, lease_until = null \
         where id = $3 and status in ('held', 'failed')",
    )
    .bind(now.millis())
    .bind(by)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
