//! Timers driven from the database: which unpaid orders' holds are due,
//! and a once-only mark per reminder.

use super::{Db, Result, Tx, col};
use crate::domain::{OrderId, ShopId, Timestamp};

pub struct HoldDue {
    pub order: OrderId,
    pub shop: ShopId,
    pub hold_until: Timestamp,
}

/// Unpaid orders still held, soonest first.
pub async fn holds(db: &Db, limit: i64) -> Result<Vec<HoldDue>> {
    let rows = sqlx::query(
        "select o.id, o.shop_id, o.hold_until from orders o where o.hold_until is not null and o.fulfilment = 'placed' \
         and o.payment_status in ('unpaid', 'rejected') and o.deleted_at is null order by o.hold_until limit $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HoldDue {
                order: OrderId(col(r, "id")?),
                shop: ShopId(col(r, "shop_id")?),
                hold_until: Timestamp(col(r, "hold_until")?),
            })
        })
        .collect()
}

/// Marks the hold reminder of an order as sent; `false` when it already was.
pub async fn mark_hold_reminded(
    tx: &mut Tx,
    shop: ShopId,
    order: OrderId,
    now: Timestamp,
) -> Result<bool> {
    let fresh = sqlx::query("insert into timers (shop_id, kind, ref_id, due_at, status) values ($1, 'hold_reminder', $2, $3, 'done') on conflict (kind, ref_id) do nothing")
        .bind(shop.get())
        .bind(order.get())
        .bind(now.millis())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(fresh == 1)
}

/// The hold of an order lapsed in a shop where that does not cancel: the
/// order stays open, its stock held, until the seller decides.
pub async fn end_hold(db: &Db, shop: ShopId, order: OrderId) -> Result<()> {
    sqlx::query("update orders set hold_until = null where id = $1 and shop_id = $2")
        .bind(order.get())
        .bind(shop.get())
        .execute(&db.writer)
        .await?;
    Ok(())
}
