//! Who of the shop handles an order: set, changed or cleared, with a line
//! in the order's history.

use super::{Db, Result, StoreError, col};
use crate::domain::{OrderId, ShopId, Timestamp};

/// Assigns the order to `person` (`None`: nobody); returns who had it.
pub async fn assign(
    db: &Db,
    shop: ShopId,
    order: OrderId,
    person: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<Option<String>> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(&format!(
        "select assigned_to from orders where id = $1 and shop_id = $2 and deleted_at is null{}",
        db.lock_clause()
    ))
    .bind(order.get())
    .bind(shop.get())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let before: Option<String> = col(&row, "assigned_to")?;
    if before.as_deref() != person {
        sqlx::query(
            "update orders set assigned_to = $1, updated_at = $2 where id = $3 and shop_id = $4",
        )
        .bind(person)
        .bind(now.millis())
        .bind(order.get())
        .bind(shop.get())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into order_history (order_id, shop_id, machine, from_state, to_state, event, actor, reason, at) \
             values ($1, $2, 'assignment', $3, $4, 'assign', $5, null, $6)",
        )
        .bind(order.get())
        .bind(shop.get())
        .bind(before.as_deref().unwrap_or(""))
        .bind(person.unwrap_or(""))
        .bind(actor)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(before)
}
