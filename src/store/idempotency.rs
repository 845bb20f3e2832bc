//! `Idempotency-Key` for the seller's actions: the first request with a key
//! claims it inside the action's own transaction and stores its response
//! there, so a double submit replays the first answer and does nothing twice.
//!
//! Claiming is `insert .. on conflict do nothing`: on PostgreSQL a second
//! transaction with the same key waits for the first to commit and then
//! sees the stored response; SQLite's single writer serialises the same way.

use super::{Db, Result, Tx, col};
use crate::domain::{ShopId, Timestamp};

/// A stored answer to replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub request_hash: String,
    pub status: u16,
    pub response: String,
}

/// Claims `key` for this request. `false` means it was used before: the
/// caller rolls back and replays [`find`].
pub async fn claim(
    tx: &mut Tx,
    shop: ShopId,
    key: &str,
    request_hash: &str,
    now: Timestamp,
) -> Result<bool> {
    let n = sqlx::query(
        "insert into idempotency_keys (shop_id, key, request_hash, status, response, created_at) \
         values ($1, $2, $3, 0, '', $4) on conflict (shop_id, key) do nothing",
    )
    .bind(shop.get())
    .bind(key)
    .bind(request_hash)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Stores the answer for a claimed key, in the same transaction.
pub async fn complete(
    tx: &mut Tx,
    shop: ShopId,
    key: &str,
    status: u16,
    response: &str,
) -> Result<()> {
    sqlx::query(
        "update idempotency_keys set status = $1, response = $2 where shop_id = $3 and key = $4",
    )
    .bind(i64::from(status))
    .bind(response)
    .bind(shop.get())
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, shop: ShopId, key: &str) -> Result<Option<Stored>> {
    let row = sqlx::query(
        "select request_hash, status, response from idempotency_keys where shop_id = $1 and key = $2",
    )
    .bind(shop.get())
    .bind(key)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(Stored {
            request_hash: col(&r, "request_hash")?,
            status: u16::try_from(col::<i64>(&r, "status")?).unwrap_or(0),
            response: col(&r, "response")?,
        })
    })
    .transpose()
}

/// Forgets keys older than `before` (a day is plenty for double submits).
pub async fn purge(db: &Db, before: Timestamp) -> Result<u64> {
    Ok(
        sqlx::query("delete from idempotency_keys where created_at < $1")
            .bind(before.millis())
            .execute(&db.writer)
            .await?
            .rows_affected(),
    )
}

/// Records a key and its answer after the fact, in a transaction of its
/// own; a key someone already recorded is left as it was.
pub async fn remember(
    db: &Db,
    shop: ShopId,
    key: &str,
    request_hash: &str,
    response: &str,
    now: Timestamp,
) -> Result<()> {
    let mut tx = db.begin().await?;
    if claim(&mut tx, shop, key, request_hash, now).await? {
        complete(&mut tx, shop, key, 200, response).await?;
        super::commit(tx).await?;
    }
    Ok(())
}
