//! Messenger profiles due to be fetched: claimed with a lease (the due
//! time moves forward) so that several instances never fetch the same one,
//! and settled with the name, a refusal, or a later try.

use super::{Db, Result, col};
use crate::domain::{CustomerId, CustomerName, NameSource, ShopId, Timestamp};

/// One customer whose profile is due.
#[derive(Clone, Debug)]
pub struct Due {
    pub customer_id: CustomerId,
    pub shop_id: ShopId,
    pub psid: String,
    pub attempts: i64,
}

/// Claims up to `limit` due profiles, oldest first, moving each one's due
/// time `lease_ms` ahead: a crashed instance's claim comes back by itself.
pub async fn claim(db: &Db, now: Timestamp, lease_ms: i64, limit: i64) -> Result<Vec<Due>> {
    let mut tx = db.begin().await?;
    let lock = match db.backend {
        super::Backend::Sqlite => "",
        super::Backend::Postgres => " for update skip locked",
    };
    let rows = sqlx::query(&format!(
        "select id, shop_id, channel_user_id, profile_attempts from customers \
         where profile_due_at is not null and profile_due_at <= $1 and channel = 'messenger' \
         order by profile_due_at limit $2{lock}"
    ))
    .bind(now.millis())
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let due = Due {
            customer_id: CustomerId(col(r, "id")?),
            shop_id: ShopId(col(r, "shop_id")?),
            psid: col(r, "channel_user_id")?,
            attempts: col(r, "profile_attempts")?,
        };
        sqlx::query("update customers set profile_due_at = $1 where id = $2")
            .bind(now.millis() + lease_ms)
            .bind(due.customer_id.get())
            .execute(&mut *tx)
            .await?;
        out.push(due);
    }
    tx.commit().await?;
    Ok(out)
}

/// Meta answered: the name (unless the seller typed one) and the picture.
pub async fn fetched(
    db: &Db,
    id: CustomerId,
    name: Option<&CustomerName>,
    picture: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "update customers set picture_url = $1, profile_fetched_at = $2, profile_due_at = null, \
         profile_attempts = 0, profile_error = null where id = $3",
    )
    .bind(picture)
    .bind(now.millis())
    .bind(id.get())
    .execute(&mut *tx)
    .await?;
    if let Some(name) = name {
        super::customers::offer_name(&mut tx, id, name, NameSource::Messenger, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Meta refused (no permission, the user is gone): not asked again before
/// `retry_at`. The customer keeps the name of their first address, if any.
pub async fn refused(
    db: &Db,
    id: CustomerId,
    error: &str,
    now: Timestamp,
    retry_at: Option<Timestamp>,
) -> Result<()> {
    sqlx::query(
        "update customers set profile_fetched_at = $1, profile_due_at = null, profile_attempts = 0, \
         profile_error = $2 where id = $3",
    )
    .bind(now.millis())
    .bind(error.chars().take(300).collect::<String>())
    .bind(id.get())
    .execute(&db.writer)
    .await?;
    // A refusal is remembered as a fetch so a writing customer does not
    // bring it back before the refresh period; a sooner retry is explicit.
    if let Some(at) = retry_at {
        again_at(db, id, at, None).await?;
    }
    Ok(())
}

/// Try again at `at` (a transient error, or no send budget now).
pub async fn again_at(db: &Db, id: CustomerId, at: Timestamp, error: Option<&str>) -> Result<()> {
    let attempt = i64::from(error.is_some());
    sqlx::query(
        "update customers set profile_due_at = $1, profile_attempts = profile_attempts + $2, \
         profile_error = coalesce($3, profile_error) where id = $4",
    )
    .bind(at.millis())
    .bind(attempt)
    .bind(error.map(|e| e.chars().take(300).collect::<String>()))
    .bind(id.get())
    .execute(&db.writer)
    .await?;
    Ok(())
}
