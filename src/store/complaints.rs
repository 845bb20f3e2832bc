//! Complaints a customer files about an order from chat.

use super::{Result, Tx};
use crate::domain::{CustomerId, OrderId, ShopId, Timestamp};

pub async fn open(
    tx: &mut Tx,
    shop: ShopId,
    order: OrderId,
    customer: CustomerId,
    body: &str,
    image_path: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "insert into complaints (shop_id, order_id, customer_id, body, image_path, status, created_at) values ($1, $2, $3, $4, $5, 'open', $6)",
    )
    .bind(shop.get())
    .bind(order.get())
    .bind(customer.get())
    .bind(body)
    .bind(image_path)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether a complaint keeps this picture (`upload:<name>`).
pub async fn references_picture(db: &super::Db, reference: &str) -> Result<bool> {
    let row = sqlx::query("select 1 as one from complaints where image_path = $1 limit 1")
        .bind(reference)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}
