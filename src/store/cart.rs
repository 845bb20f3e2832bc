//! Carts live in the database, so they survive restarts and days.

use super::{Result, Tx, col};
use crate::domain::{CustomerId, ShopId, Timestamp, VariantId};
use crate::engine::CartLine;

pub async fn load(tx: &mut Tx, customer: CustomerId) -> Result<Vec<CartLine>> {
    let rows = sqlx::query(
        "select variant_id, qty from cart_items where customer_id = $1 order by added_at, id",
    )
    .bind(customer.get())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CartLine {
                variant: VariantId(col(r, "variant_id")?),
                qty: col(r, "qty")?,
            })
        })
        .collect()
}

/// Several customers' carts in one read; a customer with no lines gets an
/// empty cart.
pub async fn load_many(
    tx: &mut Tx,
    customers: &[CustomerId],
) -> Result<std::collections::HashMap<CustomerId, Vec<CartLine>>> {
    let backend = super::backend_of(tx);
    let mut carts: std::collections::HashMap<CustomerId, Vec<CartLine>> =
        customers.iter().map(|c| (*c, Vec::new())).collect();
    for chunk in customers.chunks(500) {
        let sql = format!(
            "select customer_id, variant_id, qty from cart_items where customer_id in ({}) order by customer_id, added_at, id",
            super::placeholders(backend, 0, chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.get());
        }
        for r in q.fetch_all(&mut **tx).await? {
            carts
                .entry(CustomerId(col(&r, "customer_id")?))
                .or_default()
                .push(CartLine {
                    variant: VariantId(col(&r, "variant_id")?),
                    qty: col(&r, "qty")?,
                });
        }
    }
    Ok(carts)
}

pub async fn add(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    variant: VariantId,
    qty: i64,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "insert into cart_items (shop_id, customer_id, variant_id, qty, added_at) values ($1, $2, $3, $4, $5) \
         on conflict (customer_id, variant_id) do update set qty = cart_items.qty + excluded.qty",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(variant.get())
    .bind(qty)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    variant: VariantId,
    qty: i64,
    now: Timestamp,
) -> Result<()> {
    if qty <= 0 {
        sqlx::query("delete from cart_items where customer_id = $1 and variant_id = $2")
            .bind(customer.get())
            .bind(variant.get())
            .execute(&mut **tx)
            .await?;
        return Ok(());
    }
    sqlx::query(
        "insert into cart_items (shop_id, customer_id, variant_id, qty, added_at) values ($1, $2, $3, $4, $5) \
         on conflict (customer_id, variant_id) do update set qty = excluded.qty",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(variant.get())
    .bind(qty)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn clear(tx: &mut Tx, customer: CustomerId) -> Result<()> {
    sqlx::query("delete from cart_items where customer_id = $1")
        .bind(customer.get())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
